/**
 * Pure rules for replaying offline profile views to POST /api/audit/profile-views (unit-tested
 * without a browser): batches per session of at most 100, and what a response means.
 */
import type { PendingAuditView } from './db.ts';

export const AUDIT_BATCH_SIZE = 100;

/** Oldest first, grouped by the viewer's session token (the server takes the actor from it). */
export function auditBatches(views: PendingAuditView[], size = AUDIT_BATCH_SIZE): PendingAuditView[][] {
	const byToken = new Map<string, PendingAuditView[]>();
	for (const view of [...views].sort((a, b) => a.viewedAt.localeCompare(b.viewedAt))) {
		const group = byToken.get(view.authToken) ?? [];
		group.push(view);
		byToken.set(view.authToken, group);
	}
	const batches: PendingAuditView[][] = [];
	for (const group of byToken.values()) {
		for (let i = 0; i < group.length; i += size) batches.push(group.slice(i, i + size));
	}
	return batches;
}

/**
 * sent: delete them. keep: no network / server trouble, try again later (and stop this pass).
 * wait_for_session: the token expired; a new sign-in of the same staff adopts them.
 * drop: the server refuses them for good (e.g. older than 30 days); retrying cannot help.
 */
export type AuditSendOutcome = 'sent' | 'keep' | 'wait_for_session' | 'drop';

export function auditOutcome(status: number | null): AuditSendOutcome {
	if (status === null || status >= 500 || status === 408 || status === 429) return 'keep';
	if (status >= 200 && status < 300) return 'sent';
	if (status === 401) return 'wait_for_session';
	return 'drop';
}
