/**
 * How one push attempt ends, from the LINE Messaging API's answer — pure, so the outbox's
 * behaviour under every status is unit-testable. The retry key makes retries safe: LINE
 * answers 409 when a request with the same key was already accepted, which is a success.
 */

export type Outcome =
	| { kind: 'sent'; requestId: string | null }
	| { kind: 'retry'; reason: string }
	| { kind: 'failed'; reason: string };

export interface PushErrorFacts {
	/** HTTP status, or null for a network error or timeout. */
	status: number | null;
	body: string;
	headers: { get(name: string): string | null } | null;
}

/** LINE's retry key is honoured for 24 h after the first request; we stop a little earlier. */
export const RETRY_WINDOW_MS = 23 * 3_600_000;

export function classifyPushError(e: PushErrorFacts): Outcome {
	if (e.status === null) return { kind: 'retry', reason: 'network error or timeout' };
	const message = lineMessage(e.body);
	if (e.status === 409) return { kind: 'sent', requestId: e.headers?.get('x-line-accepted-request-id') ?? null };
	if (e.status === 429) {
		// The monthly message quota does not come back by waiting a few seconds.
		if (/monthly limit/i.test(message)) return { kind: 'failed', reason: `monthly_limit: ${message}` };
		return { kind: 'retry', reason: `rate_limited: ${message || '429'}` };
	}
	if (e.status >= 500) return { kind: 'retry', reason: `line_${e.status}: ${message}` };
	return { kind: 'failed', reason: `line_${e.status}: ${message}${detailsOf(e.body)}` };
}

/** Exponential backoff with jitter: 2 s, 4 s, 8 s … capped at 10 minutes. */
export function backoffMs(attempts: number, random = Math.random): number {
	const base = Math.min(600_000, 1000 * 2 ** Math.max(1, attempts));
	return Math.round(base * (0.75 + random() * 0.5));
}

function lineMessage(body: string): string {
	try {
		const parsed = JSON.parse(body) as { message?: unknown };
		return typeof parsed.message === 'string' ? parsed.message : body.slice(0, 200);
	} catch {
		return body.slice(0, 200);
	}
}

function detailsOf(body: string): string {
	try {
		const parsed = JSON.parse(body) as { details?: Array<{ message?: string; property?: string }> };
		if (!Array.isArray(parsed.details) || parsed.details.length === 0) return '';
		return ` (${parsed.details.slice(0, 3).map((d) => `${d.property ?? ''}: ${d.message ?? ''}`).join('; ')})`;
	} catch {
		return '';
	}
}
