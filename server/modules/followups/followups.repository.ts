/** Kysely queries for message templates, follow-ups (the outbox) and the push budget. */
import { reassignCustomerRows, type ReassignOptions } from '../../shared/reassign-customer.ts';
import { sql } from 'kysely';
import type { DbOrTrx, Trx } from '../../db/index.ts';

// ---- templates ----

export async function listTemplates(db: DbOrTrx) {
	return db.selectFrom('message_templates').select(['key', 'title', 'body', 'updated_at']).orderBy('key').execute();
}

export async function findTemplate(db: DbOrTrx, key: string) {
	return db.selectFrom('message_templates').select(['key', 'title', 'body']).where('key', '=', key).executeTakeFirst();
}

export async function upsertTemplate(db: DbOrTrx, key: string, title: string, body: string, staffId: string) {
	return db
		.insertInto('message_templates')
		.values({ key, title, body, updated_by: staffId })
		.onConflict((oc) => oc.column('key').doUpdateSet({ title, body, updated_by: staffId, updated_at: sql<Date>`now()` }))
		.returning(['key', 'title', 'body', 'updated_at'])
		.executeTakeFirstOrThrow();
}

// ---- compose ----

export async function findRecipient(db: DbOrTrx, customerId: string) {
	return db
		.selectFrom('customers')
		.select(['id', 'member_no', 'family_name', 'given_name', 'consent_messages', 'line_user_id', 'line_friend', 'line_blocked_at', 'merged_into'])
		.where('id', '=', customerId)
		.executeTakeFirst();
}

export async function findSender(db: DbOrTrx, staffId: string, storeId: string) {
	return db
		.selectFrom('staff')
		.select((eb) => [
			'staff.id',
			'staff.display_name',
			'staff.sender_name',
			'staff.sender_icon_url',
			eb.selectFrom('stores').select('stores.name').where('stores.id', '=', storeId).as('store_name')
		])
		.where('staff.id', '=', staffId)
		.executeTakeFirst();
}

export async function findProducts(db: DbOrTrx, ids: number[]) {
	if (ids.length === 0) return [];
	return db.selectFrom('products').select(['id', 'sku', 'name', 'price_yen', 'ec_url', 'image_url', 'active']).where('id', 'in', ids).execute();
}

/**
 * A staff answer in a conversation that must go as a push: queued in the same outbox (and so
 * sent with its own fixed retry key), marked 'conversation' so consent and contact limits,
 * which govern proactive follow-ups only, do not apply.
 */
export async function insertConversationPush(
	db: DbOrTrx,
	f: { id: string; customer_id: string; staff_id: string; store_id: string; body: string; messages: unknown[] }
): Promise<void> {
	await db
		.insertInto('follow_ups')
		.values({ ...f, template_key: null, kind: 'conversation', messages: JSON.stringify(f.messages) })
		.onConflict((oc) => oc.column('id').doNothing())
		.execute();
}

/** For each customer, the newest follow-up that went out (or is on its way): who sent it, when. */
export async function lastSenders(db: DbOrTrx, customerIds: string[]) {
	if (customerIds.length === 0) return [];
	return db
		.selectFrom('follow_ups')
		.distinctOn('customer_id')
		.select(['customer_id', 'staff_id', 'store_id', 'created_at'])
		.where('customer_id', 'in', customerIds)
		.where('status', 'in', ['queued', 'sending', 'sent'])
		.orderBy('customer_id')
		.orderBy('created_at', 'desc')
		.execute();
}

/** Pushes that went out (or are on their way) since a time: our own count of quota use. */
export async function pushesSince(db: DbOrTrx, since: Date): Promise<number> {
	const row = await db
		.selectFrom('follow_ups')
		.select(sql<number>`count(*)::int`.as('n'))
		.where('created_at', '>=', since)
		.where('status', 'in', ['queued', 'sending', 'sent'])
		.executeTakeFirstOrThrow();
	return row.n;
}

export interface NewFollowUp {
	id: string;
	customer_id: string;
	staff_id: string;
	store_id: string;
	template_key: string | null;
	body: string;
	messages: unknown[];
	/** Composed during quiet hours: not pushed before this time. */
	scheduled_for?: Date | null;
}

/** Inserts once per id (the client's idempotency key); false when that id already exists. */
export async function insertFollowUp(db: DbOrTrx, f: NewFollowUp): Promise<boolean> {
	const row = await db
		.insertInto('follow_ups')
		.values({ ...f, messages: JSON.stringify(f.messages), ...(f.scheduled_for ? { next_attempt_at: f.scheduled_for } : {}) })
		.onConflict((oc) => oc.column('id').doNothing())
		.returning('id')
		.executeTakeFirst();
	return row !== undefined;
}

export async function findFollowUp(db: DbOrTrx, id: string) {
	return db
		.selectFrom('follow_ups')
		.select(['id', 'customer_id', 'staff_id', 'store_id', 'status', 'attempts', 'failure_reason', 'created_at', 'sent_at', 'scheduled_for', 'messages', 'body'])
		.where('id', '=', id)
		.executeTakeFirst();
}

// ---- outbox ----

export interface ClaimedFollowUp {
	id: string;
	messages: unknown;
	retry_key: string;
	attempts: number;
	created_at: Date;
	scheduled_for: Date | null;
	line_user_id: string | null;
	line_friend: boolean;
	line_blocked_at: Date | null;
	consent_messages: boolean;
	merged_into: string | null;
	kind: 'followup' | 'conversation';
}

/**
 * Claims up to `limit` due follow-ups for this worker: `FOR UPDATE SKIP LOCKED` so concurrent
 * workers never take the same row, and a lease (`locked_until`) so a crashed worker's rows
 * come back. A row still 'sending' after its lease is reclaimed; its retry key stays the same.
 */
export async function claimDue(db: DbOrTrx, limit: number, leaseSeconds: number, dueAt: Date | null = null): Promise<ClaimedFollowUp[]> {
	if (limit <= 0) return [];
	const result = await sql<ClaimedFollowUp>`
		with due as (
			select id from follow_ups
			where status in ('queued', 'sending')
				and next_attempt_at <= coalesce(${dueAt}::timestamptz, now())
				and (locked_until is null or locked_until < now())
			order by next_attempt_at
			limit ${limit}
			for update skip locked
		)
		update follow_ups f
		set status = 'sending', attempts = f.attempts + 1, locked_until = now() + make_interval(secs => ${leaseSeconds})
		from due, customers c
		where f.id = due.id and c.id = f.customer_id
		returning f.id, f.messages, f.retry_key, f.attempts, f.created_at, f.scheduled_for, f.kind,
			c.line_user_id, c.line_friend, c.line_blocked_at, c.consent_messages, c.merged_into`.execute(db);
	return result.rows;
}

export async function markSent(db: DbOrTrx, id: string, requestId: string | null): Promise<void> {
	await db
		.updateTable('follow_ups')
		.set({ status: 'sent', sent_at: sql<Date>`now()`, line_request_id: requestId, locked_until: null, failure_reason: null })
		.where('id', '=', id)
		.where('status', '=', 'sending')
		.execute();
}

export async function markRetry(db: DbOrTrx, id: string, delayMs: number, reason: string): Promise<void> {
	await db
		.updateTable('follow_ups')
		.set({
			status: 'queued',
			locked_until: null,
			failure_reason: reason,
			next_attempt_at: sql<Date>`now() + make_interval(secs => ${delayMs / 1000})`
		})
		.where('id', '=', id)
		.where('status', '=', 'sending')
		.execute();
}

export async function markFinal(db: DbOrTrx, id: string, status: 'failed' | 'cancelled', reason: string): Promise<void> {
	await db
		.updateTable('follow_ups')
		.set({ status, locked_until: null, failure_reason: reason })
		.where('id', '=', id)
		.where('status', 'in', ['sending', 'queued'])
		.execute();
}

/**
 * Reserves up to `want` pushes from the channel-wide budget of the current time slot (shared
 * by every worker process through this row). Returns how many were granted (0 = wait).
 */
export async function reserveBudget(db: DbOrTrx, want: number, perSlot: number, slotMs: number): Promise<{ granted: number; slot: number }> {
	const result = await sql<{ last_grant: number; second: number }>`
		insert into followup_push_budget as b (second, used, last_grant)
		values (floor(extract(epoch from clock_timestamp()) * 1000 / ${slotMs})::bigint, least(${want}::int, ${perSlot}::int), least(${want}::int, ${perSlot}::int))
		on conflict (second) do update
			set used = b.used + least(${want}::int, ${perSlot}::int - b.used),
				last_grant = least(${want}::int, ${perSlot}::int - b.used)
			where b.used < ${perSlot}::int
		returning last_grant, second`.execute(db);
	const row = result.rows[0];
	return row ? { granted: row.last_grant, slot: Number(row.second) } : { granted: 0, slot: 0 };
}

/** Gives back budget reserved for a slot but not used (fewer rows were due than reserved). */
export async function releaseBudget(db: DbOrTrx, slot: number, unused: number): Promise<void> {
	if (unused <= 0) return;
	await sql`update followup_push_budget set used = greatest(0, used - ${unused}::int) where second = ${slot}::bigint`.execute(db);
}

export async function pruneBudget(db: DbOrTrx, slotMs: number): Promise<void> {
	await sql`delete from followup_push_budget where second < floor(extract(epoch from clock_timestamp()) * 1000 / ${slotMs})::bigint - 600`.execute(db);
}

/** Blocked: nothing queued for this customer may go out. Returns the cancelled ids. */
export async function cancelQueuedFollowUps(trx: Trx, customerId: string): Promise<string[]> {
	const rows = await trx
		.updateTable('follow_ups')
		.set({ status: 'cancelled', failure_reason: 'blocked' })
		.where('customer_id', '=', customerId)
		.where('status', 'in', ['queued'])
		.returning('id')
		.execute();
	return rows.map((r) => r.id);
}

/** Leaving or consent withdrawn: queued follow-ups are cancelled with that reason. */
export async function cancelQueuedWithReason(trx: Trx, customerId: string, reason: string): Promise<number> {
	const rows = await trx
		.updateTable('follow_ups')
		.set({ status: 'cancelled', failure_reason: reason })
		.where('customer_id', '=', customerId)
		.where('status', '=', 'queued')
		.returning('id')
		.execute();
	return rows.length;
}

/** Erasure: follow-ups stay for the funnel counts, without their text. */
export async function eraseFollowUpTextsOf(trx: Trx, customerId: string): Promise<void> {
	await trx.updateTable('follow_ups').set({ body: '', messages: JSON.stringify([]) as never }).where('customer_id', '=', customerId).execute();
}

/** Merge (and its undo): moves a customer's follow-ups (queued ones included) to another customer; returns the moved ids. */
export function reassignFollowUps(trx: DbOrTrx, from: string, to: string, options?: ReassignOptions): Promise<string[]> {
	return reassignCustomerRows(trx, 'follow_ups', 'id', from, to, options);
}
