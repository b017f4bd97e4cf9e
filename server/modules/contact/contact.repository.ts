/** contact_log: Kysely only. Only the contact module writes this table. */
import { sql } from 'kysely';
import type { DbOrTrx, Trx } from '../../db/index.ts';

/** Advisory-lock class of the per-customer contact lock (the two-key space: no clash with single-key locks). */
const CONTACT_LOCK_CLASS = 7311;

/**
 * Serialises every counted send to one customer until the caller's transaction ends: two
 * tablets sending at once take turns, and the second sees the first's row when it counts.
 */
export async function lockCustomer(trx: Trx, customerId: string): Promise<void> {
	await sql`select pg_advisory_xact_lock(${CONTACT_LOCK_CLASS}::int, hashtext(${customerId}::text))`.execute(trx);
}

/** Counted, not released contacts going out after `since` (scheduled ones included). */
export async function countedContacts(db: DbOrTrx, customerIds: string[], since: Date) {
	if (customerIds.length === 0) return [];
	return db
		.selectFrom('contact_log')
		.select(['customer_id', 'at'])
		.where('customer_id', 'in', customerIds)
		.where('counted', '=', true)
		.where('released_at', 'is', null)
		.where('at', '>', since)
		.execute();
}

export interface NewContact {
	customer_id: string;
	staff_id: string;
	store_id: string;
	kind: 'followup' | 'conversation';
	counted: boolean;
	follow_up_id: string | null;
	at: Date;
	composed_at: Date;
	override_by: string | null;
	override_reason: string | null;
}

export async function insertContact(db: DbOrTrx, row: NewContact): Promise<void> {
	await db.insertInto('contact_log').values(row).execute();
}

/** The follow-up never reached the customer (failed / cancelled): it stops counting. */
export async function releaseFollowUp(db: DbOrTrx, followUpId: string): Promise<void> {
	await db
		.updateTable('contact_log')
		.set({ released_at: sql<Date>`now()` })
		.where('follow_up_id', '=', followUpId)
		.where('released_at', 'is', null)
		.execute();
}

/** The newest contact that has gone out (at ≤ now) per customer, with who and from which store. */
export async function lastContacts(db: DbOrTrx, customerIds: string[], now: Date) {
	if (customerIds.length === 0) return [];
	return db
		.selectFrom('contact_log as l')
		.innerJoin('staff as s', 's.id', 'l.staff_id')
		.innerJoin('stores as st', 'st.id', 'l.store_id')
		.distinctOn('l.customer_id')
		.select(['l.customer_id', 'l.at', 'l.kind', 'l.channel', 'l.staff_id', 's.display_name as staff_name', 'st.name as store_name', 'st.name_en as store_name_en'])
		.where('l.customer_id', 'in', customerIds)
		.where('l.released_at', 'is', null)
		.where('l.at', '<=', now)
		.orderBy('l.customer_id')
		.orderBy('l.at', 'desc')
		.execute();
}

/** The facts that decide whether a customer may be messaged at all (consent, LINE, block). */
export async function reachability(db: DbOrTrx, customerIds: string[]) {
	if (customerIds.length === 0) return [];
	return db
		.selectFrom('customers')
		.select(['id', 'consent_messages', 'line_user_id', 'line_friend', 'line_blocked_at', 'merged_into'])
		.where('id', 'in', customerIds)
		.execute();
}

/** Overrides of a store (managers) or all (store null), newest first. */
export async function listOverrides(db: DbOrTrx, storeId: string | null, limit: number) {
	let q = db
		.selectFrom('contact_log as l')
		.innerJoin('staff as by', 'by.id', 'l.override_by')
		.innerJoin('staff as s', 's.id', 'l.staff_id')
		.innerJoin('customers as c', 'c.id', 'l.customer_id')
		.select(['l.id', 'l.created_at', 'l.at', 'l.customer_id', 'c.member_no', 'l.follow_up_id', 'l.override_reason', 'by.display_name as override_by_name', 's.display_name as staff_name', 'l.store_id'])
		.where('l.override_by', 'is not', null)
		.orderBy('l.created_at', 'desc')
		.limit(limit);
	if (storeId) q = q.where('l.store_id', '=', storeId);
	return q.execute();
}

/**
 * Follow-ups written without the send path (the demo seed) become contacts: counted when they
 * are follow-ups, at their send time. Idempotent (a follow-up already recorded is skipped).
 */
export async function recordUnrecordedFollowUps(db: DbOrTrx): Promise<number> {
	const result = await sql`
		insert into contact_log (customer_id, staff_id, store_id, kind, counted, follow_up_id, at, composed_at)
		select f.customer_id, f.staff_id, f.store_id, f.kind, f.kind = 'followup', f.id, coalesce(f.scheduled_for, f.sent_at, f.created_at), f.created_at
		from follow_ups f
		where f.status in ('queued', 'sending', 'sent')
			and not exists (select 1 from contact_log l where l.follow_up_id = f.id)`.execute(db);
	return Number(result.numAffectedRows ?? 0);
}
