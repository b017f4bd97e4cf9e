/** Kysely queries on conversations, their messages, handovers and quota snapshots; no rules here. */
import { reassignCustomerRows, type ReassignOptions } from '../../shared/reassign-customer.ts';
import { sql } from 'kysely';
import type { DbOrTrx, Trx } from '../../db/index.ts';
import { CONVERSATION_CHANNEL, type ConversationChange } from './events.ts';

/** Which conversations a list shows (the service decides who may ask for which). */
export type ListFilter =
	| { kind: 'assignee'; staffId: string }
	| { kind: 'store_queue'; storeId: string }
	| { kind: 'store'; storeId: string }
	| { kind: 'brand_queue' }
	| { kind: 'all' };

/** Where a page ends: the last row's place in the list order. */
export interface ListCursor {
	unread: boolean;
	at: string;
	id: string;
}

const CONVERSATION_COLUMNS = [
	'conversations.id',
	'conversations.line_user_id',
	'conversations.customer_id',
	'conversations.display_name',
	'conversations.assigned_staff_id',
	'conversations.store_id',
	'conversations.status',
	'conversations.unread_count',
	'conversations.last_message_at',
	'conversations.last_message_preview',
	'conversations.last_inbound_at'
] as const;

export async function findConversation(db: DbOrTrx, id: string) {
	return db.selectFrom('conversations').select(CONVERSATION_COLUMNS).where('id', '=', id).executeTakeFirst();
}

export async function findConversationByLineUser(db: DbOrTrx, lineUserId: string) {
	return db.selectFrom('conversations').select(CONVERSATION_COLUMNS).where('line_user_id', '=', lineUserId).executeTakeFirst();
}

export async function findConversationByCustomer(db: DbOrTrx, customerId: string) {
	return db
		.selectFrom('conversations')
		.select(CONVERSATION_COLUMNS)
		.where('customer_id', '=', customerId)
		.orderBy('last_message_at', (ob) => ob.desc().nullsLast())
		.limit(1)
		.executeTakeFirst();
}

/** Which of these LINE users have a conversation already (a plain read: no lock). */
export async function conversationLineUsers(db: DbOrTrx, lineUserIds: string[]) {
	if (lineUserIds.length === 0) return [];
	return db.selectFrom('conversations').select('line_user_id').where('line_user_id', 'in', lineUserIds).execute();
}

/**
 * The conversations of these LINE users, locked (FOR UPDATE) in line-user order: concurrent
 * batches take the locks in the same order, so they queue instead of deadlocking.
 */
export async function lockConversationsByLineUsers(trx: Trx, lineUserIds: string[]) {
	if (lineUserIds.length === 0) return [];
	return trx.selectFrom('conversations').select(CONVERSATION_COLUMNS).where('line_user_id', 'in', lineUserIds).orderBy('line_user_id').forUpdate().execute();
}

export interface NewConversation {
	lineUserId: string;
	customerId: string | null;
	staffId: string | null;
	storeId: string | null;
}

/** Creates conversations (one per LINE user); a concurrent creator's row wins — lock and read them after. */
export async function insertConversations(trx: Trx, rows: NewConversation[]): Promise<void> {
	if (rows.length === 0) return;
	await trx
		.insertInto('conversations')
		.values(
			[...rows]
				.sort((a, b) => (a.lineUserId < b.lineUserId ? -1 : a.lineUserId > b.lineUserId ? 1 : 0))
				.map((row) => ({ line_user_id: row.lineUserId, customer_id: row.customerId, assigned_staff_id: row.staffId, store_id: row.storeId }))
		)
		.onConflict((oc) => oc.column('line_user_id').doNothing())
		.execute();
}

/** Several conversations routed again (reopened) in one statement. */
export async function reassignMany(trx: Trx, rows: Array<{ id: string; staffId: string | null; storeId: string | null }>): Promise<void> {
	if (rows.length === 0) return;
	const json = JSON.stringify(rows.map((r) => ({ id: r.id, staff_id: r.staffId, store_id: r.storeId })));
	await sql`
		update conversations c set assigned_staff_id = v.staff_id, store_id = v.store_id, updated_at = now()
		from jsonb_to_recordset(${json}::jsonb) as v(id uuid, staff_id uuid, store_id text)
		where c.id = v.id`.execute(trx);
}

export interface InboundRow {
	conversationId: string;
	webhookEventId: string;
	kind: string;
	text: string;
	details: unknown;
	replyToken: string | null;
	markAsReadToken: string | null;
	at: Date;
}

/** Stores inbound messages in one statement, once per webhook event; returns the event ids that were new. */
export async function insertInbounds(trx: Trx, rows: InboundRow[]): Promise<Set<string>> {
	if (rows.length === 0) return new Set();
	const inserted = await trx
		.insertInto('conversation_messages')
		.values(
			rows.map((m) => ({
				conversation_id: m.conversationId,
				direction: 'in',
				kind: m.kind,
				text: m.text,
				details: m.details === null ? null : JSON.stringify(m.details),
				webhook_event_id: m.webhookEventId,
				reply_token: m.replyToken,
				reply_token_at: m.replyToken ? m.at : null,
				mark_as_read_token: m.markAsReadToken,
				occurred_at: m.at
			}))
		)
		.onConflict((oc) => oc.column('webhook_event_id').doNothing())
		.returning('webhook_event_id')
		.execute();
	return new Set(inserted.map((r) => r.webhook_event_id!));
}

export interface InboundSummary {
	id: string;
	/** New inbound messages of the conversation. */
	count: number;
	/** The newest of them (its preview replaces the shown one unless an even newer message is stored). */
	at: Date;
	preview: string;
}

/**
 * New inbound messages, per conversation in one statement: that many more unread, back to 要対応;
 * the preview follows the newest message (events may arrive out of order).
 */
export async function recordInbounds(trx: Trx, rows: InboundSummary[]): Promise<void> {
	if (rows.length === 0) return;
	const json = JSON.stringify(rows.map((r) => ({ id: r.id, n: r.count, at: r.at.toISOString(), preview: r.preview })));
	await sql`
		update conversations c set
			unread_count = c.unread_count + v.n,
			status = 'open',
			last_message_preview = case when c.last_message_at is null or c.last_message_at <= v.at then v.preview else c.last_message_preview end,
			last_message_at = greatest(c.last_message_at, v.at),
			last_inbound_at = greatest(c.last_inbound_at, v.at),
			updated_at = now()
		from jsonb_to_recordset(${json}::jsonb) as v(id uuid, n integer, at timestamptz, preview text)
		where c.id = v.id`.execute(trx);
}

export async function recordOutboundPreview(db: DbOrTrx, id: string, preview: string, at: Date): Promise<void> {
	await db
		.updateTable('conversations')
		.set({
			last_message_preview: preview,
			last_message_at: sql<Date>`greatest(last_message_at, ${at})`,
			updated_at: sql<Date>`now()`
		})
		.where('id', '=', id)
		.execute();
}

/** A member joined: the conversation they started as a LINE user becomes theirs. */
export async function linkCustomer(db: DbOrTrx, lineUserId: string, customerId: string) {
	return db
		.updateTable('conversations')
		.set({ customer_id: customerId, updated_at: sql<Date>`now()` })
		.where('line_user_id', '=', lineUserId)
		.where('customer_id', 'is', null)
		.returning(['id', 'assigned_staff_id', 'store_id'])
		.executeTakeFirst();
}

export async function setDisplayName(db: DbOrTrx, id: string, name: string): Promise<void> {
	await db.updateTable('conversations').set({ display_name: name }).where('id', '=', id).execute();
}

/** For each customer, the staff member who last answered in their conversations, with when. */
export async function lastAnswerers(db: DbOrTrx, customerIds: string[]) {
	if (customerIds.length === 0) return [];
	return db
		.selectFrom('conversation_messages as m')
		.innerJoin('conversations as c', 'c.id', 'm.conversation_id')
		.distinctOn('c.customer_id')
		.select(['c.customer_id', 'm.staff_id', 'm.store_id', 'm.occurred_at'])
		.where('c.customer_id', 'in', customerIds)
		.where('m.direction', '=', 'out')
		.where('m.state', 'in', ['sent', 'queued', 'sending'])
		.orderBy('c.customer_id')
		.orderBy('m.occurred_at', 'desc')
		.execute();
}

export async function staffFacts(db: DbOrTrx, staffId: string) {
	return db.selectFrom('staff').select(['id', 'active', 'home_store_id', 'role']).where('id', '=', staffId).executeTakeFirst();
}

export async function staffFactsMany(db: DbOrTrx, staffIds: string[]) {
	if (staffIds.length === 0) return [];
	return db.selectFrom('staff').select(['id', 'active', 'home_store_id', 'role']).where('id', 'in', staffIds).execute();
}

const CUSTOMER_FACTS = ['id', 'owner_staff_id', 'home_store_id', 'family_name', 'given_name', 'line_friend', 'line_blocked_at', 'merged_into', 'member_no'] as const;

export async function customerFacts(db: DbOrTrx, customerId: string) {
	return db.selectFrom('customers').select(CUSTOMER_FACTS).where('id', '=', customerId).executeTakeFirst();
}

export async function customerFactsMany(db: DbOrTrx, customerIds: string[]) {
	if (customerIds.length === 0) return [];
	return db.selectFrom('customers').select(CUSTOMER_FACTS).where('id', 'in', customerIds).execute();
}

/**
 * A page of conversations: unread first, then the most recent, then the id; after `cursor`
 * (keyset: each filter has an index in exactly this order, so a page costs the same at any depth).
 */
export async function listConversations(db: DbOrTrx, filter: ListFilter, limit: number, cursor: ListCursor | null) {
	let q = db
		.selectFrom('conversations')
		.leftJoin('customers', 'customers.id', 'conversations.customer_id')
		.leftJoin('staff', 'staff.id', 'conversations.assigned_staff_id')
		.select([
			...CONVERSATION_COLUMNS,
			'customers.family_name',
			'customers.given_name',
			'customers.member_no',
			'staff.display_name as staff_name',
			sql<string | null>`conversations.last_message_at::text`.as('cursor_at')
		]);
	if (filter.kind === 'assignee') q = q.where('conversations.assigned_staff_id', '=', filter.staffId);
	else if (filter.kind === 'store_queue') q = q.where('conversations.store_id', '=', filter.storeId).where('conversations.assigned_staff_id', 'is', null);
	else if (filter.kind === 'store') q = q.where('conversations.store_id', '=', filter.storeId);
	else if (filter.kind === 'brand_queue') q = q.where('conversations.store_id', 'is', null).where('conversations.assigned_staff_id', 'is', null);
	if (cursor) {
		q = q.where(
			sql<boolean>`((conversations.unread_count > 0), conversations.last_message_at, conversations.id) < (${cursor.unread}, ${cursor.at}::timestamptz, ${cursor.id}::uuid)`
		);
	}
	return q
		.orderBy(sql`(conversations.unread_count > 0)`, 'desc')
		.orderBy('conversations.last_message_at', 'desc')
		.orderBy('conversations.id', 'desc')
		.limit(limit)
		.execute();
}

export interface UnreadGroup {
	assigned_staff_id: string | null;
	store_id: string | null;
	unread: number;
	conversations: number;
}

/**
 * Unread messages and conversations grouped by (assignee, store) — the two facts visibility
 * depends on — limited to what concerns the given staff members and stores (and the brand
 * queue), or everything when `everything` (admins). Each badge is then a sum of the groups its
 * staff member may see.
 */
export async function unreadGroups(db: DbOrTrx, staffIds: string[], storeIds: string[], everything: boolean): Promise<UnreadGroup[]> {
	let q = db
		.selectFrom('conversations')
		.select(['assigned_staff_id', 'store_id', sql<number>`sum(unread_count)::int`.as('unread'), sql<number>`count(*)::int`.as('conversations')])
		.where('unread_count', '>', 0);
	if (!everything) {
		q = q.where((eb) =>
			eb.or([
				...(staffIds.length > 0 ? [eb('assigned_staff_id', 'in', staffIds)] : []),
				...(storeIds.length > 0 ? [eb('store_id', 'in', storeIds)] : []),
				eb.and([eb('store_id', 'is', null), eb('assigned_staff_id', 'is', null)])
			])
		);
	}
	return q.groupBy(['assigned_staff_id', 'store_id']).execute();
}

export async function listMessages(db: DbOrTrx, conversationId: string, limit: number) {
	const rows = await db
		.selectFrom('conversation_messages as m')
		.leftJoin('staff', 'staff.id', 'm.staff_id')
		.leftJoin('follow_ups as f', 'f.id', 'm.follow_up_id')
		.select([
			'm.id',
			'm.direction',
			'm.kind',
			'm.text',
			'm.details',
			'm.staff_id',
			'staff.display_name as staff_name',
			'm.delivery',
			'm.state',
			'f.status as push_status',
			'm.failure_reason',
			'f.failure_reason as push_failure',
			'm.read_marked_at',
			'm.client_id',
			'm.messages',
			'm.occurred_at'
		])
		.where('m.conversation_id', '=', conversationId)
		.orderBy('m.occurred_at', 'desc')
		.orderBy('m.id', 'desc')
		.limit(limit)
		.execute();
	return rows.reverse();
}

/** The newest reply token of the conversation still unused (the service decides whether it is in time). */
export async function latestOpenToken(db: DbOrTrx, conversationId: string) {
	return db
		.selectFrom('conversation_messages')
		.select(['id', 'reply_token_at', 'reply_token_used_at'])
		.where('conversation_id', '=', conversationId)
		.where('direction', '=', 'in')
		.where('reply_token', 'is not', null)
		.orderBy('reply_token_at', 'desc')
		.limit(1)
		.executeTakeFirst();
}

/**
 * Takes the newest unused reply token younger than `windowSeconds`, atomically: the row is
 * marked used in the same statement (SKIP LOCKED), so two tablets answering at once never both
 * get it — the second finds none and pushes.
 */
export async function claimReplyToken(db: DbOrTrx, conversationId: string, windowSeconds: number, now: Date): Promise<string | null> {
	const result = await sql<{ reply_token: string }>`
		with open as (
			select id from conversation_messages
			where conversation_id = ${conversationId} and direction = 'in'
				and reply_token is not null and reply_token_used_at is null
				and reply_token_at > ${now}::timestamptz - make_interval(secs => ${windowSeconds})
			order by reply_token_at desc
			limit 1
			for update skip locked
		)
		update conversation_messages m set reply_token_used_at = ${now}::timestamptz
		from open where m.id = open.id and m.reply_token_used_at is null
		returning m.reply_token`.execute(db);
	return result.rows[0]?.reply_token ?? null;
}

export interface NewOutbound {
	conversationId: string;
	clientId: string;
	staffId: string;
	storeId: string;
	text: string;
	messages: unknown[];
	at: Date;
}

/** Inserts a staff answer once per client id; null when that id exists already. */
export async function insertOutbound(db: DbOrTrx, m: NewOutbound): Promise<number | null> {
	const row = await db
		.insertInto('conversation_messages')
		.values({
			conversation_id: m.conversationId,
			direction: 'out',
			kind: 'text',
			text: m.text,
			client_id: m.clientId,
			staff_id: m.staffId,
			store_id: m.storeId,
			state: 'sending',
			messages: JSON.stringify(m.messages),
			occurred_at: m.at
		})
		.onConflict((oc) => oc.column('client_id').doNothing())
		.returning('id')
		.executeTakeFirst();
	return row?.id ?? null;
}

export async function findOutboundByClientId(db: DbOrTrx, clientId: string) {
	return db
		.selectFrom('conversation_messages')
		.select(['id', 'conversation_id', 'staff_id', 'delivery', 'state', 'failure_reason', 'follow_up_id'])
		.where('client_id', '=', clientId)
		.executeTakeFirst();
}

export async function updateOutbound(
	db: DbOrTrx,
	id: number,
	set: { delivery?: 'reply' | 'push'; state: 'sent' | 'queued' | 'failed' | 'refused'; followUpId?: string | null; failureReason?: string | null }
): Promise<void> {
	await db
		.updateTable('conversation_messages')
		.set({
			...(set.delivery ? { delivery: set.delivery } : {}),
			state: set.state,
			...(set.followUpId !== undefined ? { follow_up_id: set.followUpId } : {}),
			failure_reason: set.failureReason ?? null
		})
		.where('id', '=', id)
		.execute();
}

/** Staff opened it: nothing unread any more. Returns the newest mark-as-read token not yet used. */
export async function markConversationRead(db: DbOrTrx, id: string): Promise<{ wasUnread: boolean; token: { id: number; token: string } | null }> {
	const updated = await db
		.updateTable('conversations')
		.set({ unread_count: 0 })
		.where('id', '=', id)
		.where('unread_count', '>', 0)
		.returning('id')
		.executeTakeFirst();
	const token = await db
		.selectFrom('conversation_messages')
		.select(['id', 'mark_as_read_token'])
		.where('conversation_id', '=', id)
		.where('direction', '=', 'in')
		.where('mark_as_read_token', 'is not', null)
		.where('read_marked_at', 'is', null)
		.orderBy('occurred_at', 'desc')
		.limit(1)
		.executeTakeFirst();
	return { wasUnread: updated !== undefined, token: token ? { id: token.id, token: token.mark_as_read_token! } : null };
}

/** LINE marks everything up to a token's message read: so are the older ones. */
export async function recordReadMark(db: DbOrTrx, conversationId: string, upToId: number): Promise<void> {
	await db
		.updateTable('conversation_messages')
		.set({ read_marked_at: sql<Date>`now()` })
		.where('conversation_id', '=', conversationId)
		.where('direction', '=', 'in')
		.where('id', '<=', upToId)
		.where('read_marked_at', 'is', null)
		.execute();
}

export async function setStatus(db: DbOrTrx, id: string, status: 'open' | 'done'): Promise<void> {
	await db.updateTable('conversations').set({ status, updated_at: sql<Date>`now()` }).where('id', '=', id).execute();
}

export async function reassign(trx: Trx, id: string, staffId: string | null, storeId: string | null): Promise<void> {
	await trx
		.updateTable('conversations')
		.set({ assigned_staff_id: staffId, store_id: storeId, updated_at: sql<Date>`now()` })
		.where('id', '=', id)
		.execute();
}

export async function insertHandover(
	trx: Trx,
	h: { conversationId: string; fromStaffId: string; toStaffId: string | null; toStoreId: string | null; note: string }
): Promise<void> {
	await trx
		.insertInto('conversation_handovers')
		.values({ conversation_id: h.conversationId, from_staff_id: h.fromStaffId, to_staff_id: h.toStaffId, to_store_id: h.toStoreId, note: h.note })
		.execute();
}

export async function listHandovers(db: DbOrTrx, conversationId: string) {
	return db
		.selectFrom('conversation_handovers as h')
		.innerJoin('staff as f', 'f.id', 'h.from_staff_id')
		.leftJoin('staff as t', 't.id', 'h.to_staff_id')
		.leftJoin('stores as s', 's.id', 'h.to_store_id')
		.select(['h.id', 'f.display_name as from_name', 't.display_name as to_name', 's.name as to_store_name', 'h.note', 'h.created_at'])
		.where('h.conversation_id', '=', conversationId)
		.orderBy('h.created_at', 'desc')
		.limit(20)
		.execute();
}

/** Announces a change to every process's event streams; delivered when `db`'s transaction commits. */
export async function notifyChange(db: DbOrTrx, change: ConversationChange): Promise<void> {
	await notifyChanges(db, [change]);
}

/** Several changes in one statement (one NOTIFY each; PostgreSQL folds identical ones of a transaction). */
export async function notifyChanges(db: DbOrTrx, changes: ConversationChange[]): Promise<void> {
	if (changes.length === 0) return;
	const payloads = JSON.stringify(changes.map((c) => JSON.stringify(c)));
	await sql`select pg_notify(${CONVERSATION_CHANNEL}, p) from jsonb_array_elements_text(${payloads}::jsonb) as p`.execute(db);
}

// ---- quota ----

export async function insertQuotaSnapshot(db: DbOrTrx, s: { planType: string; limit: number | null; totalUsage: number }): Promise<void> {
	await db.insertInto('line_quota_snapshots').values({ plan_type: s.planType, plan_limit: s.limit, total_usage: s.totalUsage }).execute();
}

export async function latestQuotaSnapshot(db: DbOrTrx, since: Date) {
	return db
		.selectFrom('line_quota_snapshots')
		.select(['plan_type', 'plan_limit', 'total_usage', 'taken_at'])
		.where('taken_at', '>=', since)
		.orderBy('taken_at', 'desc')
		.limit(1)
		.executeTakeFirst();
}

/** Our own answers this month by store and staff: free replies and pushes. */
export async function answerCounts(db: DbOrTrx, since: Date) {
	return db
		.selectFrom('conversation_messages as m')
		.leftJoin('staff', 'staff.id', 'm.staff_id')
		.leftJoin('stores', 'stores.id', 'm.store_id')
		.select([
			'm.store_id',
			'stores.name as store_name',
			'm.staff_id',
			'staff.display_name as staff_name',
			sql<number>`count(*) filter (where m.delivery = 'reply' and m.state = 'sent')::int`.as('free_replies'),
			sql<number>`count(*) filter (where m.delivery = 'push' and m.state in ('queued', 'sent'))::int`.as('pushes')
		])
		.where('m.direction', '=', 'out')
		.where('m.occurred_at', '>=', since)
		.groupBy(['m.store_id', 'stores.name', 'm.staff_id', 'staff.display_name'])
		.orderBy('m.store_id')
		.execute();
}

/**
 * Erasure: the person's conversation keeps its counts but loses every text, token and name;
 * the LINE user id (NOT NULL, unique) becomes a placeholder that names no one.
 */
export async function eraseConversationsOf(trx: Trx, customerId: string, lineUserIds: string[]): Promise<number> {
	let q = trx.selectFrom('conversations').select('id').where('customer_id', '=', customerId);
	if (lineUserIds.length > 0) q = trx.selectFrom('conversations').select('id').where((eb) => eb.or([eb('customer_id', '=', customerId), eb('line_user_id', 'in', lineUserIds)]));
	const ids = (await q.execute()).map((r) => r.id);
	if (ids.length === 0) return 0;
	await trx
		.updateTable('conversation_messages')
		.set({ text: '', details: null, reply_token: null, mark_as_read_token: null, messages: null, failure_reason: null })
		.where('conversation_id', 'in', ids)
		.execute();
	await trx.updateTable('conversation_handovers').set({ note: '' }).where('conversation_id', 'in', ids).execute();
	await trx
		.updateTable('conversations')
		.set({ line_user_id: sql<string>`'erased-' || id::text`, display_name: null, last_message_preview: null })
		.where('id', 'in', ids)
		.execute();
	return ids.length;
}

/** Merge (and its undo): moves a customer's LINE conversations to another customer; returns the moved ids. */
export function reassignConversations(trx: DbOrTrx, from: string, to: string, options?: ReassignOptions): Promise<string[]> {
	return reassignCustomerRows(trx, 'conversations', 'id', from, to, options);
}
