/**
 * The POS import on PostgreSQL: rows are parsed and validated in JS as they stream from the
 * file (plain lines in place, PosLineParser) and kept per chunk in columns (typed arrays); each
 * chunk is then written in one transaction by the purchases module's COPY writer
 * (server/modules/purchases/copy.writer.ts: binary `COPY … FROM STDIN` straight into
 * store_purchases and store_purchase_lines) while the next chunk is read. Same results as the
 * purchases batch writer (receipts.writer.ts), which PGlite uses.
 *
 * Chunks end at a receipt boundary. A chunk's receipts are grouped and summed in JS (store,
 * time, staff, customer of their first line; total; return when every line is negative) and
 * numbered in the order the file first shows them; at write time that many receipt ids are
 * drawn from the table's own identity sequence, so the lines can be copied with their
 * receipt's id and the tables need no join, sort or aggregate.
 *
 * The direct COPY assumes what holds for a first import: none of the chunk's receipts is stored
 * yet and no line number repeats within it. When a receipt is stored after all (a re-import, an
 * unsorted file whose receipt came back in a later chunk: the COPY fails on the unique key,
 * after waiting for that chunk's commit as an insert would), the chunk's transaction is rolled
 * back and the chunk takes the general path: COPY into TEMP staging tables, then set-based
 * inserts that skip what is stored and recompute totals of receipts that received lines.
 *
 * Customers: each receipt's identity tuple (member no, POS code, email, phone of its first
 * line) is resolved with `resolveCustomersBatch`, distinct tuples only, in the order the file
 * first shows them, in batches on another connection while the file is still being read; a
 * chunk's write waits for its tuples. Resolving a tuple a second time would return the same
 * customer and change nothing, so this equals resolving every receipt in file order.
 *
 * Foreign keys: when the session may (see canSkipPurchaseFkTriggers), the purchase tables, new
 * customers and identities are written without per-row FK triggers — a million trigger calls,
 * each locking a row, were a third of the write time — and each chunk (each resolver batch)
 * checks and locks the rows it references in one statement instead (lockReferences /
 * lockStagedReferences / resolveCustomersBatch's skipFkTriggers). Otherwise the FK triggers
 * run as usual.
 *
 * One thread does all of it: the reader yields to the event loop every 256 rows, so query
 * results of the resolver and the writers are read promptly.
 */
import type pg from 'pg';
import { tuneBulkTransaction } from '../db/bulk.ts';
import type { Db } from '../db/index.ts';
import { isIdentityTaken, resolveCustomersBatch, type BatchResolveItem } from '../modules/customers/customers.service.ts';
import { listProductIdsBySku } from '../modules/products/products.service.ts';
import {
	ChunkLines,
	ChunkReceipts,
	ChunkWriter,
	closeSlotStaging,
	openSlot,
	ProductTable,
	type Chunk,
	type Slot,
	type TupleRef
} from '../modules/purchases/copy.writer.ts';
import { canSkipPurchaseFkTriggers } from '../modules/purchases/purchases.service.ts';
import { posTxnId } from '../modules/purchases/receipts.writer.ts';
import { cellsOf, type CsvSource, type LineBatch, type RawRecord } from './csv-source.ts';
import { PosLineParser } from './pos-line.ts';
import { parseRow, type PosRow } from './row-schemas.ts';
import type { BadRow, WriterContext } from './writers/types.ts';

/** reading: the file (chunks are written meanwhile); writing: the last chunks after the file. */
export type PosCopyPhase = 'reading' | 'writing' | 'done';

export interface PosCopyInput {
	db: Db;
	pool: pg.Pool;
	/** The file, a piece at a time (no promise per record), its lines parsed in place where they are plain. */
	source: Pick<CsvSource, 'header' | 'rawBatches' | 'valuesOf' | 'bytesRead' | 'size'>;
	ctx: WriterContext;
	/** The batch writer's batch size: a repeated line_no is a bad row within the same span of rows. */
	batchSize: number;
	/** Lines per chunk (default 50,000); small values exercise chunk boundaries in tests. */
	chunkLines?: number;
	onBad: (bad: BadRow) => void;
	/** Called every 1024 rows read, and when a phase begins. */
	onProgress: (rowsRead: number, phase: PosCopyPhase) => void;
}

export interface PosCopyResult {
	rowsRead: number;
	rowsOk: number;
	counts: Record<string, number>;
	warnings: Record<string, number>;
	/**
	 * Milliseconds: `reading` (the file, with chunk writes overlapping) and `writing` (what was
	 * left after it) add up to the import; the `_overlapped` ones are busy times summed over
	 * chunks. Also how many chunks went by direct COPY and how many through staging.
	 */
	phaseMs: Record<string, number>;
}

/** Distinct tuples per resolveCustomersBatch call: one transaction, one advisory lock per tuple. */
const RESOLVE_CHUNK = 2000;
const DEFAULT_CHUNK_LINES = 50_000;
/** Chunks in flight, each on its own connection: one being read while two are written (fewer when the pool is small). */
const SLOTS = 3;

export async function importPosByCopy(input: PosCopyInput): Promise<PosCopyResult> {
	const slots: Slot[] = [];
	let failed: unknown = null;
	try {
		// each slot holds a connection for the whole import and the resolver needs one more: with
		// fewer connections than that the resolver would wait forever for a free one
		const poolMax = input.pool.options.max ?? 10;
		if (poolMax < 2) throw new Error('the POS COPY import needs a pool of at least 2 connections');
		const slotCount = Math.min(SLOTS, poolMax - 1);
		for (let i = 0; i < slotCount; i++) slots.push(await openSlot(input.pool));
		const skipFkTriggers = await canSkipPurchaseFkTriggers(slots[0].db);
		const products = new ProductTable(await listProductIdsBySku(input.db));
		const writer = new ChunkWriter(skipFkTriggers, products);
		const started = performance.now();
		const read = await readIntoChunks(input, slots, writer, products);
		const readMs = performance.now() - started;
		input.onProgress(read.rowsRead, 'writing');
		await writer.drain();
		const phaseMs = {
			reading: Math.round(readMs),
			writing: Math.round(performance.now() - started - readMs),
			reader_waiting_slots: Math.round(read.waits.slots),
			reader_waiting_customers: Math.round(read.waits.customers),
			resolving_overlapped: Math.round(read.customers.busyMs),
			...Object.fromEntries(Object.entries(writer.busyMs).map(([k, ms]) => [`${k}_overlapped`, Math.round(ms)]))
		};
		input.onProgress(read.rowsRead, 'done');
		for (const slot of slots) await closeSlotStaging(slot);
		return {
			rowsRead: read.rowsRead,
			rowsOk: read.rowsStaged,
			counts: {
				customers_new: read.customers.created,
				receipts_new: writer.receiptsNew,
				lines_new: writer.linesNew,
				lines_already_present: read.rowsStaged - writer.linesNew
			},
			warnings: { unknown_staff_code: read.unknownStaff, unknown_sku: writer.unknownSku },
			phaseMs: { ...phaseMs, chunks_direct: writer.chunksDirect, chunks_staged: writer.chunksStaged, fk_triggers_skipped: skipFkTriggers ? 1 : 0 }
		};
	} catch (err) {
		failed = err;
		throw err;
	} finally {
		for (const slot of slots) {
			// a failed connection may be mid-COPY: discard it rather than hand it back to the pool
			slot.client.release(failed instanceof Error ? failed : undefined);
			await slot.db.destroy();
		}
	}
}

/**
 * The batch writer's rule for repeated line numbers, which decides bad rows: within a span of
 * rows, a receipt's line number may appear once. Kept as index lists in flat arrays, not an
 * array per receipt.
 */
class SpanLineCheck {
	private receiptIndex = new Map<string, number>();
	private head: number[] = [];
	private lineNo: number[] = [];
	private fileLine: number[] = [];
	private next: number[] = [];
	private lastTxn = '';
	private lastIndex = -1;

	reset(): void {
		this.receiptIndex = new Map();
		this.head.length = this.lineNo.length = this.fileLine.length = this.next.length = 0;
		this.lastTxn = '';
		this.lastIndex = -1;
	}

	/** The file line of an earlier row of the span with this receipt and line number, or 0 (noted then). */
	repeats(txn: string, lineNo: number, fileLine: number): number {
		let r = txn === this.lastTxn ? this.lastIndex : this.receiptIndex.get(txn);
		if (r === undefined) {
			r = this.head.length;
			this.head.push(-1);
			this.receiptIndex.set(txn, r);
		}
		this.lastTxn = txn;
		this.lastIndex = r;
		for (let e = this.head[r]; e >= 0; e = this.next[e]) if (this.lineNo[e] === lineNo) return this.fileLine[e];
		this.lineNo.push(lineNo);
		this.fileLine.push(fileLine);
		this.next.push(this.head[r]);
		this.head[r] = this.lineNo.length - 1;
		return 0;
	}
}

interface ReadResult {
	rowsRead: number;
	rowsStaged: number;
	unknownStaff: number;
	customers: CustomerResolver;
	/** Milliseconds the reader waited: for a slot (its chunk's write), for the customer resolver. */
	waits: { slots: number; customers: number };
}

async function readIntoChunks(input: PosCopyInput, slots: Slot[], writer: ChunkWriter, products: ProductTable): Promise<ReadResult> {
	const { ctx } = input;
	const chunkLines = input.chunkLines ?? DEFAULT_CHUNK_LINES;
	const customers = new CustomerResolver(input.db, writer.skipFkTriggers);
	let rowsRead = 0;
	let rowsStaged = 0;
	let unknownStaff = 0;
	// the batch writer's span rule: a span ends at a receipt boundary once it holds batchSize rows
	let spanRows = 0;
	const span = new SpanLineCheck();
	let lastReceipt: string | null = null;
	// the receipt of the last row that parsed (a span ends where its id changes): most rows
	// continue it, and skip building its id and the map look-up
	let prevStore = '';
	let prevReceiptNo = '';
	let prevTxn = '';
	let currentRid = -1;
	let chunks = 0;
	const waits = { slots: 0, customers: 0 };
	const startChunk = async (): Promise<Chunk> => {
		const seq = chunks++;
		const slot = slots[seq % slots.length];
		const waitFrom = performance.now();
		await slot.busy;
		waits.slots += performance.now() - waitFrom;
		writer.throwIfFailed();
		// the slot's previous chunk is written: its line columns are reused
		const lines = slot.lines ?? new ChunkLines(chunkLines + 64);
		const receipts = slot.receipts ?? new ChunkReceipts();
		lines.clear();
		receipts.clear();
		slot.lines = lines;
		slot.receipts = receipts;
		return { seq, slot, receipts, lines, repeatsLine: false, customersReady: null };
	};
	const endChunk = (chunk: Chunk) => {
		chunk.customersReady = customers.flush();
		chunk.customersReady.catch(() => {}); // awaited by the write; a failure stops the import there
		chunk.slot.busy = writer.submit(chunk);
	};
	let chunk: Chunk | null = null;
	const { source } = input;
	const parser = new PosLineParser(source.header);
	/** parseRow on a record's cells (the lines the fast parser leaves, or csv-parse's records). */
	const general = (line: number, cells: string[]): PosRow | null => {
		const parsed = parseRow('pos', source.valuesOf(cells));
		if (parsed.ok) return parsed.row;
		input.onBad({ line, reason: parsed.reason });
		return null;
	};
	try {
		for await (const batch of source.rawBatches) {
			const records = Array.isArray(batch) ? batch : null;
			const lines = Array.isArray(batch) ? null : batch;
			const count = records ? records.length : (lines as LineBatch).count;
			for (let k = 0; k < count; k++) {
				rowsRead++;
				if ((rowsRead & 255) === 0) {
					if ((rowsRead & 1023) === 0) input.onProgress(rowsRead, 'reading');
					// let I/O callbacks run: buffered file pieces would keep the reader going in
					// microtasks while the resolver's and the writers' query results wait behind it
					await yieldToIo();
				}
				let line: number;
				let row: PosRow | null;
				if (lines) {
					line = lines.lines[k];
					// reused by the next parse: nothing below keeps the object itself
					row = parser.parse(lines.text, lines.starts[k], lines.ends[k]) ?? general(line, cellsOf(lines, k));
				} else {
					line = (records as RawRecord[])[k].line;
					row = general(line, (records as RawRecord[])[k].cells);
				}
				if (!row) continue;
				const txn = row.store_code === prevStore && row.receipt_no === prevReceiptNo ? prevTxn : posTxnId(row);
				if (spanRows >= input.batchSize && txn !== prevTxn) {
					spanRows = 0;
					span.reset();
					lastReceipt = null;
				}
				spanRows++;
				prevStore = row.store_code;
				prevReceiptNo = row.receipt_no;
				prevTxn = txn;
				if (!ctx.storeIds.has(row.store_code)) {
					input.onBad({ line, reason: `unknown store_code "${row.store_code}"` });
					continue;
				}
				const earlier = span.repeats(txn, row.line_no, line);
				if (earlier) {
					input.onBad({ line, reason: `line_no ${row.line_no} of receipt ${row.receipt_no} repeats line ${earlier}` });
					continue;
				}
				let tuple: TupleRef | null = null;
				const startsGroup = txn !== lastReceipt;
				if (startsGroup) {
					// a chunk ends between receipts only
					if (chunk && chunk.lines.length >= chunkTarget(chunk.seq, chunkLines, source.bytesRead() / source.size)) {
						endChunk(chunk);
						chunk = null;
					}
					// the receipt's first line: its customer and staff
					lastReceipt = txn;
					tuple = customers.add(row);
					if (row.staff_code && !ctx.staffIdByCode.has(row.staff_code)) unknownStaff++;
					if (customers.mustWait()) {
						const waitFrom = performance.now();
						await customers.keepUp();
						waits.customers += performance.now() - waitFrom;
					}
				}
				chunk ??= await startChunk();
				// within a group the chunk is the same (it ends between groups only): the row before's receipt
				let rid = !startsGroup && currentRid >= 0 ? currentRid : chunk.receipts.ridOf(txn);
				if (rid === undefined) {
					const staffId = row.staff_code ? (ctx.staffIdByCode.get(row.staff_code) ?? null) : null;
					rid = chunk.receipts.add(txn, row, staffId, tuple);
				}
				currentRid = rid;
				if (!chunk.receipts.addLine(rid, row)) chunk.repeatsLine = true;
				rowsStaged++;
				chunk.lines.push(rid, line, row, products.indexOf(row.sku));
			}
		}
		if (chunk) endChunk(chunk);
	} catch (err) {
		await customers.flush().catch(() => {});
		await writer.drain().catch(() => {});
		throw err;
	}
	return { rowsRead, rowsStaged, unknownStaff, customers, waits };
}

/**
 * Lines for a chunk (it ends at the first receipt boundary past them): the first chunks are
 * smaller, so that writing begins while the resolver still creates the customers of the file's
 * first receipts (its busiest stretch: most customers of a file first appear near its start, and
 * a full first chunk waited for all of theirs with the writers idle); the last ones too, so
 * less is left to write once the file is read.
 */
function chunkTarget(seq: number, full: number, fractionRead: number): number {
	const ramp = Math.ceil((full * Math.min(4, seq + 1)) / 4);
	return fractionRead > 0.97 ? Math.min(ramp, Math.ceil(full / 4)) : ramp;
}

/** A turn of the event loop (setImmediate runs after pending I/O callbacks). */
const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve));


const sameTuple = (e: TupleEntry, row: PosRow) =>
	e.code === row.customer_code && e.memberNo === row.member_no && e.email === row.email && e.phone === row.phone;

/** A tuple as the file wrote it, found by one of its ids (CustomerResolver's buckets). */
interface TupleEntry {
	memberNo: string | null;
	code: string | null;
	email: string | null;
	phone: string | null;
	ref: TupleRef;
}

/**
 * Distinct identity tuples, in the order of first appearance, resolved in batches one after
 * another (file order) on pool connections while the reader goes on.
 */
class CustomerResolver {
	/**
	 * Tuples by their first id present (POS code, else member no, email, phone), then compared
	 * field by field: a look-up per receipt without building a key string from four fields.
	 */
	private buckets = new Map<string, TupleEntry | TupleEntry[]>();
	private pending: BatchResolveItem[] = [];
	private pendingRefs: TupleRef[] = [];
	private chain: Promise<void> = Promise.resolve();
	private inFlight = 0;
	private failure: unknown = null;
	created = 0;
	/** Time spent resolving (overlaps the reading). */
	busyMs = 0;

	constructor(
		private db: Db,
		private skipFkTriggers: boolean
	) {}

	/** The tuple, or null for an anonymous receipt (nothing to resolve). */
	add(row: PosRow): TupleRef | null {
		const { member_no: memberNo, customer_code: code, email, phone } = row;
		// only a bucket: tuples whose first ids read the same share it, and are told apart below
		const key = code ?? memberNo ?? email ?? phone;
		if (key === null) return null;
		const bucket = this.buckets.get(key);
		if (bucket !== undefined) {
			if (!Array.isArray(bucket)) {
				if (sameTuple(bucket, row)) return bucket.ref;
			} else {
				for (const e of bucket) if (sameTuple(e, row)) return e.ref;
			}
		}
		const ref: TupleRef = { customerId: null, listedBy: -1 };
		const entry: TupleEntry = { memberNo, code, email, phone, ref };
		if (bucket === undefined) this.buckets.set(key, entry);
		else if (Array.isArray(bucket)) bucket.push(entry);
		else this.buckets.set(key, [bucket, entry]);
		// the same item the batch writer builds from a receipt's first line
		this.pending.push({
			identities: { pos: row.customer_code, email: row.email, phone: row.phone },
			memberNo: row.member_no,
			profile: { email: row.email, phone: row.phone, home_store_id: row.store_code }
		});
		this.pendingRefs.push(ref);
		if (this.pending.length >= RESOLVE_CHUNK) this.submit();
		return ref;
	}

	/** Whether the reader should wait (keepUp): two batches are queued, or one failed. */
	mustWait(): boolean {
		return this.inFlight >= 4 || this.failure !== null;
	}

	/** Backpressure: the reader waits while two batches are already queued. */
	async keepUp(): Promise<void> {
		if (this.failure) throw this.failure;
		while (this.inFlight >= 4) await this.chain;
	}

	/** Resolves once every tuple added so far is resolved; throws the first failure. */
	async flush(): Promise<void> {
		this.submit();
		await this.chain;
		if (this.failure) throw this.failure;
	}

	private submit(): void {
		if (this.pending.length === 0) return;
		const items = this.pending;
		const refs = this.pendingRefs;
		this.pending = [];
		this.pendingRefs = [];
		this.inFlight++;
		this.chain = this.chain.then(async () => {
			try {
				if (this.failure) return;
				const began = performance.now();
				const resolve = (plainIdentityInsert: boolean) =>
					this.db.transaction().execute(async (trx) => {
						// no wait for the WAL flush at each batch's commit: the chunks that use its
						// customers commit later, and their commit flushes it too
						await tuneBulkTransaction(trx);
						return resolveCustomersBatch(trx, items, { skipFkTriggers: this.skipFkTriggers, normalized: true, plainIdentityInsert });
					});
				// another session attaching one of the batch's ids meanwhile is rare: redo the batch then
				const results = await resolve(true).catch((err) => (isIdentityTaken(err) ? resolve(false) : Promise.reject(err)));
				results.forEach((r, i) => {
					refs[i].customerId = r?.customerId ?? null;
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
