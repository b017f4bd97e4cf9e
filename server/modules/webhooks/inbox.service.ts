/**
 * The durable webhook inbox, generic by `source`. Receipt is fast: verify (in the route), store
 * the delivery once, answer, poke the worker. Processing happens after the answer, in a worker
 * that claims due rows (FOR UPDATE SKIP LOCKED + a lease), runs the source's handler in a
 * transaction together with marking the row processed, and backs off exponentially on errors.
 * Delivery is at least once; handlers must be idempotent.
 *
 * Sources today: 'shopify' (webhooks.routes.ts → shopify.handler.ts) and 'line' (line.routes.ts →
 * line.service.ts). Each receipt stores with `receiveWebhook` and pokes the worker with
 * `deps.wake.inbox()`; each handler is listed in server/jobs/registry.ts. A handler throws
 * `PermanentInboxError` for payloads that can never succeed (parked with last_error); any other
 * error is retried with backoff.
 */
import type { Db, Trx } from '../../db/index.ts';
import type { AppDeps } from '../../http/context.ts';
import { INBOX_WORKER } from '../../jobs/wakeups.ts';
import type { WorkerSpec } from '../../jobs/worker.ts';
import type { Logger } from '../../logger.ts';
import { sanitizeForStorage, storableText } from '../../shared/safe-input.ts';
import {
	claimDueRows,
	countParked,
	insertInboxRow,
	insertInboxRows,
	listParked,
	markFailed,
	markOpenRowsProcessed,
	unpark,
	type InboxRow
} from './inbox.repository.ts';

export type { InboxRow };

/**
 * Processes one stored delivery inside `trx`; the row is marked processed in the same
 * transaction. A handler may also carry `batch`: all the open rows of its source in a claimed
 * batch (in received order) in one call, set-based; it must leave the state that processing
 * them one by one would. When it throws, the rows are processed one by one instead.
 */
export type InboxHandler = ((trx: Trx, row: InboxRow) => Promise<void>) & {
	batch?: (trx: Trx, rows: InboxRow[]) => Promise<void>;
};
export type InboxHandlers = Record<string, InboxHandler>;

/** A delivery that can never be processed as it is (bad shape, unsupported currency): parked, not retried. */
export class PermanentInboxError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'PermanentInboxError';
	}
}

export const INBOX_DEFAULTS = {
	/**
	 * Rows per claim. Shopify applies a batch set-based (a fixed handful of statements whatever
	 * its size), so larger batches amortise the claim and the commit: 20 → 50 took bench:orders
	 * from ~1,400 to ~2,400 orders/s of processing. A failed batch is redone row by row, so this
	 * also bounds that cost.
	 */
	batchSize: 50,
	/** A claimed row is re-claimable after this; must exceed the slowest handler by far. */
	leaseSeconds: 60,
	backoffBaseSeconds: 5,
	backoffMaxSeconds: 3600,
	/** After this many attempts a failing row is parked like a permanent failure. */
	maxAttempts: 15,
	idleMs: 1000,
	/**
	 * Batches a PostgreSQL worker processes side by side, each on its own pool connection (SKIP
	 * LOCKED gives each its own rows; the order-key lock serialises rows of one order). Most of
	 * a delivery's time is round trips, so lanes overlap waiting. PGlite has one connection: 1.
	 */
	postgresLanes: 3
};

export interface InboxOptions {
	batchSize?: number;
	leaseSeconds?: number;
	logger?: Logger;
}

/** 5 s, 10 s, 20 s … capped at an hour. `attempts` counts the failed attempt (1 = first). */
export function backoffSeconds(attempts: number): number {
	const { backoffBaseSeconds, backoffMaxSeconds } = INBOX_DEFAULTS;
	return Math.min(backoffMaxSeconds, backoffBaseSeconds * 2 ** Math.max(0, attempts - 1));
}

export interface Delivery {
	source: string;
	externalId: string;
	topic: string;
	payload: unknown;
}

/**
 * A verified delivery as it can be stored: we do not control vendor text, so NUL and lone
 * surrogates (which jsonb refuses) are cleaned rather than refused — refusing would make the
 * vendor redeliver it forever. Whatever else is wrong with it, the handler parks it.
 */
function storable(delivery: Delivery): Delivery {
	return {
		...delivery,
		externalId: storableText(delivery.externalId),
		topic: storableText(delivery.topic),
		payload: sanitizeForStorage(delivery.payload).value
	};
}

export async function receiveWebhook(db: Db, delivery: Delivery): Promise<{ id: number | null; duplicate: boolean }> {
	const id = await insertInboxRow(db, storable(delivery));
	return { id, duplicate: id === null };
}

/**
 * A verified delivery that cannot even be read (not JSON, a topic we do not handle): kept as
 * received, parked with its reason, so that it is answered 200 (the vendor stops redelivering),
 * nothing signed is lost, and an admin sees it.
 */
export async function parkUnreadableWebhook(
	db: Db,
	delivery: { source: string; externalId: string; topic: string; body: string },
	reason: string
): Promise<{ id: number | null; duplicate: boolean }> {
	const id = await insertInboxRow(db, {
		...storable({ source: delivery.source, externalId: delivery.externalId, topic: delivery.topic, payload: { unreadable: delivery.body } }),
		parkedReason: reason.slice(0, 2000)
	});
	return { id, duplicate: id === null };
}

/** Several deliveries of one callback stored together in one statement; returns how many were new. */
export async function receiveWebhooks(db: Db, deliveries: Delivery[]): Promise<number> {
	return insertInboxRows(db, deliveries.map(storable));
}

/** Deliveries parked for a person (reason in `lastError`), newest first; admins see and retry them. */
export async function parkedWebhooks(db: Db, limit: number, beforeId?: number) {
	const [rows, total] = await Promise.all([listParked(db, limit, beforeId), countParked(db)]);
	return {
		total,
		parked: rows.map((r) => ({
			id: r.id,
			source: r.source,
			externalId: r.external_id,
			topic: r.topic,
			attempts: r.attempts,
			receivedAt: new Date(r.received_at).toISOString(),
			reason: r.last_error ?? ''
		}))
	};
}

/** Puts a parked delivery back in the queue (after a fix); false when there is no such parked row. */
export async function retryParkedWebhook(db: Db, id: number, wakeInbox: () => void): Promise<boolean> {
	const done = await unpark(db, id);
	if (done) wakeInbox();
	return done;
}

export interface BatchResult {
	claimed: number;
	processed: number;
	failed: number;
}

/**
 * Claims one batch of due rows and processes it. Fast path: the whole batch in one transaction,
 * so up to `batchSize` deliveries share one commit (one WAL flush) instead of paying one each —
 * the commit was the largest single cost per order — and a handler with `batch` applies all its
 * rows set-based. If any row fails, that transaction rolls back as a whole (nothing of the
 * batch is kept) and the rows are processed again one transaction each, so the failure is
 * recorded against the row that caused it and the others go through. Handlers are idempotent
 * and transactional, so running a row's handler in a rolled-back transaction first changes
 * nothing.
 */
export async function processInboxBatch(db: Db, handlers: InboxHandlers, options: InboxOptions = {}): Promise<BatchResult> {
	const rows = await claimDueRows(
		db,
		Object.keys(handlers),
		options.batchSize ?? INBOX_DEFAULTS.batchSize,
		options.leaseSeconds ?? INBOX_DEFAULTS.leaseSeconds
	);
	// received order (the claim's RETURNING order is not guaranteed); rows of one order must go in it
	rows.sort((a, b) => a.id - b.id);
	const result: BatchResult = { claimed: rows.length, processed: 0, failed: 0 };
	const live: InboxRow[] = [];
	for (const row of rows) {
		if (await parkIfNeverFinished(db, row, options.logger)) result.failed++;
		else live.push(row);
	}
	if (live.length > 1 && (await processTogether(db, handlers, live, options.logger))) {
		result.processed += live.length;
		return result;
	}
	for (const row of live) {
		if (await processRow(db, handlers[row.source], row, options.logger)) result.processed++;
		else result.failed++;
	}
	return result;
}

/**
 * One transaction for the whole batch; false (and nothing kept) when any row failed. Rows go
 * in received order; a source whose handler has `batch` gets its rows in one call.
 */
async function processTogether(db: Db, handlers: InboxHandlers, rows: InboxRow[], logger?: Logger): Promise<boolean> {
	try {
		await db.transaction().execute(async (trx) => {
			const open = new Set(await markOpenRowsProcessed(trx, rows.map((r) => r.id)));
			for (const [source, group] of groupBySource(rows.filter((r) => open.has(r.id)))) {
				const handler = handlers[source];
				if (handler.batch) await handler.batch(trx, group);
				else for (const row of group) await handler(trx, row);
			}
		});
		return true;
	} catch (err) {
		// the per-row pass that follows records (and logs) the real failure; this says the batch
		// fell back (often a poison row; a deadlock between lanes would show here too)
		logger?.info({ rows: rows.length, error: err instanceof Error ? err.name : 'unknown' }, 'webhook batch redone one row at a time');
		return false;
	}
}

function groupBySource(rows: InboxRow[]): Map<string, InboxRow[]> {
	const groups = new Map<string, InboxRow[]>();
	for (const row of rows) {
		const group = groups.get(row.source);
		if (group) group.push(row);
		else groups.set(row.source, [row]);
	}
	return groups;
}

/**
 * Claimed more often than allowed without a recorded failure: its earlier attempts never
 * finished (the process died or hung each time). Park it rather than crash again.
 */
async function parkIfNeverFinished(db: Db, row: InboxRow, logger?: Logger): Promise<boolean> {
	if (row.attempts <= INBOX_DEFAULTS.maxAttempts) return false;
	await markFailed(db, row.id, `gave up after ${row.attempts - 1} attempts that never finished`, null);
	logger?.error({ inboxId: row.id, source: row.source, attempts: row.attempts }, 'webhook parked after unfinished attempts');
	return true;
}

async function processRow(db: Db, handler: InboxHandler, row: InboxRow, logger?: Logger): Promise<boolean> {
	try {
		await db.transaction().execute(async (trx) => {
			// marked first (row lock); a handler error rolls the mark back with everything else
			if ((await markOpenRowsProcessed(trx, [row.id])).length === 0) return;
			await handler(trx, row);
		});
		return true;
	} catch (err) {
		const permanent = err instanceof PermanentInboxError || row.attempts >= INBOX_DEFAULTS.maxAttempts;
		const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
		await markFailed(db, row.id, message.slice(0, 2000), permanent ? null : backoffSeconds(row.attempts));
		// ids only: error messages can quote payload values
		logger?.warn(
			{ inboxId: row.id, source: row.source, topic: row.topic, attempts: row.attempts, permanent, error: err instanceof Error ? err.name : 'unknown' },
			'webhook processing failed'
		);
		return false;
	}
}

/**
 * The background worker for every registered source. The receipt routes wake it through
 * `deps.wake.inbox()` (jobs/wakeups.ts); otherwise it looks again after idleMs.
 */
export function createInboxWorker(deps: AppDeps, handlers: InboxHandlers, options: InboxOptions = {}): WorkerSpec {
	const logger = options.logger ?? deps.logger;
	return {
		name: INBOX_WORKER,
		idleMs: INBOX_DEFAULTS.idleMs,
		tick: async () => {
			// a failed claim (database down) throws: the worker loop backs off exponentially
			const lanes = deps.config.database.url ? INBOX_DEFAULTS.postgresLanes : 1;
			const results = await Promise.all(Array.from({ length: lanes }, () => processInboxBatch(deps.db, handlers, { ...options, logger })));
			const claimed = results.reduce((sum, r) => sum + r.claimed, 0);
			if (claimed > 0) return claimed;
			return 0;
		}
	};
}

export { scrubPayloadsMentioning } from './inbox.repository.ts';
