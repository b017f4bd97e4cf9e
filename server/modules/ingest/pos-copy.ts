/**
 * The POS import on PostgreSQL: rows are parsed and validated in JS as they stream from the
 * file (plain lines in place, PosLineParser) and kept per chunk in columns (typed arrays); each
 * chunk is then written in one transaction, by binary `COPY … FROM STDIN` straight into
 * store_purchases and store_purchase_lines, while the next chunk is read. Same results as the
 * batch writer (pos.writer.ts), which PGlite uses.
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
import { Kysely, PostgresDialect } from 'kysely';
import type pg from 'pg';
import type { Database } from '../../db/types.ts';
import type { Db, Trx } from '../../db/index.ts';
import { isIdentityTaken, resolveCustomersBatch, type BatchResolveItem } from '../customers/customers.service.ts';
import { BINARY_FLUSH_BYTES, copyField, isoToPgMicros, startBinaryCopy, startCopy } from './copy-stream.ts';
import { cellsOf, type CsvSource, type LineBatch, type RawRecord } from './csv-source.ts';
import { PosLineParser } from './pos-line.ts';
import { grown } from './typed-arrays.ts';
import {
	canSkipPurchaseFkTriggers,
	clearPosStaging,
	createPosStaging,
	dropPosStaging,
	insertStagedLines,
	insertStagedReceipts,
	listProductIdsBySku,
	lockReferences,
	lockStagedReferences,
	mapExistingStagedReceipts,
	refreshTouchedReceiptTotals,
	reserveReceiptIds,
	tuneBulkTransaction,
	type MissingReferences
} from './ingest.repository.ts';
import { parseRow, type PosRow } from './row-schemas.ts';
import type { BadRow, WriterContext } from './writers/types.ts';
import { posTxnId } from './writers/pos.writer.ts';

/** reading: the file (chunks are written meanwhile); writing: the last chunks after the file. */
export type PosCopyPhase = 'reading' | 'writing' | 'done';

export interface PosCopyInput {
	db: Db;
	pool: pg.Pool;
	/** The file, a piece at a time (no promise per record), its lines parsed in place where they are plain. */
	source: Pick<CsvSource, 'header' | 'rawBatches' | 'valuesOf'>;
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
		for (const slot of slots) if (slot.staging) await dropPosStaging(slot.db);
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

/** A connection (with its own staging tables when needed); chunks take turns on SLOTS of them. */
interface Slot {
	client: pg.PoolClient;
	db: Kysely<Database>;
	/** The write of the chunk last read for this slot: the next chunk waits for it. */
	busy: Promise<void>;
	/** Whether its TEMP staging tables exist (only chunks that cannot go direct use them). */
	staging: boolean;
	/** The line and receipt columns of its chunks (one chunk at a time per slot). */
	lines: ChunkLines | null;
	receipts: ChunkReceipts | null;
}

async function openSlot(pool: pg.Pool): Promise<Slot> {
	const client = await pool.connect();
	return { client, db: kyselyOnClient(client), busy: Promise.resolve(), staging: false, lines: null, receipts: null };
}

/** The slot's staging tables, created the first time one of its chunks needs them. */
async function ensureStaging(slot: Slot): Promise<void> {
	if (slot.staging) return;
	await createPosStaging(slot.db);
	slot.staging = true;
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

/**
 * The product master as the import found it: SKU → a small index, with the id and the SKU as a
 * COPY field. Lines keep the index, not their own copy of the SKU text: a chunk's lines live
 * until its write, and a million short strings kept that long are what the GC pays for.
 */
class ProductTable {
	private indexBySku = new Map<string, number>();
	readonly ids: number[] = [];
	/** The SKU as a text-format COPY field, and as UTF-8 for the binary format. */
	readonly skuFields: string[] = [];
	readonly skuBytes: Buffer[] = [];

	constructor(rows: Array<{ id: number; sku: string }>) {
		for (const { id, sku } of rows) {
			this.indexBySku.set(sku, this.ids.length);
			this.ids.push(id);
			this.skuFields.push(copyField(sku));
			this.skuBytes.push(Buffer.from(sku, 'utf8'));
		}
	}

	/** The product's index, or -1 for a SKU the master does not know. */
	indexOf(sku: string): number {
		return this.indexBySku.get(sku) ?? -1;
	}
}

/** A chunk's lines as columns (typed arrays: no object per line). */
class ChunkLines {
	length = 0;
	unknownSku = 0;
	rid: Int32Array;
	fileLine: Int32Array;
	lineNo: Int32Array;
	quantity: Int32Array;
	unitPrice: Int32Array;
	amount: Int32Array;
	/** ProductTable index, -1 when the SKU is unknown (its text is then in `unknownSkus`). */
	product: Int32Array;
	unknownSkus = new Map<number, string>();

	constructor(capacity: number) {
		this.rid = new Int32Array(capacity);
		this.fileLine = new Int32Array(capacity);
		this.lineNo = new Int32Array(capacity);
		this.quantity = new Int32Array(capacity);
		this.unitPrice = new Int32Array(capacity);
		this.amount = new Int32Array(capacity);
		this.product = new Int32Array(capacity);
	}

	/** Empty again, keeping the columns' size. */
	clear(): void {
		this.length = 0;
		this.unknownSku = 0;
		this.unknownSkus.clear();
	}

	push(rid: number, fileLine: number, row: PosRow, product: number): void {
		if (this.length === this.rid.length) this.grow();
		const i = this.length++;
		this.rid[i] = rid;
		this.fileLine[i] = fileLine;
		this.lineNo[i] = row.line_no;
		this.quantity[i] = row.quantity;
		this.unitPrice[i] = row.unit_price_yen;
		this.amount[i] = row.amount_yen;
		this.product[i] = product;
		if (product < 0) {
			this.unknownSku++;
			this.unknownSkus.set(i, row.sku);
		}
	}

	/** A receipt with very many lines can take a chunk past its size. */
	private grow(): void {
		const n = this.rid.length * 2;
		this.rid = grown(this.rid, n);
		this.fileLine = grown(this.fileLine, n);
		this.lineNo = grown(this.lineNo, n);
		this.quantity = grown(this.quantity, n);
		this.unitPrice = grown(this.unitPrice, n);
		this.amount = grown(this.amount, n);
		this.product = grown(this.product, n);
	}
}

/**
 * A chunk's receipts as columns, numbered (rid) in the order the file first shows them: the
 * header from a receipt's first line, the total and "every line negative" summed over its lines.
 */
class ChunkReceipts {
	private ridByTxn = new Map<string, number>();
	/** Receipts in the chunk; the columns may be longer (kept from the slot's earlier chunks). */
	size = 0;
	readonly txn: string[] = [];
	readonly storeId: string[] = [];
	readonly purchasedAt: string[] = [];
	readonly staffId: Array<string | null> = [];
	readonly tuple: Array<TupleRef | null> = [];
	total = new Float64Array(1024);
	allNegative = new Uint8Array(1024);
	/** Line numbers 1–30 read for each receipt, as bits; larger ones in `moreLineNos`. */
	private lineBits = new Int32Array(1024);
	private moreLineNos = new Map<number, number[]>();

	/** Empty again, keeping the columns (a slot's next chunk reuses them). */
	clear(): void {
		this.size = 0;
		this.ridByTxn.clear();
		this.moreLineNos.clear();
	}

	ridOf(txn: string): number | undefined {
		return this.ridByTxn.get(txn);
	}

	add(txn: string, row: PosRow, staffId: string | null, tuple: TupleRef | null): number {
		const rid = this.size++;
		if (rid === this.total.length) this.grow();
		this.ridByTxn.set(txn, rid);
		this.txn[rid] = txn;
		this.storeId[rid] = row.store_code;
		this.purchasedAt[rid] = row.purchased_at;
		this.staffId[rid] = staffId;
		this.tuple[rid] = tuple;
		this.total[rid] = 0;
		this.allNegative[rid] = 1;
		this.lineBits[rid] = 0;
		return rid;
	}

	/** Adds a line to the receipt; false when its line number was read for it already. */
	addLine(rid: number, row: PosRow): boolean {
		this.total[rid] += row.amount_yen;
		if (row.quantity >= 0) this.allNegative[rid] = 0;
		const n = row.line_no;
		if (n <= 30) {
			const bit = 1 << (n - 1);
			if (this.lineBits[rid] & bit) return false;
			this.lineBits[rid] |= bit;
			return true;
		}
		let more = this.moreLineNos.get(rid);
		if (!more) this.moreLineNos.set(rid, (more = []));
		if (more.includes(n)) return false;
		more.push(n);
		return true;
	}

	private grow(): void {
		const n = this.total.length * 2;
		this.total = grown(this.total, n);
		this.allNegative = grown(this.allNegative, n);
		this.lineBits = grown(this.lineBits, n);
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

interface Chunk {
	/** Its number in the file (0, 1, …). */
	seq: number;
	slot: Slot;
	receipts: ChunkReceipts;
	lines: ChunkLines;
	repeatsLine: boolean;
	/** Resolves once every tuple added up to the chunk's end is resolved. */
	customersReady: Promise<void> | null;
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
					if (chunk && chunk.lines.length >= chunkLines) {
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

/** A turn of the event loop (setImmediate runs after pending I/O callbacks). */
const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve));

interface ChunkOutcome {
	receiptsNew: number;
	linesNew: number;
	unknownSku: number;
}

type Timer = (step: string) => void;

/** The direct COPY met a receipt that is stored already: the chunk is written through staging. */
class ReceiptStoredBefore extends Error {}

/**
 * Writes chunks in file order, each in one transaction on its slot. A chunk's receipts go in
 * once the previous chunk's receipts are in; its lines may then be written while the next
 * chunk inserts its receipts (two backends busy instead of one). Safe because a chunk only
 * ever meets an earlier chunk's uncommitted rows on a receipt both contain, and then its
 * insert waits for that commit; nothing waits the other way, so nothing deadlocks.
 */
class ChunkWriter {
	/** Settles when the last submitted chunk's receipts are inserted (or it failed). */
	private receiptsTurn: Promise<void> = Promise.resolve();
	private writes = new Set<Promise<void>>();
	private failure: unknown = null;
	receiptsNew = 0;
	linesNew = 0;
	unknownSku = 0;
	chunksDirect = 0;
	chunksStaged = 0;
	readonly busyMs: Record<string, number> = { waiting_customers: 0, ids: 0, references: 0, staging: 0, waiting_turn: 0, receipts: 0, lines: 0, totals: 0, commit: 0 };

	constructor(
		readonly skipFkTriggers: boolean,
		private products: ProductTable
	) {}

	/** Queues the chunk's write; the returned promise settles when it is committed (never rejects). */
	submit(chunk: Chunk): Promise<void> {
		const previous = this.receiptsTurn;
		let receiptsIn!: () => void;
		this.receiptsTurn = new Promise<void>((resolve) => (receiptsIn = resolve));
		const write = (async () => {
			try {
				if (!this.failure) await this.write(chunk, previous, receiptsIn);
			} catch (err) {
				this.failure ??= err;
			} finally {
				receiptsIn();
			}
		})();
		this.writes.add(write);
		void write.finally(() => this.writes.delete(write));
		return write;
	}

	throwIfFailed(): void {
		if (this.failure) throw this.failure;
	}

	async drain(): Promise<void> {
		while (this.writes.size > 0) await Promise.all([...this.writes]);
		this.throwIfFailed();
	}

	/**
	 * Everything before the receipts insert (transaction settings, ids, reference locks,
	 * staging) is done before waiting for `turn`, the previous chunk's receipts: only the
	 * receipt inserts form a chain from chunk to chunk.
	 */
	private async write(chunk: Chunk, turn: Promise<void>, receiptsIn: () => void): Promise<void> {
		let mark = performance.now();
		await chunk.customersReady;
		this.busyMs.waiting_customers += performance.now() - mark;
		mark = performance.now();
		const timed: Timer = (step) => {
			const now = performance.now();
			this.busyMs[step] += now - mark;
			mark = now;
		};
		let outcome: ChunkOutcome | null = null;
		if (!chunk.repeatsLine) {
			try {
				outcome = await chunk.slot.db.transaction().execute((trx) => this.writeDirect(trx, chunk, turn, receiptsIn, timed));
				this.chunksDirect++;
			} catch (err) {
				if (!(err instanceof ReceiptStoredBefore)) throw err;
			}
		}
		if (!outcome) {
			await ensureStaging(chunk.slot);
			outcome = await chunk.slot.db.transaction().execute((trx) => this.writeStaged(trx, chunk, turn, receiptsIn, timed));
			this.chunksStaged++;
		}
		timed('commit');
		this.receiptsNew += outcome.receiptsNew;
		this.linesNew += outcome.linesNew;
		this.unknownSku += outcome.unknownSku;
	}

	/**
	 * Receipts and lines by COPY into their tables, ids drawn in advance. Throws
	 * ReceiptStoredBefore (the transaction rolls back) when a receipt is stored already.
	 */
	private async writeDirect(trx: Trx, chunk: Chunk, turn: Promise<void>, receiptsIn: () => void, timed: Timer): Promise<ChunkOutcome> {
		await tuneBulkTransaction(trx, { skipFkTriggers: this.skipFkTriggers });
		const ids = await reserveReceiptIds(trx, chunk.receipts.size);
		timed('ids');
		if (this.skipFkTriggers) {
			throwIfMissing(await lockReferences(trx, chunkReferences(chunk, this.products)));
			timed('references');
		}
		await turn;
		this.throwIfFailed();
		timed('waiting_turn');
		try {
			await copyReceipts(chunk, ids);
		} catch (err) {
			const e = err as { code?: string; constraint?: string };
			if (e.code === '23505' && e.constraint === 'store_purchases_pos_txn_id_key') throw new ReceiptStoredBefore();
			throw err;
		}
		timed('receipts');
		receiptsIn();
		await copyLines(chunk, ids, this.products);
		timed('lines');
		return { receiptsNew: chunk.receipts.size, linesNew: chunk.lines.length, unknownSku: chunk.lines.unknownSku };
	}

	/**
	 * The general path: the chunk into the TEMP staging tables, then inserts that skip stored
	 * receipts and lines (the first of a repeated line wins: file order) and recompute the
	 * totals of receipts that received lines.
	 */
	private async writeStaged(trx: Trx, chunk: Chunk, turn: Promise<void>, receiptsIn: () => void, timed: Timer): Promise<ChunkOutcome> {
		await tuneBulkTransaction(trx, { skipFkTriggers: this.skipFkTriggers });
		await stageChunk(chunk, this.products);
		timed('staging');
		if (this.skipFkTriggers) {
			throwIfMissing(await lockStagedReferences(trx));
			timed('references');
		}
		await turn;
		this.throwIfFailed();
		timed('waiting_turn');
		const receiptsNew = await insertStagedReceipts(trx);
		const someStoredBefore = receiptsNew < chunk.receipts.size;
		if (someStoredBefore) await mapExistingStagedReceipts(trx);
		timed('receipts');
		receiptsIn();
		const mayConflict = someStoredBefore || chunk.repeatsLine;
		const lines = await insertStagedLines(trx, { mayConflict, touchAll: chunk.repeatsLine });
		timed('lines');
		// receipts stored before that received lines now, or (a line repeated) every receipt:
		// their totals come from the lines as stored
		if (mayConflict) await refreshTouchedReceiptTotals(trx);
		await clearPosStaging(trx);
		timed('totals');
		return { receiptsNew, linesNew: lines.inserted, unknownSku: lines.unknownSku };
	}
}

function throwIfMissing(missing: MissingReferences): void {
	if (missing.stores + missing.staff + missing.customers + missing.products > 0) {
		throw new Error(`rows the file refers to were deleted during the import: ${JSON.stringify(missing)}`);
	}
}

/** What the chunk's rows point at: each store, staff member and product once; each tuple's customer once (tuples may share one). */
function chunkReferences(chunk: Chunk, products: ProductTable) {
	const r = chunk.receipts;
	const customers: string[] = [];
	const stores = new Set<string>();
	const staff = new Set<string>();
	for (let i = 0; i < r.size; i++) {
		stores.add(r.storeId[i]);
		const s = r.staffId[i];
		if (s !== null) staff.add(s);
		const t = r.tuple[i];
		if (t?.customerId && t.listedBy !== chunk.seq) {
			t.listedBy = chunk.seq;
			customers.push(t.customerId);
		}
	}
	const used = new Uint8Array(products.ids.length);
	const { product, length } = chunk.lines;
	for (let i = 0; i < length; i++) if (product[i] >= 0) used[product[i]] = 1;
	const productIds: number[] = [];
	for (let p = 0; p < used.length; p++) if (used[p]) productIds.push(products.ids[p]);
	return {
		stores: [...stores],
		staff: [...staff],
		customers,
		products: productIds
	};
}

/** Runs a COPY, giving it the rows `format` pushes (no promise per row). */
async function copyRows(chunk: Chunk, statement: string, rows: number, format: (i: number) => string): Promise<void> {
	const copy = startCopy(chunk.slot.client, statement);
	for (let i = 0; i < rows; i++) if (copy.push(format(i))) await copy.flush();
	await copy.end();
}

// customer and staff ids are uuids, times parseTimestamp's ISO text, kinds fixed words: only
// what comes from the file as text (receipt id, store code, SKU) is escaped

const RECEIPT_COLUMNS = '(id, pos_txn_id, store_id, customer_id, staff_id, purchased_at, total_yen, kind)';

/** The receipts by binary COPY (text format when a time is of a form the binary writer does not read). */
async function copyReceipts(chunk: Chunk, ids: string[]): Promise<void> {
	const r = chunk.receipts;
	const times = new Float64Array(r.size);
	for (let i = 0; i < r.size; i++) {
		const t = isoToPgMicros(r.purchasedAt[i]);
		if (t === null) return copyReceiptsAsText(chunk, ids);
		times[i] = t;
	}
	const copy = startBinaryCopy(chunk.slot.client, `copy store_purchases ${RECEIPT_COLUMNS} from stdin with (format binary)`);
	const out = copy.rows;
	for (let i = 0; i < r.size; i++) {
		const txn = r.txn[i];
		const store = r.storeId[i];
		const customer = r.tuple[i]?.customerId;
		const staff = r.staffId[i];
		// 8 length words + int8 id, 2 uuids, int8 time, int4 total, kind; texts at 3 bytes a unit
		out.row(8, 100 + (txn.length + store.length) * 3);
		out.int8(Number(ids[i]));
		out.text(txn);
		out.text(store);
		if (customer) out.uuid(customer);
		else out.null();
		if (staff) out.uuid(staff);
		else out.null();
		out.timestamptz(times[i]);
		out.int4(r.total[i]);
		out.text(r.allNegative[i] ? 'return' : 'sale');
		if (out.size >= BINARY_FLUSH_BYTES) await copy.flush();
	}
	await copy.end();
}

async function copyReceiptsAsText(chunk: Chunk, ids: string[]): Promise<void> {
	const r = chunk.receipts;
	await copyRows(
		chunk,
		`copy store_purchases ${RECEIPT_COLUMNS} from stdin`,
		r.size,
		(i) =>
			`${ids[i]}\t${copyField(r.txn[i])}\t${copyField(r.storeId[i])}\t${r.tuple[i]?.customerId ?? '\\N'}\t${r.staffId[i] ?? '\\N'}\t` +
			`${r.purchasedAt[i]}\t${r.total[i]}\t${r.allNegative[i] ? 'return' : 'sale'}`
	);
}

/** The lines in COPY's binary format: a million of them would otherwise be a million strings. */
async function copyLines(chunk: Chunk, ids: string[], products: ProductTable): Promise<void> {
	const l = chunk.lines;
	const receiptIds = ids.map(Number);
	const copy = startBinaryCopy(
		chunk.slot.client,
		'copy store_purchase_lines (purchase_id, line_no, product_id, sku, quantity, unit_price_yen, amount_yen) from stdin with (format binary)'
	);
	const out = copy.rows;
	for (let i = 0; i < l.length; i++) {
		const p = l.product[i];
		const unknown = p < 0 ? (l.unknownSkus.get(i) as string) : '';
		// 7 length words + 3 × int4 + 2 × int8 = 68 bytes, plus the SKU
		out.row(7, 68 + (p < 0 ? unknown.length * 3 : products.skuBytes[p].length));
		out.int8(receiptIds[l.rid[i]]);
		out.int4(l.lineNo[i]);
		if (p < 0) {
			out.null();
			out.text(unknown);
		} else {
			out.int8(products.ids[p]);
			out.textBytes(products.skuBytes[p]);
		}
		out.int4(l.quantity[i]);
		out.int4(l.unitPrice[i]);
		out.int4(l.amount[i]);
		if (out.size >= BINARY_FLUSH_BYTES) await copy.flush();
	}
	await copy.end();
}

/** The chunk into pos_stage_receipt and pos_stage_line (inside the chunk's transaction). */
async function stageChunk(chunk: Chunk, products: ProductTable): Promise<void> {
	const r = chunk.receipts;
	await copyRows(
		chunk,
		'copy pos_stage_receipt from stdin',
		r.size,
		(i) =>
			`${i}\t${copyField(r.txn[i])}\t${copyField(r.storeId[i])}\t${r.purchasedAt[i]}\t${r.tuple[i]?.customerId ?? '\\N'}\t` +
			`${r.staffId[i] ?? '\\N'}\t${r.total[i]}\t${r.allNegative[i] ? 'return' : 'sale'}`
	);
	const l = chunk.lines;
	await copyRows(chunk, 'copy pos_stage_line from stdin', l.length, (i) => {
		const p = l.product[i];
		const sku = p < 0 ? copyField(l.unknownSkus.get(i)) : products.skuFields[p];
		return `${l.rid[i]}\t${l.fileLine[i]}\t${l.lineNo[i]}\t${sku}\t${l.quantity[i]}\t${l.unitPrice[i]}\t${l.amount[i]}`;
	});
}

/** A distinct identity tuple; its customer once resolved. */
interface TupleRef {
	customerId: string | null;
	/** The last chunk that listed it among its references (chunkReferences: each once, no Set). */
	listedBy: number;
}

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
