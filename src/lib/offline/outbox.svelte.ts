/**
 * The consultation outbox: records are written to IndexedDB first (client-generated UUID),
 * then replayed with `PUT /api/consultations/:id` until the server acknowledges them. The
 * server is idempotent on the id, so a replay after a lost response never doubles a record.
 * Runs on start, on `online`, when the tablet wakes (visibilitychange) and every 30 s.
 * The same pass also replays profile views shown offline to the audit log (audit-views.ts).
 */
import { api, ApiError, callRaw } from '../api/client.ts';
import type { PutConsultationRequest } from '../api/types.ts';
import { credentials } from '../api/credentials.svelte.ts';
import { adoptAuditSession, flushAuditViews, pendingAuditViewCount } from './audit-views.ts';
import { db, getMeta, setMeta, type InStoreRecord, type OutboxEntry } from './db.ts';
import { applyOutcome, isDue, isPurgeable, newOutboxState, outcomeForStatus, retryNow, summarize, SYNC_INTERVAL_MS, type SendOutcome } from './policy.ts';

/** What the always-visible status shows. */
export const syncStatus = $state({
	online: typeof navigator === 'undefined' ? true : navigator.onLine,
	pending: 0,
	failed: 0,
	unsent: 0,
	/** profile views shown offline, not yet in the server's audit log (they block un-enrolling too) */
	auditPending: 0,
	lastSyncAt: null as number | null,
	syncing: false
});

/** What every outbox record carries: the signed-in author, whose token sends it. */
type Payload = Pick<OutboxEntry, 'request'> & Partial<Pick<OutboxEntry, 'conversationReply' | 'worklistState' | 'inStore'>>;

/** Stores one record for the signed-in staff member (refused without a session). */
async function enqueue(payload: Payload, customerLabel: string, id: string): Promise<OutboxEntry> {
	const session = credentials.session;
	if (!session) throw new ApiError(401, 'unauthorized', 'not signed in');
	const entry: OutboxEntry = {
		id,
		...payload,
		authorId: session.staff.id,
		authorName: session.staff.displayName,
		authToken: session.token,
		customerLabel,
		createdAt: Date.now(),
		...newOutboxState(Date.now())
	};
	await (await db()).put('outbox', entry);
	await refreshStatus();
	return entry;
}

export async function enqueueConsultation(
	request: PutConsultationRequest,
	customerLabel: string,
	id: string = crypto.randomUUID()
): Promise<OutboxEntry> {
	const entry = await enqueue({ request }, customerLabel, id);
	void syncNow();
	return entry;
}

export async function outboxEntries(): Promise<OutboxEntry[]> {
	const all = await (await db()).getAll('outbox');
	return all.sort((a, b) => b.createdAt - a.createdAt);
}

export async function refreshStatus(): Promise<void> {
	const counts = summarize(await (await db()).getAll('outbox'));
	syncStatus.pending = counts.pending;
	syncStatus.failed = counts.failed;
	syncStatus.unsent = counts.unsent;
	syncStatus.auditPending = await pendingAuditViewCount();
	const last = await getMeta('lastSyncAt');
	syncStatus.lastSyncAt = typeof last === 'number' ? last : null;
}

/** A LINE answer typed offline waits here like a consultation; the server keeps one message per id. */
export function enqueueConversationReply(reply: NonNullable<OutboxEntry['conversationReply']>, customerLabel: string, id: string): Promise<OutboxEntry> {
	return enqueue({ request: null, conversationReply: reply }, customerLabel, id);
}

/**
 * A today's-list change (done / snooze / dismiss) waits here like a consultation: its id is the
 * client id the server applies once, so a replay or a second tablet never doubles it.
 */
export async function enqueueWorklistState(change: NonNullable<OutboxEntry['worklistState']>, customerLabel: string, id: string = crypto.randomUUID()): Promise<OutboxEntry> {
	const entry = await enqueue({ request: null, worklistState: change }, customerLabel, id);
	void syncNow();
	return entry;
}

/**
 * What the customer told staff in the store (their reading, a consent answer) waits here like a
 * consultation; the server applies each id once, so a replay never adds a second ledger row.
 */
export async function enqueueInStore(record: InStoreRecord, customerLabel: string, id: string = crypto.randomUUID()): Promise<OutboxEntry> {
	const entry = await enqueue({ request: null, inStore: record }, customerLabel, id);
	void syncNow();
	return entry;
}

/** The in-store records of one customer not yet acknowledged (shown on the profile as pending). */
export async function pendingInStore(customerId: string): Promise<Array<OutboxEntry & { inStore: InStoreRecord }>> {
	const all = await (await db()).getAll('outbox');
	return all.filter((e): e is OutboxEntry & { inStore: InStoreRecord } => e.inStore?.customerId === customerId && e.status !== 'synced').sort((a, b) => a.createdAt - b.createdAt);
}

function sendInStore(entry: OutboxEntry, record: InStoreRecord, auth: { bearer: string }) {
	if (record.kind === 'kana') {
		return callRaw((o) => api.customers[':id'].kana.$put({ param: { id: record.customerId }, json: { familyKana: record.familyKana, givenKana: record.givenKana } }, o), { auth });
	}
	return callRaw(
		(o) => api.privacy.customers[':customerId'].consent.$post({ param: { customerId: record.customerId }, json: { purpose: record.purpose, granted: record.granted, clientId: entry.id } }, o),
		{ auth }
	);
}

async function send(entry: OutboxEntry): Promise<SendOutcome> {
	try {
		const reply = entry.conversationReply;
		const change = entry.worklistState;
		const auth = { bearer: entry.authToken };
		const res = entry.inStore
			? await sendInStore(entry, entry.inStore, auth)
			: change
			? await callRaw(
					(o) =>
						api.worklist.items[':id'].state.$put(
							{ param: { id: change.itemId }, json: { clientId: entry.id, state: change.state, snoozedUntil: change.snoozedUntil, reason: change.reason } },
							o
						),
					{ auth }
				)
			: reply
			? await callRaw(
					(o) =>
						api.conversations[':id'].replies.$post(
							{ param: { id: reply.conversationId }, json: { clientId: entry.id, text: reply.text, templateKey: reply.templateKey, productIds: reply.productIds } },
							o
						),
					{ auth }
				)
			: await callRaw((o) => api.consultations[':id'].$put({ param: { id: entry.id }, json: entry.request! }, o), { auth });
		return outcomeForStatus(res.status, '', '');
	} catch (err) {
		if (err instanceof ApiError) return outcomeForStatus(err.status, err.code, err.message);
		return outcomeForStatus(null, 'offline', String(err));
	}
}

let running: Promise<void> | null = null;
/** A forced pass was asked for while another pass ran: it follows that pass. */
let forcedPassQueued = false;

/**
 * One pass over the due records; concurrent calls share the pass in flight. `force` (network
 * just came back, tablet woke up) skips the backoff wait of pending records. A forced call that
 * finds a pass in flight cannot join it (that pass may have started offline and pushed every
 * record into backoff), so a forced pass follows it.
 */
export function syncNow(force = false): Promise<void> {
	if (running) {
		if (force) forcedPassQueued = true;
		return running;
	}
	running = syncPass(force).finally(() => {
		running = null;
		if (forcedPassQueued) {
			forcedPassQueued = false;
			void syncNow(true);
		}
	});
	return running;
}

async function syncPass(force: boolean): Promise<void> {
	syncStatus.syncing = true;
	try {
		const database = await db();
		const now = Date.now();
		for (const entry of await database.getAll('outbox')) {
			if (isPurgeable(entry, now)) await database.delete('outbox', entry.id);
		}
		const due = (await database.getAll('outbox')).filter((e) => isDue(e, force ? Infinity : Date.now())).sort((a, b) => a.createdAt - b.createdAt);
		for (const entry of due) {
			const outcome = await send(entry);
			// Re-tokened by a sign-in while this request was out: its outcome is stale, keep the new token.
			const latest = await database.get('outbox', entry.id);
			if (latest && latest.authToken !== entry.authToken) continue;
			await database.put('outbox', { ...entry, ...applyOutcome(entry, outcome, Date.now()) });
			if (outcome.kind === 'acked') await setMeta('lastSyncAt', Date.now());
			// No network: the rest would fail the same way; wait for the next trigger.
			if (outcome.kind === 'retry' && outcome.error.startsWith('offline')) break;
		}
		await flushAuditViews();
	} finally {
		syncStatus.syncing = false;
		await refreshStatus();
	}
}

/** Staff pressed retry on a failed record (optionally after editing it). */
export async function retryEntry(id: string, request?: PutConsultationRequest | null): Promise<void> {
	const database = await db();
	const entry = await database.get('outbox', id);
	if (!entry) return;
	const session = credentials.session;
	// A fresh session of the same author replaces an expired token; another author cannot adopt it.
	const authToken = session && session.staff.id === entry.authorId ? session.token : entry.authToken;
	await database.put('outbox', { ...entry, ...retryNow(entry, Date.now()), authToken, request: request ?? entry.request });
	await syncNow();
}

/** After a sign-in: the author's records that waited for a fresh session go out again. */
export async function adoptSession(): Promise<void> {
	const session = credentials.session;
	if (!session) return;
	// A pass in flight still holds the old token and would write it back over ours: let it end.
	await running?.catch(() => undefined);
	await adoptAuditSession(session.staff.id, session.token);
	const database = await db();
	for (const entry of await database.getAll('outbox')) {
		if (entry.authorId !== session.staff.id || entry.status === 'synced') continue;
		const waitingForAuth = entry.status === 'failed' && (entry.lastError ?? '').match(/session|unauthorized|invalid/);
		// A fresh sign-in is a reason to try at once: a pending record may sit in a long backoff
		// from failed attempts with the session that has just been replaced.
		// retryNow returns the whole entry: the new token goes last or the old one comes back.
		await database.put('outbox', {
			...(waitingForAuth || entry.status === 'pending' ? retryNow(entry, Date.now()) : entry),
			authToken: session.token
		});
	}
	// The first call may join a pass that started with the old token; the second sends with ours.
	await syncNow(true);
	await syncNow(true);
}

let started = false;

/** Starts the sync triggers once per page load. */
export function startSyncLoop(): void {
	if (started || typeof window === 'undefined') return;
	started = true;
	const trigger = () => void syncNow();
	window.addEventListener('online', () => {
		syncStatus.online = true;
		void syncNow(true);
	});
	window.addEventListener('offline', () => {
		syncStatus.online = false;
	});
	document.addEventListener('visibilitychange', () => {
		if (document.visibilityState === 'visible') void syncNow(true);
	});
	setInterval(trigger, SYNC_INTERVAL_MS);
	void syncNow(true);
}
