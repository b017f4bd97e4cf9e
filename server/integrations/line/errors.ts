/** LINE Messaging API error bodies (`{"message": …, "details": [{ "property", "message" }]}`), read safely. */

/** The `message` of LINE's error body (its first 200 characters when it is not LINE's JSON). */
export function lineErrorMessage(body: string): string {
	try {
		const parsed = JSON.parse(body) as { message?: unknown };
		return typeof parsed.message === 'string' ? parsed.message : body.slice(0, 200);
	} catch {
		return body.slice(0, 200);
	}
}

/** Up to three `details` of LINE's error body, as " (property: message; …)", or "". */
export function lineErrorDetails(body: string): string {
	try {
		const parsed = JSON.parse(body) as { details?: Array<{ message?: string; property?: string }> };
		if (!Array.isArray(parsed.details) || parsed.details.length === 0) return '';
		return ` (${parsed.details.slice(0, 3).map((d) => `${d.property ?? ''}: ${d.message ?? ''}`).join('; ')})`;
	} catch {
		return '';
	}
}
