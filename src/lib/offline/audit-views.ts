/**
 * Profile views shown from the tablet's cache while the server was unreachable. The server's
 * audit log is normally written by the profile read itself; these are queued in IndexedDB and
 * replayed by the sync loop (outbox.svelte.ts) so every opening ends up in the audit log.
 */
import { api, ApiError, callRaw } from '../api/client.ts';
import type { ProfileVia } from '../api/types.ts';
import { credentials } from '../api/credentials.svelte.ts';
import { auditBatches, auditOutcome } from './audit-policy.ts';
import { db } from './db.ts';

export async function enqueueAuditView(customerId: string, via: ProfileVia): Promise<void> {
	const session = credentials.session;
	// No session, no actor to attribute the view to (the staff pages require one anyway).
	if (!session) return;
	await (await db()).put('auditViews', {
		id: crypto.randomUUID(),
		customerId,
		via,
		viewedAt: new Date().toISOString(),
		staffId: session.staff.id,
		authToken: session.token
	});
}

export async function pendingAuditViewCount(): Promise<number> {
	return (await db()).count('auditViews');
}

async function post(views: { id: string; customerId: string; via: ProfileVia; viewedAt: string }[], token: string) {
	try {
		const res = await callRaw((o) => api.audit['profile-views'].$post({ json: { views } }, o), { auth: { bearer: token } });
		return res.status;
	} catch (err) {
		if (err instanceof ApiError) return err.status;
		return null;
	}
}

/** One pass: sends every batch it can; stops at the first sign of no network. */
export async function flushAuditViews(): Promise<void> {
	const database = await db();
	for (const batch of auditBatches(await database.getAll('auditViews'))) {
		const status = await post(
			batch.map(({ id, customerId, via, viewedAt }) => ({ id, customerId, via, viewedAt })),
			batch[0].authToken
		);
		const outcome = auditOutcome(status);
		if (outcome === 'keep') return;
		if (outcome === 'wait_for_session') continue;
		if (outcome === 'drop') console.warn(`audit views refused (HTTP ${status}); dropping ${batch.length}`);
		const tx = database.transaction('auditViews', 'readwrite');
		await Promise.all([...batch.map((v) => tx.store.delete(v.id)), tx.done]);
	}
}

/** After a sign-in: that staff member's views waiting on an expired token use the new one. */
export async function adoptAuditSession(staffId: string, token: string): Promise<void> {
	const database = await db();
	for (const view of await database.getAll('auditViews')) {
		if (view.staffId === staffId && view.authToken !== token) await database.put('auditViews', { ...view, authToken: token });
	}
}
