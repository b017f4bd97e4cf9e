import type { Db, Trx } from '../../db/index.ts';
import type { Orders } from '../../modules/orders/orders.service.ts';

export interface NumberedRow<R> {
	line: number;
	row: R;
}

export interface BadRow {
	line: number;
	reason: string;
}

/** What a batch did: rows refused by database checks, warnings and named counters. */
export interface BatchOutcome {
	bad: BadRow[];
	warnings: Record<string, number>;
	counts: Record<string, number>;
}

export interface BatchResult {
	outcome: BatchOutcome;
	/**
	 * A second step that needs nothing from later batches (e.g. receipt lines once the receipts
	 * exist): it runs on another connection while the next batches go through `write`.
	 */
	after?: (db: Db) => Promise<BatchOutcome>;
}

/** Lookups loaded once per run (small tables only: they do not grow with the file). */
export interface WriterContext {
	storeIds: Set<string>;
	staffIdByCode: Map<string, string>;
	/** EC platform the orders belong to (shared key with the EC webhook). */
	platform: string;
	/** The orders module with its change hooks (attribution), as composed in runtime.ts. */
	orders: Orders;
}

export interface KindWriter<R> {
	/** Writes a batch inside one transaction; batches go through `write` one at a time, in file order. */
	write(trx: Trx, rows: Array<NumberedRow<R>>): Promise<BatchResult>;
	/** Rows with the same key are kept in one batch when they are consecutive (a receipt, an order). */
	groupKey?: (row: R) => string;
	/** Tables this kind grows: their statistics are refreshed now and then during a big import. */
	growsTables?: string[];
	/** Runs once after every batch and `after` step is done. */
	finish?: (db: Db) => Promise<void>;
}

export function emptyOutcome(): BatchOutcome {
	return { bad: [], warnings: {}, counts: {} };
}
