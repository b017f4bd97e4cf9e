/** Kysely queries on webhook_inbox; no rules here (see inbox.service.ts). */
import { sql } from 'kysely';
import type { DbOrTrx, Trx } from '../../db/index.ts';
import { escapeLike } from '../../db/like.ts';

export interface InboxRow {
	id: number;
	source: string;
	external_id: string;
	topic: string;
	payload: unknown;
	attempts: number;
}

/**
 * Stores deliveries in ONE statement (all or none: the events of one LINE callback are kept
 * together), once per (source, external_id). Returns how many were new.
 */
export async function insertInboxRows(
	db: DbOrTrx,
	rows: Array<{ source: string; externalId: string; topic: string; payload: unknown }>
): Promise<number> {
	if (rows.length === 0) return 0;
	const inserted = await db
		.insertInto('webhook_inbox')
		.values(rows.map((r) => ({ source: r.source, external_id: r.externalId, topic: r.topic, payload: JSON.stringify(r.payload) })))
		.onConflict((oc) => oc.columns(['source', 'external_id']).doNothing())
		.returning('id')
		.execute();
	return inserted.length;
}

/**
 * Stores a delivery once per (source, external_id); returns null for a duplicate. With
 * `parkedReason` it is stored parked (never due) with that reason, for a person to look at.
 */
export async function insertInboxRow(
	db: DbOrTrx,
	row: { source: string; externalId: string; topic: string; payload: unknown; parkedReason?: string }
): Promise<number | null> {
	const inserted = await db
		.insertInto('webhook_inbox')
		.values({
			source: row.source,
			external_id: row.externalId,
			topic: row.topic,
			payload: JSON.stringify(row.payload),
			...(row.parkedReason ? { last_error: row.parkedReason, next_attempt_at: sql<Date>`'infinity'::timestamptz` } : {})
		})
		.onConflict((oc) => oc.columns(['source', 'external_id']).doNothing())
		.returning('id')
		.executeTakeFirst();
	return inserted?.id ?? null;
}

/**
 * Claims up to `limit` due rows of the given sources: unprocessed, due, and not leased (or the
 * lease ran out — a crashed process's rows come back). SKIP LOCKED lets several claimers run
 * side by side without waiting on or taking each other's rows; the lease and the attempt count
 * are written in the same statement.
 */
export async function claimDueRows(
	db: DbOrTrx,
	sources: string[],
	limit: number,
	leaseSeconds: number
): Promise<InboxRow[]> {
	if (sources.length === 0) return [];
	const due = db
		.selectFrom('webhook_inbox')
		.select('id')
		.where('processed_at', 'is', null)
		.where('next_attempt_at', '<=', sql<Date>`now()`)
		.where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', sql<Date>`now()`)]))
		.where('source', 'in', sources)
		.orderBy('next_attempt_at')
		.orderBy('id')
		.limit(limit)
		.forUpdate()
		.skipLocked();
	return db
		.updateTable('webhook_inbox')
		.set({
			locked_until: sql<Date>`now() + make_interval(secs => ${leaseSeconds})`,
			attempts: sql<number>`attempts + 1`
		})
		.where('id', 'in', due)
		.returning(['id', 'source', 'external_id', 'topic', 'payload', 'attempts'])
		.execute();
}

/**
 * Marks the given rows processed inside `trx` and returns the ids that were still open. The
 * update takes the row locks the way `lockUnprocessedRow` does: a second processor of the same
 * row waits here and then skips it; a rollback (handler error) leaves the row unprocessed.
 */
export async function markOpenRowsProcessed(trx: Trx, ids: number[]): Promise<number[]> {
	if (ids.length === 0) return [];
	const rows = await trx
		.updateTable('webhook_inbox')
		.set({ processed_at: sql<Date>`now()`, locked_until: null, last_error: null })
		.where('id', 'in', ids)
		.where('processed_at', 'is', null)
		.returning('id')
		.execute();
	return rows.map((r) => r.id);
}

/** Records a failure and when to try again (`null` → never: parked for a person to look at). */
export async function markFailed(db: DbOrTrx, id: number, error: string, retryInSeconds: number | null): Promise<void> {
	await db
		.updateTable('webhook_inbox')
		.set({
			last_error: error,
			locked_until: null,
			next_attempt_at:
				retryInSeconds === null ? sql<Date>`'infinity'::timestamptz` : sql<Date>`now() + make_interval(secs => ${retryInSeconds})`
		})
		.where('id', '=', id)
		.where('processed_at', 'is', null)
		.execute();
}

export interface ParkedRow {
	id: number;
	source: string;
	external_id: string;
	topic: string;
	attempts: number;
	received_at: Date;
	last_error: string | null;
}

/** Parked: never processed and never due again (next_attempt_at = infinity), newest first. */
export async function listParked(db: DbOrTrx, limit: number, beforeId?: number): Promise<ParkedRow[]> {
	let q = db
		.selectFrom('webhook_inbox')
		.select(['id', 'source', 'external_id', 'topic', 'attempts', 'received_at', 'last_error'])
		.where('processed_at', 'is', null)
		.where('next_attempt_at', '=', sql<Date>`'infinity'::timestamptz`)
		.orderBy('id', 'desc')
		.limit(limit);
	if (beforeId !== undefined) q = q.where('id', '<', beforeId);
	return q.execute();
}

export async function countParked(db: DbOrTrx): Promise<number> {
	const row = await db
		.selectFrom('webhook_inbox')
		.select((eb) => eb.fn.countAll<number>().as('n'))
		.where('processed_at', 'is', null)
		.where('next_attempt_at', '=', sql<Date>`'infinity'::timestamptz`)
		.executeTakeFirstOrThrow();
	return Number(row.n);
}

/** Makes a parked row due now with a fresh attempt count; false when it is not parked. */
export async function unpark(db: DbOrTrx, id: number): Promise<boolean> {
	const row = await db
		.updateTable('webhook_inbox')
		.set({ next_attempt_at: sql<Date>`now()`, attempts: 0, locked_until: null })
		.where('id', '=', id)
		.where('processed_at', 'is', null)
		.where('next_attempt_at', '=', sql<Date>`'infinity'::timestamptz`)
		.returning('id')
		.executeTakeFirst();
	return row !== undefined;
}

/**
 * Erasure: stored webhook bodies (an EC order with its email and address, a LINE event with
 * the user id and message) that mention any of the person's identifiers lose their payload.
 * Only values of 6+ characters are searched, so a short value cannot blank unrelated rows.
 */
export async function scrubPayloadsMentioning(trx: Trx, values: string[]): Promise<number> {
	const needles = values.filter((v) => v.length >= 6);
	if (needles.length === 0) return 0;
	const rows = await trx
		.updateTable('webhook_inbox')
		.set({ payload: sql`'{"erased":true}'::jsonb`, last_error: null })
		.where(sql<boolean>`payload::text ilike any (${sql.raw('array[')}${sql.join(needles.map((n) => `%${escapeLike(n)}%`))}${sql.raw(']::text[]')})`)
		.returning('id')
		.execute();
	return rows.length;
}
