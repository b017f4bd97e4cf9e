/** Kysely queries for LINE reachability and the LINE part of the customer timeline. */
import { reassignCustomerRows, type ReassignOptions } from '../../shared/reassign-customer.ts';
import { sql } from 'kysely';
import type { DbOrTrx, Trx } from '../../db/index.ts';

/** The customers behind LINE user ids: by customers.line_user_id, else a linked LINE identity; a merged record forwards to its survivor. */
export async function findCustomerIdsByLineUsers(db: DbOrTrx, lineUserIds: string[]): Promise<Map<string, string>> {
	const found = new Map<string, string>();
	if (lineUserIds.length === 0) return found;
	const direct = await db
		.selectFrom('customers')
		.select(['line_user_id', sql<string>`coalesce(merged_into, id)`.as('id')])
		.where('line_user_id', 'in', lineUserIds)
		.execute();
	for (const r of direct) found.set(r.line_user_id!, r.id);
	const rest = lineUserIds.filter((u) => !found.has(u));
	if (rest.length === 0) return found;
	const viaIdentity = await db
		.selectFrom('customer_identities')
		.innerJoin('customers', 'customers.id', 'customer_identities.customer_id')
		.select(['customer_identities.value', sql<string>`coalesce(customers.merged_into, customers.id)`.as('id')])
		.where('customer_identities.kind', '=', 'line')
		.where('customer_identities.value', 'in', rest)
		.execute();
	for (const r of viaIdentity) if (!found.has(r.value)) found.set(r.value, r.id);
	return found;
}

export interface NewLineEvent {
	webhookEventId: string;
	lineUserId: string;
	customerId: string | null;
	type: string;
	text: string | null;
	at: Date;
}

/** Timeline entries in one statement (in the given order); returns the webhook event ids that were new. */
export async function insertLineEvents(db: DbOrTrx, rows: NewLineEvent[]): Promise<Set<string>> {
	if (rows.length === 0) return new Set();
	const inserted = await db
		.insertInto('line_events')
		.values(
			rows.map((row) => ({
				webhook_event_id: row.webhookEventId,
				line_user_id: row.lineUserId,
				customer_id: row.customerId,
				type: row.type,
				message_text: row.text,
				occurred_at: row.at
			}))
		)
		.onConflict((oc) => oc.column('webhook_event_id').doNothing())
		.returning('webhook_event_id')
		.execute();
	return new Set(inserted.map((r) => r.webhook_event_id!));
}

/** The latest follow/unfollow seen for a LINE user before they became a member (applied at link time). */
export async function latestFollowEvent(db: DbOrTrx, lineUserId: string): Promise<{ type: string; occurred_at: Date } | null> {
	const row = await db
		.selectFrom('line_events')
		.select(['type', 'occurred_at'])
		.where('line_user_id', '=', lineUserId)
		.where('type', 'in', ['follow', 'unfollow'])
		.orderBy('occurred_at', 'desc')
		.limit(1)
		.executeTakeFirst();
	return row ?? null;
}

/** Erasure: the LINE events of the person (their user id and message texts) are deleted. */
export async function deleteLineEventsOf(trx: Trx, customerId: string, lineUserIds: string[]): Promise<number> {
	const rows = await trx
		.deleteFrom('line_events')
		.where((eb) => (lineUserIds.length > 0 ? eb.or([eb('customer_id', '=', customerId), eb('line_user_id', 'in', lineUserIds)]) : eb('customer_id', '=', customerId)))
		.returning('id')
		.execute();
	return rows.length;
}

/** Merge (and its undo): moves a customer's LINE events to another customer; returns the moved ids. */
export function reassignLineEvents(trx: DbOrTrx, from: string, to: string, options?: ReassignOptions): Promise<string[]> {
	return reassignCustomerRows(trx, 'line_events', 'id', from, to, options);
}
