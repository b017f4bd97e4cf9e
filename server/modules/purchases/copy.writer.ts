/**
 * The POS import's COPY writer (PostgreSQL): a chunk of receipts and lines, kept as columns
 * while the importer (server/ingest/pos-copy.ts) reads the file, is written in one transaction
 * by binary `COPY … FROM STDIN` straight into store_purchases and store_purchase_lines, with
 * receipt ids drawn in advance from the table's own sequence. A chunk whose receipt is stored
 * already takes the general path: COPY into TEMP staging tables, then set-based inserts that
 * skip what is stored and recompute the totals of receipts that received lines.
 *
 * Foreign keys: when the session may (canSkipPurchaseFkTriggers), the chunk checks and locks
 * the rows it references in one statement instead of a trigger call per row.
 */
import { Kysely, PostgresDialect } from 'kysely';
import type pg from 'pg';
import { tuneBulkTransaction } from '../../db/bulk.ts';
import { BINARY_FLUSH_BYTES, copyField, isoToPgMicros, startBinaryCopy, startCopy } from '../../db/copy-stream.ts';
import type { Trx } from '../../db/index.ts';
import type { Database } from '../../db/types.ts';
import { grown } from '../../shared/typed-arrays.ts';
import type { PosRow } from '../../ingest/row-schemas.ts';
import {
	clearPosStaging,
	createPosStaging,
	dropPosStaging,
	insertStagedLines,
	insertStagedReceipts,
	lockReferences,
	lockStagedReferences,
	mapExistingStagedReceipts,
	refreshTouchedReceiptTotals,
	reserveReceiptIds,
	type MissingReferences
} from './purchases.repository.ts';

/** A connection (with its own staging tables when needed); chunks take turns on SLOTS of them. */
export interface Slot {
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

export async function openSlot(pool: pg.Pool): Promise<Slot> {
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
export class ProductTable {
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
export class ChunkLines {
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
export class ChunkReceipts {
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


export interface Chunk {
	/** Its number in the file (0, 1, …). */
	seq: number;
	slot: Slot;
	receipts: ChunkReceipts;
	lines: ChunkLines;
	repeatsLine: boolean;
	/** Resolves once every tuple added up to the chunk's end is resolved. */
	customersReady: Promise<void> | null;
}

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
export class ChunkWriter {
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
export interface TupleRef {
	customerId: string | null;
	/** The last chunk that listed it among its references (chunkReferences: each once, no Set). */
	listedBy: number;
}

/** The slot's staging tables go (a slot's connection outlives the import in the pool). */
export async function closeSlotStaging(slot: Slot): Promise<void> {
	if (slot.staging) await dropPosStaging(slot.db);
}
