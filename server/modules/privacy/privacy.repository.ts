/**
 * consent_events (append-only ledger) and privacy_requests: Kysely only. The disclosure read
 * gathers what other modules hold about one person (reads only; reports read many tables too).
 */
import { sql } from 'kysely';
import type { DbOrTrx, Trx } from '../../db/index.ts';

export type Purpose = 'membership' | 'purchase_linking' | 'staff_messages';
export type ConsentChannel = 'liff' | 'tablet' | 'system' | 'import';
export const PURPOSES: readonly Purpose[] = ['membership', 'purchase_linking', 'staff_messages'];

export interface NewConsentEvent {
	customer_id: string;
	purpose: Purpose;
	granted: boolean;
	terms_version: string;
	channel: ConsentChannel;
	staff_id: string | null;
	client_id: string | null;
	at: Date;
}

/** Appends decisions; a replayed client id (offline queue) adds nothing. Returns how many were new. */
export async function appendConsentEvents(db: DbOrTrx, events: NewConsentEvent[]): Promise<number> {
	if (events.length === 0) return 0;
	const rows = await db
		.insertInto('consent_events')
		.values(events)
		.onConflict((oc) => oc.columns(['customer_id', 'client_id', 'purpose']).where('client_id', 'is not', null).doNothing())
		.returning('id')
		.execute();
	return rows.length;
}

export async function consentHistory(db: DbOrTrx, customerId: string) {
	return db
		.selectFrom('consent_events as e')
		.leftJoin('staff as s', 's.id', 'e.staff_id')
		.select(['e.id', 'e.purpose', 'e.granted', 'e.terms_version', 'e.channel', 'e.staff_id', 's.display_name as staff_name', 'e.at'])
		.where('e.customer_id', '=', customerId)
		.orderBy('e.id', 'desc')
		.limit(200)
		.execute();
}

/** The imported flags a customer without ledger rows keeps, and whether they were erased. */
export async function customerConsentBasis(db: DbOrTrx, customerId: string) {
	return db
		.selectFrom('customers')
		.select(['id', 'consent_messages', 'consent_terms_at', 'erased_at', 'merged_into'])
		.where('id', '=', customerId)
		.executeTakeFirst();
}

export interface ConsentSnapshot {
	consent_messages: boolean;
	consent_terms_at: Date | null;
	erased_at: Date | null;
	merged_into: string | null;
	/** latest decision per purpose: [purpose, granted, terms_version] */
	latest: Array<{ purpose: Purpose; granted: boolean; terms_version: string }>;
	pending_id: string | null;
	pending_due_at: Date | null;
}

/** The customer's flags, latest decision per purpose and pending erasure, in one round trip (card and profile paths). */
export async function consentSnapshot(db: DbOrTrx, customerId: string): Promise<ConsentSnapshot | undefined> {
	const rows = await sql<ConsentSnapshot>`
		select c.consent_messages, c.consent_terms_at, c.erased_at, c.merged_into,
			coalesce((
				select json_agg(json_build_object('purpose', l.purpose, 'granted', l.granted, 'terms_version', l.terms_version))
				from (select distinct on (purpose) purpose, granted, terms_version from consent_events
					where customer_id = c.id order by purpose, id desc) l
			), '[]'::json) as latest,
			r.id as pending_id, r.due_at as pending_due_at
		from customers c
		left join privacy_requests r on r.customer_id = c.id and r.kind = 'erasure' and r.status = 'pending'
		where c.id = ${customerId}`.execute(db);
	return rows.rows[0];
}

export interface NewPrivacyRequest {
	customer_id: string;
	kind: 'disclosure' | 'erasure';
	channel: 'liff' | 'tablet';
	staff_id: string | null;
	client_id: string | null;
	requested_at: Date;
	due_at: Date;
	status: 'pending' | 'done';
	completed_at: Date | null;
}

const REQUEST_COLUMNS = ['id', 'customer_id', 'kind', 'channel', 'staff_id', 'client_id', 'requested_at', 'due_at', 'status', 'completed_at', 'attempts', 'last_error'] as const;

export async function insertRequest(trx: DbOrTrx, request: NewPrivacyRequest) {
	return trx.insertInto('privacy_requests').values(request).returning(REQUEST_COLUMNS).executeTakeFirstOrThrow();
}

export async function findRequestByClientId(db: DbOrTrx, clientId: string) {
	return db.selectFrom('privacy_requests').select(REQUEST_COLUMNS).where('client_id', '=', clientId).executeTakeFirst();
}

export async function pendingErasureOf(db: DbOrTrx, customerId: string) {
	return db
		.selectFrom('privacy_requests')
		.select(REQUEST_COLUMNS)
		.where('customer_id', '=', customerId)
		.where('kind', '=', 'erasure')
		.where('status', '=', 'pending')
		.executeTakeFirst();
}

/** Locks customerId's row so two withdrawals (two devices, a replay) run one after the other. */
export async function lockCustomer(trx: Trx, customerId: string): Promise<boolean> {
	const row = await trx.selectFrom('customers').select('id').where('id', '=', customerId).forUpdate().executeTakeFirst();
	return row !== undefined;
}

export async function listRequests(db: DbOrTrx, options: { status?: 'pending' | 'done' | 'cancelled'; limit: number }) {
	let q = db
		.selectFrom('privacy_requests as r')
		.innerJoin('customers as c', 'c.id', 'r.customer_id')
		.leftJoin('staff as s', 's.id', 'r.staff_id')
		.select([
			'r.id',
			'r.customer_id',
			'c.member_no',
			'c.erased_at',
			'r.kind',
			'r.channel',
			's.display_name as staff_name',
			'r.requested_at',
			'r.due_at',
			'r.status',
			'r.completed_at',
			'r.attempts',
			'r.last_error'
		]);
	if (options.status) q = q.where('r.status', '=', options.status);
	return q.orderBy('r.status', 'desc').orderBy('r.due_at', 'asc').limit(options.limit).execute();
}

/** One due erasure, locked for this transaction (other processes skip it). */
export async function claimDueErasure(trx: Trx, now: Date) {
	return trx
		.selectFrom('privacy_requests')
		.select(['id', 'customer_id', 'attempts'])
		.where('kind', '=', 'erasure')
		.where('status', '=', 'pending')
		.where('due_at', '<=', now)
		.where('next_attempt_at', '<=', now)
		.orderBy('due_at')
		.limit(1)
		.forUpdate()
		.skipLocked()
		.executeTakeFirst();
}

export async function markRequestDone(trx: DbOrTrx, id: string, at: Date): Promise<void> {
	await trx.updateTable('privacy_requests').set({ status: 'done', completed_at: at, last_error: null }).where('id', '=', id).execute();
}

export async function markRequestFailed(db: DbOrTrx, id: string, error: string, nextAttemptAt: Date): Promise<void> {
	await db
		.updateTable('privacy_requests')
		.set((eb) => ({ attempts: eb('attempts', '+', 1), last_error: error, next_attempt_at: nextAttemptAt }))
		.where('id', '=', id)
		.execute();
}

/** Records merged into this one hold the same person's data (erased with it). */
export async function mergedRecordsOf(db: DbOrTrx, customerId: string): Promise<string[]> {
	const rows = await db.selectFrom('customers').select('id').where('merged_into', '=', customerId).execute();
	return rows.map((r) => r.id);
}

/** Everything held about one person, for 登録情報の確認 (開示). */
export async function disclosureData(db: DbOrTrx, customerId: string) {
	const [customer, identities, storePurchases, ecOrders, consultations, followUps, messages, clicks] = await Promise.all([
		db
			.selectFrom('customers as c')
			.leftJoin('stores as s', 's.id', 'c.home_store_id')
			.select([
				'c.member_no',
				'c.family_name',
				'c.given_name',
				'c.family_kana',
				'c.given_kana',
				'c.birthday',
				'c.birth_month_day',
				'c.email',
				'c.phone',
				's.name as home_store',
				'c.line_user_id',
				'c.line_friend',
				'c.line_blocked_at',
				'c.consent_terms_at',
				'c.created_at',
				'c.updated_at'
			])
			.where('c.id', '=', customerId)
			.executeTakeFirst(),
		db.selectFrom('customer_identities').select(['kind', 'value', 'created_at']).where('customer_id', '=', customerId).orderBy('id').execute(),
		sql<{ purchased_at: Date; store: string; total_yen: number; kind: string; items: string[] }>`
			select sp.purchased_at, s.name as store, sp.total_yen, sp.kind,
				array(select coalesce(p.name, l.sku) || ' ×' || l.quantity from store_purchase_lines l
					left join products p on p.id = l.product_id where l.purchase_id = sp.id order by l.line_no) as items
			from store_purchases sp join stores s on s.id = sp.store_id
			where sp.customer_id = ${customerId} order by sp.purchased_at desc limit 1000`.execute(db),
		sql<{ ordered_at: Date; order_name: string | null; total_yen: number; status: string; items: string[] }>`
			select o.ordered_at, o.order_name, o.total_yen, o.status,
				array(select ol.name || ' ×' || ol.quantity from ec_order_lines ol where ol.order_id = o.id order by ol.line_no) as items
			from ec_orders o where o.customer_id = ${customerId} order by o.ordered_at desc limit 1000`.execute(db),
		db
			.selectFrom('consultations as k')
			.innerJoin('stores as s', 's.id', 'k.store_id')
			.innerJoin('staff as st', 'st.id', 'k.staff_id')
			.select(['k.occurred_at', 's.name as store', 'st.display_name as staff', 'k.items', 'k.sizes', 'k.legacy_sizes', 'k.notes', 'k.tags', 'k.next_action'])
			.where('k.customer_id', '=', customerId)
			.orderBy('k.occurred_at', 'desc')
			.limit(1000)
			.execute(),
		db
			.selectFrom('follow_ups as f')
			.innerJoin('staff as st', 'st.id', 'f.staff_id')
			.select(['f.created_at', 'f.sent_at', 'f.status', 'f.body', 'st.display_name as staff'])
			.where('f.customer_id', '=', customerId)
			.orderBy('f.created_at', 'desc')
			.limit(1000)
			.execute(),
		db
			.selectFrom('conversation_messages as m')
			.innerJoin('conversations as cv', 'cv.id', 'm.conversation_id')
			.select(['m.occurred_at', 'm.direction', 'm.kind', 'm.text'])
			.where('cv.customer_id', '=', customerId)
			.orderBy('m.occurred_at', 'desc')
			.limit(1000)
			.execute(),
		db.selectFrom('link_clicks').select(['clicked_at', 'code']).where('customer_id', '=', customerId).orderBy('clicked_at', 'desc').limit(1000).execute()
	]);
	return { customer, identities, storePurchases: storePurchases.rows, ecOrders: ecOrders.rows, consultations, followUps, messages, clicks };
}

/** Re-joining within the grace period withdraws the pending erasure. */
export async function cancelPendingErasure(trx: DbOrTrx, customerId: string, at: Date): Promise<number> {
	const rows = await trx
		.updateTable('privacy_requests')
		.set({ status: 'cancelled', completed_at: at })
		.where('customer_id', '=', customerId)
		.where('kind', '=', 'erasure')
		.where('status', '=', 'pending')
		.returning('id')
		.execute();
	return rows.length;
}
