/**
 * Follow-up rules — pure functions shared by compose, preview and tests: template variables and
 * who may receive a follow-up. LINE's message formats are in server/integrations/line/flex.ts.
 */

export interface TemplateVars {
	customerName: string;
	staffName: string;
	storeName: string;
}

/** Replaces {customerName}, {staffName}, {storeName}; unknown placeholders stay as typed. */
export function renderTemplate(body: string, vars: TemplateVars): string {
	return body.replace(/\{(customerName|staffName|storeName)\}/g, (_, name: keyof TemplateVars) => vars[name]);
}

export type IneligibleReason = 'no_consent' | 'no_line' | 'blocked' | 'not_friend' | 'merged';

/** Who may receive a follow-up: opted in, linked to LINE, a friend of the account, not blocked. */
export function followUpEligibility(c: {
	consent_messages: boolean;
	line_user_id: string | null;
	line_friend: boolean;
	line_blocked_at: Date | string | null;
	merged_into?: string | null;
}): { allowed: boolean; reason: IneligibleReason | null } {
	const reason: IneligibleReason | null = c.merged_into
		? 'merged'
		: !c.consent_messages
			? 'no_consent'
			: !c.line_user_id
				? 'no_line'
				: c.line_blocked_at
					? 'blocked'
					: !c.line_friend
						? 'not_friend'
						: null;
	return { allowed: reason === null, reason };
}
