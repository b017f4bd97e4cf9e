/**
 * The POS import on PostgreSQL: rows are validated in JS as they stream from the file and go
 * by `COPY … FROM STDIN` into a TEMP staging table on one dedicated connection (backpressure
 * keeps memory flat); then a handful of set-based statements in one transaction write the
 * receipts and lines. Same results as the batch writer (pos.writer.ts), which PGlite uses.
 *
 * Customers: each receipt's identity tuple (member no, POS code, email, phone of its first
 * line) is resolved with `resolveCustomersBatch`, distinct tuples only, in the order the file
 * first shows them, in chunks on another connection while the file is still being read.
 * Resolving a tuple a second time would return the same customer and change nothing, so this
 * equals resolving every receipt in file order.
 */
import { Kysely, PostgresDialect } from 'kysely';
import type pg from 'pg';
import type { Database } from '../../db/types.ts';
import type { Db } from '../../db/index.ts';
import { resolveCustomersBatch, type BatchResolveItem } from '../customers/customers.service.ts';
import { copyField, startCopy } from './copy-stream.ts';
import type { CsvRecord } from './csv-source.ts';
import {
	analyzeTables,
	createPosStaging,
	dropPosStaging,
	insertStagedLines,
	insertStagedReceipts,
	refreshTouchedReceiptTotals,
	tuneBulkTransaction
} from './ingest.repository.ts';
import { parseRow, type PosRow } from './row-schemas.ts';
import type { BadRow, WriterContext } from './writers/types.ts';
import { posTxnId } from './writers/pos.writer.ts';

export type PosCopyPhase = 'reading' | 'customers' | 'receipts' | 'lines' | 'totals' | 'done';

export interface PosCopyInput {
	db: Db;
	pool: pg.Pool;
	records: AsyncIterable<CsvRecord>;
	ctx: WriterContext;
	/** The batch writer's batch size: a repeated line_no is a bad row within the same span of rows. */
	batchSize: number;
	onBad: (bad: BadRow) => void;
	/** Called every 1024 rows read, and when a set-based phase begins. */
	onProgress: (rowsRead: number, phase: PosCopyPhase) => void;
}

export interface PosCopyResult {
	rowsRead: number;
	rowsOk: number;
	counts: Record<string, number>;
	warnings: Record<string, number>;
	/** Milliseconds per phase (reading includes the COPY; customers is the wait after reading). */
	phaseMs: Record<string, number>;
}

/** Distinct tuples per resolveCustomersBatch call: one transaction, one advisory lock each. */
const RESOLVE_CHUNK = 2000;

export async function importPosByCopy(input: PosCopyInput): Promise<PosCopyResult> {
	const client = await input.pool.connect();
	const stage = kyselyOnClient(client);
	let failed: unknown = null;
	try {
		const phaseMs: Record<string, number> = {};
		let mark = performance.now();
		const phase = (p: PosCopyPhase) => {
			const now = performance.now();
			phaseMs[current] = Math.round(now - mark);
			mark = now;
			current = p;
			input.onProgress(read?.rowsRead ?? 0, p);
		};
		let current: PosCopyPhase = 'reading';
		let read: ReadResult | null = null;
		await createPosStaging(stage);
		read = await streamIntoStaging(client, input);
		phase('customers');
		const customers = await read.customers.finish();
		await copyCustomerMap(client, customers.customerOf);
		const written = await writeFromStaging(stage, read.rowsStaged, phase);
		phase('done');
		phaseMs.resolving_overlapped = Math.round(read.customers.busyMs);
		await dropPosStaging(stage);
		return {
			rowsRead: read.rowsRead,
			rowsOk: read.rowsStaged,
			counts: { customers_new: customers.created, ...written.counts },
			warnings: { unknown_staff_code: read.unknownStaff, ...written.warnings },
			phaseMs
		};
	} catch (err) {
		failed = err;
		throw err;
	} finally {
		// a failed connection may be mid-COPY: discard it rather than hand it back to the pool
		client.release(failed instanceof Error ? failed : undefined);
		await stage.destroy();
	}
}

/**
 * Kysely over the one client that owns the TEMP tables (the pool would hand out others).
 * `destroy` ends nothing: the caller releases the client.
 */
function kyselyOnClient(client: pg.PoolClient): Kysely<Database> {
	const pinned = { query: client.query.bind(client), release: () => {} };
	return new Kysely<Database>({
		dialect: new PostgresDialect({ pool: { connect: async () => pinned, end: async () => {} } as never })
	});
}

interface ReadResult {
	rowsRead: number;
	rowsStaged: number;
	unknownStaff: number;
	customers: CustomerResolver;
}

async function streamIntoStaging(client: pg.PoolClient, input: PosCopyInput): Promise<ReadResult> {
	const { ctx } = input;
	const copy = startCopy(client, 'copy pos_stage from stdin');
	const customers = new CustomerResolver(input.db);
	let rowsRead = 0;
	let rowsStaged = 0;
	let unknownStaff = 0;
	// the batch writer's span rule: a span ends at a receipt boundary once it holds batchSize rows
	let spanRows = 0;
	let lastKey: string | null = null;
	let seenInSpan = new Map<string, number>();
	let lastReceipt: string | null = null;
	try {
		for await (const record of input.records) {
			rowsRead++;
			if ((rowsRead & 1023) === 0) input.onProgress(rowsRead, 'reading');
			const parsed = parseRow('pos', record.values);
			if (!parsed.ok) {
				input.onBad({ line: record.line, reason: parsed.reason });
				continue;
			}
			const row = parsed.row;
			const txn = posTxnId(row);
			if (spanRows >= input.batchSize && txn !== lastKey) {
				spanRows = 0;
				seenInSpan = new Map();
				lastReceipt = null;
			}
			spanRows++;
			lastKey = txn;
			const bad = checkRow(row, txn, record.line, ctx, seenInSpan);
			if (bad) {
				input.onBad(bad);
				continue;
			}
			let tupleId: number | null = null;
			let staffId: string | null = null;
			if (txn !== lastReceipt) {
				// the receipt's first line: its customer and staff
				lastReceipt = txn;
				tupleId = customers.add(row);
				if (row.staff_code) {
					staffId = ctx.staffIdByCode.get(row.staff_code) ?? null;
					if (!staffId) unknownStaff++;
				}
				await customers.keepUp();
			}
			rowsStaged++;
			await copy.row(
				`${record.line}\t${copyField(txn)}\t${copyField(row.store_code)}\t${copyField(row.purchased_at)}\t${copyField(tupleId)}\t` +
					`${copyField(staffId)}\t${row.line_no}\t${copyField(row.sku)}\t${row.quantity}\t${row.unit_price_yen}\t${row.amount_yen}`
			);
		}
		await copy.end();
	} catch (err) {
		await customers.finish().catch(() => {});
		throw err;
	}
	return { rowsRead, rowsStaged, unknownStaff, customers };
}

/** Store codes must exist; a receipt line number may appear once (within a span, as the batch writer checks). */
function checkRow(row: PosRow, txn: string, line: number, ctx: WriterContext, seen: Map<string, number>): BadRow | null {
	if (!ctx.storeIds.has(row.store_code)) return { line, reason: `unknown store_code "${row.store_code}"` };
	const key = `${txn}\u0000${row.line_no}`;
	const earlier = seen.get(key);
	if (earlier !== undefined) return { line, reason: `line_no ${row.line_no} of receipt ${row.receipt_no} repeats line ${earlier}` };
	seen.set(key, line);
	return null;
}

/**
 * Distinct identity tuples, numbered in the order of first appearance, resolved in chunks one
 * after another (file order) on pool connections while the reader goes on.
 */
class CustomerResolver {
	private ids = new Map<string, number>();
	private pending: BatchResolveItem[] = [];
	private firstPending = 0;
	private chain: Promise<void> = Promise.resolve();
	private inFlight = 0;
	private failure: unknown = null;
	readonly customerOf: Array<string | null> = [];
	created = 0;
	/** Time spent resolving (overlaps the reading). */
	busyMs = 0;

	constructor(private db: Db) {}

	/** The tuple's number, or null for an anonymous receipt (nothing to resolve). */
	add(row: PosRow): number | null {
		if (!row.member_no && !row.customer_code && !row.email && !row.phone) return null;
		const key = `${row.member_no ?? ''}\u0000${row.customer_code ?? ''}\u0000${row.email ?? ''}\u0000${row.phone ?? ''}`;
		const known = this.ids.get(key);
		if (known !== undefined) return known;
		const id = this.ids.size;
		this.ids.set(key, id);
		this.customerOf.push(null);
		// the same item the batch writer builds from a receipt's first line
		this.pending.push({
			identities: { pos: row.customer_code, email: row.email, phone: row.phone },
			memberNo: row.member_no,
			profile: { email: row.email, phone: row.phone, home_store_id: row.store_code }
		});
		if (this.pending.length >= RESOLVE_CHUNK) this.submit();
		return id;
	}

	/** Backpressure: the reader waits while two chunks are already queued. */
	async keepUp(): Promise<void> {
		if (this.failure) throw this.failure;
		while (this.inFlight >= 2) await this.chain;
	}

	async finish(): Promise<{ customerOf: Array<string | null>; created: number }> {
		this.submit();
		await this.chain;
		if (this.failure) throw this.failure;
		return { customerOf: this.customerOf, created: this.created };
	}

	private submit(): void {
		if (this.pending.length === 0) return;
		const items = this.pending;
		const first = this.firstPending;
		this.pending = [];
		this.firstPending += items.length;
		this.inFlight++;
		this.chain = this.chain.then(async () => {
			try {
				if (this.failure) return;
				const began = performance.now();
				const results = await this.db.transaction().execute((trx) => resolveCustomersBatch(trx, items));
				results.forEach((r, i) => {
					this.customerOf[first + i] = r?.customerId ?? null;
					if (r?.created) this.created++;
				});
				this.busyMs += performance.now() - began;
			} catch (err) {
				this.failure ??= err;
			} finally {
				this.inFlight--;
			}
		});
	}
}

async function copyCustomerMap(client: pg.PoolClient, customerOf: Array<string | null>): Promise<void> {
	const copy = startCopy(client, 'copy pos_stage_customer from stdin');
	for (let i = 0; i < customerOf.length; i++) {
		const id = customerOf[i];
		if (id) await copy.row(`${i}\t${id}`);
	}
	await copy.end();
}

async function writeFromStaging(
	stage: Kysely<Database>,
	rowsStaged: number,
	phase: (p: PosCopyPhase) => void
): Promise<{ counts: Record<string, number>; warnings: Record<string, number> }> {
	return stage.transaction().execute(async (trx) => {
		await tuneBulkTransaction(trx);
		// TEMP tables get no autovacuum statistics: without them every join plan is a guess
		await analyzeTables(trx, ['pos_stage', 'pos_stage_customer']);
		phase('receipts');
		const receiptsNew = await insertStagedReceipts(trx);
		await analyzeTables(trx, ['store_purchases']);
		phase('lines');
		const lines = await insertStagedLines(trx);
		phase('totals');
		await refreshTouchedReceiptTotals(trx, lines.inserted < rowsStaged);
		return {
			counts: { receipts_new: receiptsNew, lines_new: lines.inserted, lines_already_present: rowsStaged - lines.inserted },
			warnings: { unknown_sku: lines.unknownSku }
		};
	});
}
