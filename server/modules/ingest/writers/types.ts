import type { Trx } from '../../../db/index.ts';

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

/** Lookups loaded once per run (small tables only: they do not grow with the file). */
export interface WriterContext {
	storeIds: Set<string>;
	staffIdByCode: Map<string, string>;
	/** EC platform the orders belong to (shared key with the EC webhook). */
	platform: string;
}

export type BatchWriter<R> = (trx: Trx, rows: Array<NumberedRow<R>>, ctx: WriterContext) => Promise<BatchOutcome>;

export function emptyOutcome(): BatchOutcome {
	return { bad: [], warnings: {}, counts: {} };
}
