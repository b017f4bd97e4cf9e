/**
 * Consent and the customer's own controls (APPI; issue 16 §3).
 *
 * The ledger (consent_events) is the record of every decision; the current consent of a purpose
 * is its latest row. A customer with no row for a purpose keeps what the brand imported: message
 * consent from `customers.consent_messages`, purchase history linked (the brand's own terms under
 * which the data was collected). Withdrawing (leaving) stops messages at once, cancels queued
 * follow-ups and files an erasure request due after the brand's grace period; the privacy worker
 * then erases or anonymises every personal column through the owning modules' services, leaving
 * amounts and staff credit on an anonymous record so reports stay true.
 */
import * as v from 'valibot';
import type { Db, DbOrTrx, Trx } from '../../db/index.ts';
import { conflict, notFound } from '../../errors.ts';
import type { StaffPrincipal } from '../../http/context.ts';
import type { Logger } from '../../logger.ts';
import { customerAccessLog } from '../audit/audit.service.ts';
import { eraseConsultationsOf } from '../consultations/consultations.service.ts';
import { eraseConversationsOf } from '../conversations/conversations.service.ts';
import { anonymiseCustomer, identifiersOf, setMessageConsentFlag } from '../customers/customers.service.ts';
import { cancelQueuedFor, eraseFollowUpTextsOf } from '../followups/followups.service.ts';
import { deleteLineEventsOf } from '../line/line.service.ts';
import { eraseClicksOf } from '../links/links.service.ts';
import { eraseOrdersOf } from '../orders/orders.service.ts';
import { eraseIdentityDataOf } from '../identity/identity.service.ts';
import { deleteKeysMentioning } from '../ratelimit/rate-limit.service.ts';
import { defineSetting, readSetting } from '../settings/settings.service.ts';
import { scrubPayloadsMentioning } from '../webhooks/inbox.service.ts';
import { currentTermsVersion } from './legal.ts';
import * as repo from './privacy.repository.ts';
import { PURPOSES, type ConsentChannel, type Purpose } from './privacy.repository.ts';

export { PURPOSES, type Purpose };

/** Days between 退会 and erasure (the brand may keep data this long, e.g. for returns). */
export const ERASURE_GRACE_DAYS = defineSetting('privacy.erasureGraceDays', v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(365)), 30);
/** A disclosure asked for in the store is answered within this (self-service ones at once). */
export const DISCLOSURE_DUE_DAYS = 14;
const DAY_MS = 86_400_000;

export interface ConsentState {
	membership: boolean;
	linking: boolean;
	messages: boolean;
	/** the terms version of the latest membership decision (null: joined before the ledger or never) */
	termsVersion: string | null;
	/** 退会 asked for: erasure due at */
	leaving: { requestId: string; dueAt: string } | null;
	erased: boolean;
}

export async function currentConsent(db: DbOrTrx, customerId: string): Promise<ConsentState> {
	const snap = await repo.consentSnapshot(db, customerId);
	if (!snap) throw notFound('customer_not_found', 'No such customer');
	const latest = typeof snap.latest === 'string' ? (JSON.parse(snap.latest) as repo.ConsentSnapshot['latest']) : snap.latest;
	const of = (p: Purpose) => latest.find((r) => r.purpose === p);
	const membership = of('membership');
	const linking = of('purchase_linking');
	const messages = of('staff_messages');
	const erased = snap.erased_at !== null;
	const leaving = snap.pending_id ? { requestId: snap.pending_id, dueAt: new Date(snap.pending_due_at!).toISOString() } : null;
	const active = !erased && !leaving;
	return {
		membership: active && (membership ? membership.granted : snap.consent_terms_at !== null),
		linking: active && (linking ? linking.granted : true),
		messages: active && (messages ? messages.granted : snap.consent_messages),
		termsVersion: membership?.terms_version ?? null,
		leaving,
		erased
	};
}

export type MessageRefusal = 'consent_withdrawn' | 'member_left';

/**
 * May staff send this customer a personal follow-up, as far as the ledger says? Refused when the
 * customer left (or was erased) or their latest message decision is a withdrawal. A customer with
 * no decision in the ledger is left to the follow-up module's own check of the imported flag
 * (`not_allowed_no_consent`), as is a merged record (`not_allowed_merged`).
 */
export async function messageConsent(db: DbOrTrx, customerId: string): Promise<{ allowed: true; reason: null } | { allowed: false; reason: MessageRefusal }> {
	const snap = await repo.consentSnapshot(db, customerId);
	if (!snap || snap.merged_into) return { allowed: true, reason: null };
	if (snap.pending_id || snap.erased_at) return { allowed: false, reason: 'member_left' };
	const latest = typeof snap.latest === 'string' ? (JSON.parse(snap.latest) as repo.ConsentSnapshot['latest']) : snap.latest;
	const messages = latest.find((r) => r.purpose === 'staff_messages');
	if (messages && !messages.granted) return { allowed: false, reason: 'consent_withdrawn' };
	return { allowed: true, reason: null };
}

/**
 * The follow-up send path calls this before anything is queued: 409 `consent_withdrawn` when the
 * customer turned personal messages off, 409 `member_left` when they left the membership.
 */
export async function assertMessageConsent(db: DbOrTrx, customerId: string): Promise<void> {
	const consent = await messageConsent(db, customerId);
	if (consent.allowed) return;
	if (consent.reason === 'member_left') throw conflict('member_left', 'This customer has left the membership; personal messages are stopped');
	throw conflict('consent_withdrawn', 'This customer turned off personal messages from staff');
}

/** Whether store and EC histories may be shown together (purchase-history linking consent). */
export async function linkingConsent(db: DbOrTrx, customerId: string): Promise<boolean> {
	return (await currentConsent(db, customerId)).linking;
}

export interface ConsentDecision {
	customerId: string;
	purpose: Purpose;
	granted: boolean;
	channel: 'liff' | 'tablet';
	staffId?: string | null;
	clientId?: string | null;
	at?: Date;
}

/**
 * One decision (a switch on the card, or the customer's answer given to staff in the store).
 * Message consent also updates the sending flag; withdrawing it cancels queued follow-ups.
 */
export async function recordConsent(db: Db, decision: ConsentDecision): Promise<ConsentState> {
	const at = decision.at ?? new Date();
	const terms = await currentTermsVersion();
	await db.transaction().execute(async (trx) => {
		if (!(await repo.lockCustomer(trx, decision.customerId))) throw notFound('customer_not_found', 'No such customer');
		const state = await currentConsent(trx, decision.customerId);
		if (state.leaving || state.erased) throw conflict('member_left', 'This customer has left the membership');
		const added = await repo.appendConsentEvents(trx, [
			{
				customer_id: decision.customerId,
				purpose: decision.purpose,
				granted: decision.granted,
				terms_version: terms,
				channel: decision.channel,
				staff_id: decision.staffId ?? null,
				client_id: decision.clientId ?? null,
				at
			}
		]);
		if (added === 0 || decision.purpose !== 'staff_messages') return;
		await setMessageConsentFlag(trx, decision.customerId, decision.granted, at);
		if (!decision.granted) await cancelQueuedFor(trx, decision.customerId, 'consent_withdrawn');
	});
	return currentConsent(db, decision.customerId);
}

/**
 * Joining on the card: membership under the current terms, plus the two optional purposes.
 * Joining again within the grace period after 退会 cancels the pending erasure.
 */
export async function recordJoin(
	trx: Trx,
	customerId: string,
	choice: { messages: boolean; linking: boolean; at: Date; channel: ConsentChannel; staffId?: string | null }
): Promise<void> {
	const terms = await currentTermsVersion();
	const row = (purpose: Purpose, granted: boolean) => ({
		customer_id: customerId,
		purpose,
		granted,
		terms_version: terms,
		channel: choice.channel,
		staff_id: choice.staffId ?? null,
		client_id: null,
		at: choice.at
	});
	await repo.appendConsentEvents(trx, [row('membership', true), row('purchase_linking', choice.linking), row('staff_messages', choice.messages)]);
	await repo.cancelPendingErasure(trx, customerId, choice.at);
}

export interface LeaveResult {
	requestId: string;
	dueAt: string;
	/** false when this client id (or an earlier withdrawal) was applied already */
	applied: boolean;
}

/**
 * 退会: all purposes withdrawn, message flag off, queued follow-ups cancelled, an erasure request
 * due after the grace period. Idempotent: the same client id (an offline card replaying its
 * queue) or a second withdrawal returns the first request and changes nothing.
 */
export async function leave(
	deps: { db: Db; logger: Logger },
	customerId: string,
	options: { channel: 'liff' | 'tablet'; clientId: string | null; staffId?: string | null; at?: Date }
): Promise<LeaveResult> {
	const at = options.at ?? new Date();
	const terms = await currentTermsVersion();
	const result = await deps.db.transaction().execute(async (trx) => {
		if (!(await repo.lockCustomer(trx, customerId))) throw notFound('customer_not_found', 'No such customer');
		const replay = options.clientId ? await repo.findRequestByClientId(trx, options.clientId) : undefined;
		if (replay) {
			if (replay.customer_id !== customerId) throw conflict('id_in_use', 'This id belongs to another request');
			return { requestId: replay.id, dueAt: new Date(replay.due_at).toISOString(), applied: false, cancelled: 0 };
		}
		const pending = await repo.pendingErasureOf(trx, customerId);
		if (pending) return { requestId: pending.id, dueAt: new Date(pending.due_at).toISOString(), applied: false, cancelled: 0 };
		const basis = await repo.customerConsentBasis(trx, customerId);
		if (basis?.erased_at) throw conflict('member_left', 'This customer has left and was erased');
		const grace = await readSetting(trx, ERASURE_GRACE_DAYS);
		await repo.appendConsentEvents(
			trx,
			PURPOSES.map((purpose) => ({
				customer_id: customerId,
				purpose,
				granted: false,
				terms_version: terms,
				channel: options.channel,
				staff_id: options.staffId ?? null,
				client_id: options.clientId,
				at
			}))
		);
		await setMessageConsentFlag(trx, customerId, false, at);
		const cancelled = await cancelQueuedFor(trx, customerId, 'member_left');
		const request = await repo.insertRequest(trx, {
			customer_id: customerId,
			kind: 'erasure',
			channel: options.channel,
			staff_id: options.staffId ?? null,
			client_id: options.clientId,
			requested_at: at,
			due_at: new Date(at.getTime() + grace * DAY_MS),
			status: 'pending',
			completed_at: null
		});
		return { requestId: request.id, dueAt: new Date(request.due_at).toISOString(), applied: true, cancelled };
	});
	if (result.applied) deps.logger.info({ customerId, requestId: result.requestId, cancelledFollowUps: result.cancelled }, 'member left; erasure scheduled');
	return { requestId: result.requestId, dueAt: result.dueAt, applied: result.applied };
}

/**
 * 開示: everything the brand holds about the person, readable and as JSON. A self-service
 * disclosure is answered at once and recorded as a completed request.
 */
export async function disclose(db: Db, customerId: string, by: { channel: 'liff' | 'tablet'; staffId?: string | null }) {
	const at = new Date();
	const [data, consent, history] = await Promise.all([
		repo.disclosureData(db, customerId),
		currentConsent(db, customerId),
		repo.consentHistory(db, customerId)
	]);
	if (!data.customer) throw notFound('customer_not_found', 'No such customer');
	await repo.insertRequest(db, {
		customer_id: customerId,
		kind: 'disclosure',
		channel: by.channel,
		staff_id: by.staffId ?? null,
		client_id: null,
		requested_at: at,
		due_at: new Date(at.getTime() + DISCLOSURE_DUE_DAYS * DAY_MS),
		status: 'done',
		completed_at: at
	});
	const iso = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString() : null);
	const c = data.customer;
	return {
		generatedAt: at.toISOString(),
		profile: {
			memberNo: c.member_no,
			familyName: c.family_name,
			givenName: c.given_name,
			familyKana: c.family_kana,
			givenKana: c.given_kana,
			birthday: c.birthday ?? (c.birth_month_day ? `--${c.birth_month_day}` : null),
			email: c.email,
			phone: c.phone,
			homeStore: c.home_store,
			lineUserId: c.line_user_id,
			lineFriend: c.line_friend,
			lineBlockedAt: iso(c.line_blocked_at),
			joinedAt: iso(c.consent_terms_at),
			createdAt: iso(c.created_at),
			updatedAt: iso(c.updated_at)
		},
		identities: data.identities.map((i) => ({ kind: i.kind, value: i.value, since: iso(i.created_at) })),
		consent: {
			current: consent,
			history: history.map((h) => ({
				purpose: h.purpose,
				granted: h.granted,
				termsVersion: h.terms_version,
				channel: h.channel,
				staffName: h.staff_name,
				at: iso(h.at)
			}))
		},
		storePurchases: data.storePurchases.map((p) => ({ at: iso(p.purchased_at), store: p.store, totalYen: p.total_yen, kind: p.kind, items: p.items })),
		ecOrders: data.ecOrders.map((o) => ({ at: iso(o.ordered_at), order: o.order_name, totalYen: o.total_yen, status: o.status, items: o.items })),
		consultations: data.consultations.map((k) => ({
			at: iso(k.occurred_at),
			store: k.store,
			staff: k.staff,
			items: k.items,
			sizes: k.sizes,
			...(Object.keys(k.legacy_sizes ?? {}).length > 0 ? { legacySizes: k.legacy_sizes } : {}),
			notes: k.notes,
			tags: k.tags,
			nextAction: k.next_action
		})),
		messagesFromStaff: data.followUps.map((f) => ({ at: iso(f.sent_at ?? f.created_at), status: f.status, staff: f.staff, text: f.body })),
		lineConversation: data.messages.map((m) => ({ at: iso(m.occurred_at), direction: m.direction, kind: m.kind, text: m.text })),
		linkClicks: data.clicks.map((k) => ({ at: iso(k.clicked_at), code: k.code }))
	};
}

export type Disclosure = Awaited<ReturnType<typeof disclose>>;

/**
 * Erases one person: every personal column through the owning module, the stored webhook copies
 * and rate-limit keys that name them, and the records merged into theirs. Runs in the caller's
 * transaction; logs ids only.
 */
export async function eraseCustomer(trx: Trx, customerId: string, at: Date): Promise<void> {
	const records = [customerId, ...(await repo.mergedRecordsOf(trx, customerId))];
	for (const id of records) {
		const ids = await identifiersOf(trx, id);
		const lineUserIds = ids.filter((value) => /^U\w{8,}$/.test(value));
		const memberNos = ids.filter((value) => /^\d{6,}$/.test(value));
		await scrubPayloadsMentioning(trx, ids);
		await deleteKeysMentioning(trx, ids);
		await deleteLineEventsOf(trx, id, lineUserIds);
		await eraseConversationsOf(trx, id, lineUserIds);
		await eraseConsultationsOf(trx, id, memberNos);
		await eraseFollowUpTextsOf(trx, id);
		await eraseClicksOf(trx, id);
		await eraseOrdersOf(trx, id);
		await anonymiseCustomer(trx, id, at);
		// after the anonymising update, whose trigger marks the customer for matching again
		await eraseIdentityDataOf(trx, id);
	}
}

/** After consecutive failures: 1 min, 2 min, 4 min … capped at 6 hours. */
export function erasureRetryDelayMs(attempts: number): number {
	return Math.min(6 * 3_600_000, 60_000 * 2 ** Math.max(0, attempts - 1));
}

/**
 * Carries out due erasures, one transaction each (claimed with SKIP LOCKED, so several
 * processes may run this). A failure is recorded with its retry time; the error text kept is the
 * database's error code, never a message that could quote a value.
 */
export async function runDueErasures(deps: { db: Db; logger: Logger }, now = new Date(), limit = 10): Promise<number> {
	let done = 0;
	for (let i = 0; i < limit; i++) {
		let claimed: { id: string; customer_id: string; attempts: number } | undefined;
		try {
			const erased = await deps.db.transaction().execute(async (trx) => {
				claimed = await repo.claimDueErasure(trx, now);
				if (!claimed) return false;
				await eraseCustomer(trx, claimed.customer_id, now);
				await repo.markRequestDone(trx, claimed.id, now);
				return true;
			});
			if (!erased) break;
			done++;
			deps.logger.info({ requestId: claimed!.id, customerId: claimed!.customer_id }, 'customer data erased');
		} catch (err) {
			if (!claimed) throw err;
			const code = (err as { code?: unknown }).code;
			const reason = typeof code === 'string' ? `db_error_${code}` : (err as Error).name || 'error';
			const attempts = claimed.attempts + 1;
			await repo.markRequestFailed(deps.db, claimed.id, reason, new Date(now.getTime() + erasureRetryDelayMs(attempts)));
			deps.logger.error({ requestId: claimed.id, attempts, reason }, 'erasure failed; will retry');
			break;
		}
	}
	return done;
}

export async function listRequests(db: Db, options: { status?: 'pending' | 'done' | 'cancelled'; limit?: number }, now = new Date()) {
	const rows = await repo.listRequests(db, { status: options.status, limit: options.limit ?? 200 });
	return {
		requests: rows.map((r) => ({
			id: r.id,
			customerId: r.customer_id,
			memberNo: r.erased_at ? null : r.member_no,
			erased: r.erased_at !== null,
			kind: r.kind,
			channel: r.channel,
			staffName: r.staff_name,
			requestedAt: new Date(r.requested_at).toISOString(),
			dueAt: new Date(r.due_at).toISOString(),
			status: r.status,
			completedAt: r.completed_at ? new Date(r.completed_at).toISOString() : null,
			overdue: r.status === 'pending' && new Date(r.due_at).getTime() < now.getTime() - DAY_MS,
			attempts: r.attempts,
			lastError: r.last_error
		}))
	};
}

/** Consent history and who viewed the customer (managers and admins). */
export async function customerPrivacy(db: Db, customerId: string) {
	const [consent, history, views] = await Promise.all([currentConsent(db, customerId), repo.consentHistory(db, customerId), customerAccessLog(db, customerId)]);
	return {
		consent,
		history: history.map((h) => ({
			id: Number(h.id),
			purpose: h.purpose,
			granted: h.granted,
			termsVersion: h.terms_version,
			channel: h.channel,
			staffName: h.staff_name,
			at: new Date(h.at).toISOString()
		})),
		views
	};
}

/** Staff record the customer's answer given in the store (channel tablet, with their id). */
export async function recordConsentInStore(db: Db, staff: StaffPrincipal, customerId: string, purpose: Purpose, granted: boolean, clientId: string | null) {
	return recordConsent(db, { customerId, purpose, granted, channel: 'tablet', staffId: staff.id, clientId });
}
