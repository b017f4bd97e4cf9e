/**
 * The import use case: stream the file → validate each row → write in batches (one
 * transaction each) → record the run. Parsing the next batch overlaps with the database
 * writing the previous one; at most two batches are in memory, whatever the file size.
 * Bad rows are reported with their line and left out; good rows load.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { basename } from 'node:path';
import type pg from 'pg';
import type { Db, Trx } from '../db/index.ts';
import type { Orders } from '../modules/orders/orders.service.ts';
import { CsvFileError, openCsv, type CsvEncoding } from './csv-source.ts';
import { analyzeIfGrown, analyzeTables } from '../db/bulk.ts';
import { lastStorePurchaseId } from '../modules/purchases/purchases.service.ts';
import { createPosWriter } from '../modules/purchases/receipts.writer.ts';
import { finishImportRun, listStaffCodes, listStoreIds, startImportRun } from './import-runs.repository.ts';
import { importPosByCopy, type PosCopyPhase } from './pos-copy.ts';
import { knownColumns, parseRow, REQUIRED_COLUMNS, type ImportKind, type RowTypes } from './row-schemas.ts';
import { writeCustomersBatch } from './writers/customers.writer.ts';
import { writeEcBatch } from './writers/ec.writer.ts';
import { writeProductsBatch } from './writers/products.writer.ts';
import type { BadRow, BatchOutcome, KindWriter, NumberedRow, WriterContext } from './writers/types.ts';

export { CsvFileError };

export interface ImportOptions {
	kind: ImportKind;
	file: string;
	encoding?: CsvEncoding;
	/** Rows per transaction. */
	batchSize?: number;
	/** EC platform of the orders (the key they share with the webhook). */
	platform?: string;
	/** The orders module EC rows go through (with attribution): `composeModules(config).orders`. */
	orders: Orders;
	/** Where every bad row is written as `line,reason` (none when null). */
	errorsFile?: string | null;
	/** How many bad rows the summary keeps for printing. */
	keepErrors?: number;
	onProgress?: (p: ImportProgress) => void;
	/**
	 * The PostgreSQL pool behind `db`. Given, a POS file is staged with COPY and written
	 * set-based (pos-copy.ts); without it (PGlite) every kind goes through the batch writers.
	 */
	pool?: pg.Pool;
	/** COPY path: lines per staged chunk (tests use small chunks to cross many boundaries). */
	copyChunkLines?: number;
	/**
	 * Run after a POS import with the id the new receipts start after (the client book's
	 * first-sale ownership rule), as composed in server/compose.ts (`storeSaleHooks`).
	 */
	onStoreSales?: StoreSalesHook[];
}

/** Told about the store sale receipts an import added: every store_purchases id above `afterPurchaseId`. */
export type StoreSalesHook = (db: Db, event: { afterPurchaseId: number }) => Promise<unknown>;

export interface ImportProgress {
	bytesRead: number;
	bytesTotal: number;
	rowsRead: number;
	/** What the import is doing: reading the file, or (COPY path) a set-based step after it. */
	phase?: PosCopyPhase;
}

export interface ImportSummary {
	runId: number;
	kind: ImportKind;
	file: string;
	rowsRead: number;
	rowsOk: number;
	rowsBad: number;
	/** The first `keepErrors` bad rows, by line. */
	errors: BadRow[];
	errorsFile: string | null;
	warnings: Record<string, number>;
	counts: Record<string, number>;
	durationMs: number;
	/** Milliseconds per phase (COPY path), and of the store sale hooks after a POS import. */
	phaseMs?: Record<string, number>;
}

type OneStepWriter<R> = (trx: Trx, rows: Array<NumberedRow<R>>, ctx: WriterContext) => Promise<BatchOutcome>;
const oneStep = <R>(write: OneStepWriter<R>, ctx: WriterContext, groupKey?: (row: R) => string): KindWriter<R> => ({
	write: async (trx, rows) => ({ outcome: await write(trx, rows, ctx) }),
	groupKey
});

function writerFor(kind: ImportKind, ctx: WriterContext): KindWriter<RowTypes[ImportKind]> {
	const writers: { [K in ImportKind]: () => KindWriter<RowTypes[K]> } = {
		pos: () => createPosWriter(ctx),
		ec: () => oneStep(writeEcBatch, ctx, (r) => r.order_id),
		customers: () => oneStep(writeCustomersBatch, ctx),
		products: () => oneStep(writeProductsBatch, ctx)
	};
	return writers[kind]() as KindWriter<RowTypes[ImportKind]>;
}

/** `after` steps in flight at once (each holds a connection of the pool). */
const PARALLEL_AFTER_STEPS = 3;
const DEFAULT_BATCH = 5000;

export async function runImport(db: Db, options: ImportOptions): Promise<ImportSummary> {
	const started = performance.now();
	const { kind } = options;
	const summary: ImportSummary = {
		runId: 0,
		kind,
		file: options.file,
		rowsRead: 0,
		rowsOk: 0,
		rowsBad: 0,
		errors: [],
		errorsFile: options.errorsFile ?? null,
		warnings: {},
		counts: {},
		durationMs: 0
	};
	const errorLog = new BadRowLog(summary, options.errorsFile ?? null, options.keepErrors ?? 20);
	const source = await openCsv(options.file, { encoding: options.encoding, onSkip: (s) => errorLog.add(s) });
	checkHeader(kind, source.header);

	const ctx = await loadContext(db, options.platform ?? 'shopify', options.orders);
	summary.runId = await startImportRun(db, kind, basename(options.file));
	const batchSize = options.batchSize ?? DEFAULT_BATCH;
	const salesMark = kind === 'pos' && options.onStoreSales?.length ? await lastStorePurchaseId(db) : null;
	if (kind === 'pos' && options.pool) {
		const result = await importPosByCopy({
			db,
			pool: options.pool,
			source,
			ctx,
			batchSize,
			chunkLines: options.copyChunkLines,
			onBad: (bad) => errorLog.add(bad),
			onProgress: (rowsRead, phase) =>
				options.onProgress?.({ bytesRead: source.bytesRead(), bytesTotal: source.size, rowsRead, phase })
		}).finally(() => errorLog.close());
		summary.rowsRead = result.rowsRead;
		summary.phaseMs = result.phaseMs;
		merge(summary, errorLog, result.rowsOk, { bad: [], counts: result.counts, warnings: result.warnings });
	} else {
		await writeInBatches(db, kind, ctx, batchSize, source, summary, errorLog, options);
	}
	options.onProgress?.({ bytesRead: source.size, bytesTotal: source.size, rowsRead: summary.rowsRead });
	summary.rowsBad = errorLog.count;
	if (salesMark !== null) {
		const hooksFrom = performance.now();
		// the hooks read the new receipts: planned on statistics from before the import, their
		// joins loop over every new customer (0.7 s instead of 0.3 s at 1M lines)
		await analyzeIfGrown(db, [
			{ table: 'store_purchases', added: summary.counts.receipts_new ?? 0 },
			{ table: 'customers', added: summary.counts.customers_new ?? 0 }
		]);
		for (const hook of options.onStoreSales ?? []) await hook(db, { afterPurchaseId: salesMark });
		// shown apart: the hooks are other modules' work on the new receipts, not the import's
		summary.phaseMs = { ...summary.phaseMs, store_sale_hooks: Math.round(performance.now() - hooksFrom) };
	}
	await finishImportRun(db, summary.runId, summary.rowsOk, summary.rowsBad);
	summary.errors.sort((a, b) => a.line - b.line);
	summary.durationMs = performance.now() - started;
	return summary;
}

/** The batch writers: parse a batch, write it in a transaction while the next one is parsed. */
async function writeInBatches(
	db: Db,
	kind: ImportKind,
	ctx: WriterContext,
	batchSize: number,
	source: Awaited<ReturnType<typeof openCsv>>,
	summary: ImportSummary,
	errorLog: BadRowLog,
	options: ImportOptions
): Promise<void> {
	const writer = writerFor(kind, ctx);
	const pipeline = new WritePipeline(db, writer, (rows, outcome) => merge(summary, errorLog, rows, outcome));

	let batch: Array<NumberedRow<RowTypes[ImportKind]>> = [];
	let lastKey: string | null = null;
	try {
		for await (const record of source.records) {
			summary.rowsRead++;
			const parsed = parseRow(kind, record.values);
			if (parsed.ok) {
				const key = writer.groupKey?.(parsed.row) ?? null;
				// cut between groups only, so a receipt (an order) is written by one batch
				if (batch.length >= batchSize && (key === null || key !== lastKey)) {
					await pipeline.submit(batch);
					batch = [];
				}
				batch.push({ line: record.line, row: parsed.row });
				lastKey = key;
			} else {
				errorLog.add({ line: record.line, reason: parsed.reason });
			}
			if ((summary.rowsRead & 1023) === 0) {
				options.onProgress?.({ bytesRead: source.bytesRead(), bytesTotal: source.size, rowsRead: summary.rowsRead });
			}
		}
		if (batch.length > 0) await pipeline.submit(batch);
		await pipeline.drain();
		await writer.finish?.(db);
	} finally {
		await pipeline.settle();
		await errorLog.close();
	}
}

function checkHeader(kind: ImportKind, header: string[]): void {
	const missing = REQUIRED_COLUMNS[kind].filter((c) => !header.includes(c));
	if (missing.length > 0) throw new CsvFileError(`the header lacks required column(s): ${missing.join(', ')}`);
	const known = new Set(knownColumns(kind));
	if (!header.some((h) => known.has(h))) throw new CsvFileError(`the header has none of the ${kind} columns`);
}

async function loadContext(db: Db, platform: string, orders: Orders): Promise<WriterContext> {
	const [stores, staff] = await Promise.all([listStoreIds(db), listStaffCodes(db)]);
	return { storeIds: new Set(stores), staffIdByCode: new Map(staff.map((s) => [s.staff_code, s.id])), platform, orders };
}

function merge(summary: ImportSummary, errorLog: BadRowLog, rows: number, outcome: BatchOutcome): void {
	for (const bad of outcome.bad) errorLog.add(bad);
	summary.rowsOk += rows - outcome.bad.length;
	for (const [k, n] of Object.entries(outcome.counts)) summary.counts[k] = (summary.counts[k] ?? 0) + n;
	for (const [k, n] of Object.entries(outcome.warnings)) if (n > 0) summary.warnings[k] = (summary.warnings[k] ?? 0) + n;
}

/**
 * Batches go through `write` one at a time in file order (customer resolution must see the
 * customers earlier batches created), while up to PARALLEL_AFTER_STEPS `after` steps run on
 * other connections and the caller parses the next batch. A failure stops the import.
 */
class WritePipeline<R> {
	private writing: Promise<void> = Promise.resolve();
	private afterSteps = new Set<Promise<void>>();
	private failure: unknown = null;
	private batches = 0;
	constructor(
		private db: Db,
		private writer: KindWriter<R>,
		private onOutcome: (rows: number, outcome: BatchOutcome) => void
	) {}

	async submit(rows: Array<NumberedRow<R>>): Promise<void> {
		await this.writing;
		while (this.afterSteps.size >= PARALLEL_AFTER_STEPS) await Promise.race(this.afterSteps);
		this.throwIfFailed();
		this.batches++;
		// statistics before batches 3, 9, 33, 129, …: often while the tables grow fast, rarely later
		if (this.writer.growsTables && this.batches > 1 && Math.log2(this.batches - 1) % 2 === 1) {
			await analyzeTables(this.db, this.writer.growsTables);
		}
		this.writing = this.db
			.transaction()
			.execute((trx) => this.writer.write(trx, rows))
			.then(({ outcome, after }) => {
				this.onOutcome(rows.length, outcome);
				if (after) this.track(after(this.db).then((o) => this.onOutcome(0, o)));
			})
			.catch((err) => this.fail(err));
	}

	/** Waits for everything submitted; throws the first failure. */
	async drain(): Promise<void> {
		await this.settle();
		this.throwIfFailed();
	}

	/** Waits for everything submitted, ignoring failures (cleanup). */
	async settle(): Promise<void> {
		await this.writing;
		while (this.afterSteps.size > 0) await Promise.race(this.afterSteps);
	}

	private track(step: Promise<void>): void {
		const tracked: Promise<void> = step.catch((err) => this.fail(err)).finally(() => this.afterSteps.delete(tracked));
		this.afterSteps.add(tracked);
	}

	private fail(err: unknown): void {
		this.failure ??= err;
	}

	private throwIfFailed(): void {
		if (this.failure) throw this.failure;
	}
}

/** Bad rows: all of them to the errors file as they come, the first few kept for the summary. */
class BadRowLog {
	count = 0;
	private out: WriteStream | null = null;
	constructor(
		private summary: ImportSummary,
		private path: string | null,
		private keep: number
	) {}

	add(bad: BadRow): void {
		this.count++;
		if (this.summary.errors.length < this.keep) this.summary.errors.push(bad);
		if (!this.path) return;
		if (!this.out) {
			this.out = createWriteStream(this.path);
			this.out.write('line,reason\n');
		}
		this.out.write(`${bad.line},"${bad.reason.replace(/"/g, '""')}"\n`);
	}

	async close(): Promise<void> {
		const out = this.out;
		if (out) await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
	}
}

