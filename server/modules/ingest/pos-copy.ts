/**
 * The POS import on PostgreSQL: rows are validated in JS as they stream from the file and go
 * by `COPY … FROM STDIN` into TEMP staging tables, chunk by chunk; each chunk is then written
 * with a handful of set-based statements in one transaction while the next chunk is read and
 * staged on another connection, so reading the file and writing the tables overlap. Same
 * results as the batch writer (pos.writer.ts), which PGlite uses.
 *
 * Chunks end at a receipt boundary. A chunk's receipts are grouped and summed in JS (store,
 * time, staff, customer of their first line; total; return when every line is negative); its
 * lines are staged with the receipt's chunk-local number, so the write needs no sort or
 * aggregate over the lines. A receipt that comes back in a later chunk (an unsorted file, a
 * re-import) is already stored by then: its lines are added and its total recomputed.
 * Chunks are written in file order; one chunk's lines overlap the next chunk's receipts.
 *
 * Customers: each receipt's identity tuple (member no, POS code, email, phone of its first
 * line) is resolved with `resolveCustomersBatch`, distinct tuples only, in the order the file
 * first shows them, in batches on another connection while the file is still being read; a
 * chunk's write waits for its tuples. Resolving a tuple a second time would return the same
 * customer and change nothing, so this equals resolving every receipt in file order.
 *
 * Foreign keys: when the session may (see canSkipPurchaseFkTriggers), the purchase tables are
 * written without per-row FK triggers — a million trigger calls, each locking a row, were a
 * third of the write time — and each chunk checks and locks the rows it references in one
 * statement instead (lockStagedReferences). Otherwise the FK triggers run as usual.
 */
import { Kysely, PostgresDialect } from 'kysely';
import type pg from 'pg';
import type { Database } from '../../db/types.ts';
import type { Db } from '../../db/index.ts';
import { resolveCustomersBatch, type BatchResolveItem } from '../customers/customers.service.ts';
import { copyField, startCopy, type CopyWriter } from './copy-stream.ts';
import type { CsvRecord } from './csv-source.ts';
import {
	canSkipPurchaseFkTriggers,
	clearPosStaging,
	createPosStaging,
	dropPosStaging,
	insertStagedLines,
	insertStagedReceipts,
	insertStagedReceiptsAllNew,
	lockStagedReferences,
	mapExistingStagedReceipts,
	refreshTouchedReceiptTotals,
	tuneBulkTransaction
} from './ingest.repository.ts';
import { parseRow, type PosRow } from './row-schemas.ts';
import type { BadRow, WriterContext } from './writers/types.ts';
import { posTxnId } from './writers/pos.writer.ts';

/** reading: the file (chunks are written meanwhile); writing: the last chunks after the file. */
export type PosCopyPhase = 'reading' | 'writing' | 'done';

export interface PosCopyInput {
	db: Db;
	pool: pg.Pool;
	/** The file's records, a piece of the file at a time (no promise per record). */
	batches: AsyncIterable<CsvRecord[]>;
	ctx: WriterContext;
	/** The batch writer's batch size: a repeated line_no is a bad row within the same span of rows. */
	batchSize: number;
	/** Lines per staged chunk (default 50,000); small values exercise chunk boundaries in tests. */
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
	 * left after it) add up to the import; the rest are busy times summed over chunks, overlapped.
	 */
	phaseMs: Record<string, number>;
}

/** Distinct tuples per resolveCustomersBatch call: one transaction, one advisory lock per tuple. */
const RESOLVE_CHUNK = 2000;
const DEFAULT_CHUNK_LINES = 50_000;
/** Staging connections: one chunk being read while two are written. */
const SLOTS = 3;

export async function importPosByCopy(input: PosCopyInput): Promise<PosCopyResult> {
	const slots: Slot[] = [];
	let failed: unknown = null;
	try {
		for (let i = 0; i < SLOTS; i++) slots.push(await openSlot(input.pool));
		const skipFkTriggers = await canSkipPurchaseFkTriggers(slots[0].db);
		const writer = new ChunkWriter(skipFkTriggers);
		const started = performance.now();
		const read = await readIntoChunks(input, slots, writer);
		const readMs = performance.now() - started;
		input.onProgress(read.rowsRead, 'writing');
		await writer.drain();
		const phaseMs = {
			reading: Math.round(readMs),
			writing: Math.round(performance.now() - started - readMs),
			resolving_overlapped: Math.round(read.customers.busyMs),
			...Object.fromEntries(Object.entries(writer.busyMs).map(([k, ms]) => [`${k}_overlapped`, Math.round(ms)]))
		};
		input.onProgress(read.rowsRead, 'done');
		for (const slot of slots) await dropPosStaging(slot.db);
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
			phaseMs: { ...phaseMs, fk_triggers_skipped: skipFkTriggers ? 1 : 0 }
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

/** A connection with its own staging tables; chunks take turns on SLOTS of them. */
interface Slot {
	client: pg.PoolClient;
	db: Kysely<Database>;
	/** The write of the chunk last staged here: the next chunk waits for it. */
	busy: Promise<void>;
}

async function openSlot(pool: pg.Pool): Promise<Slot> {
	const client = await pool.connect();
	const db = kyselyOnClient(client);
	await createPosStaging(db);
	return { client, db, busy: Promise.resolve() };
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

/** One receipt of a chunk, as its lines are read (the header from its first line). */
interface StagedReceipt {
	rid: number;
	txn: string;
	storeId: string;
	purchasedAt: string;
	staffId: string | null;
	tuple: TupleRef | null;
	total: number;
	allNegative: boolean;
	/** Line numbers staged for it in this chunk: a repeat makes the chunk's lines conflict-checked. */
	lineNos: number[];
}

interface Chunk {
	slot: Slot;
	copy: CopyWriter;
	receipts: Map<string, StagedReceipt>;
	lines: number;
	repeatsLine: boolean;
	/** Resolves once every tuple added up to the chunk's end is resolved. */
	customersReady: Promise<void> | null;
}

interface ReadResult {
	rowsRead: number;
	rowsStaged: number;
	unknownStaff: number;
	customers: CustomerResolver;
}

async function readIntoChunks(input: PosCopyInput, slots: Slot[], writer: ChunkWriter): Promise<ReadResult> {
	const { ctx } = input;
	const chunkLines = input.chunkLines ?? DEFAULT_CHUNK_LINES;
	const customers = new CustomerResolver(input.db);
	let rowsRead = 0;
	let rowsStaged = 0;
	let unknownStaff = 0;
	// the batch writer's span rule: a span ends at a receipt boundary once it holds batchSize rows
	let spanRows = 0;
	let seenInSpan = new Map<string, number[]>();
	let lastReceipt: string | null = null;
	// the receipt of the last row that parsed (a span ends where its id changes): most rows
	// continue it, and skip building its id and the map look-up
	let prevStore = '';
	let prevReceiptNo = '';
	let prevTxn = '';
	let current: StagedReceipt | null = null;
	let chunks = 0;
	const startChunk = async (): Promise<Chunk> => {
		const slot = slots[chunks++ % slots.length];
		await slot.busy;
		writer.throwIfFailed();
		return { slot, copy: startCopy(slot.client, 'copy pos_stage_line from stdin'), receipts: new Map(), lines: 0, repeatsLine: false, customersReady: null };
	};
	const endChunk = async (chunk: Chunk) => {
		await chunk.copy.end();
		chunk.customersReady = customers.flush();
		chunk.customersReady.catch(() => {}); // awaited by the write; a failure stops the import there
		chunk.slot.busy = writer.submit(chunk);
	};
	let chunk: Chunk | null = null;
	try {
		for await (const batch of input.batches) for (const record of batch) {
			rowsRead++;
			if ((rowsRead & 1023) === 0) input.onProgress(rowsRead, 'reading');
			const parsed = parseRow('pos', record.values);
			if (!parsed.ok) {
				input.onBad({ line: record.line, reason: parsed.reason });
				continue;
			}
			const row = parsed.row;
			const txn = row.store_code === prevStore && row.receipt_no === prevReceiptNo ? prevTxn : posTxnId(row);
			if (spanRows >= input.batchSize && txn !== prevTxn) {
				spanRows = 0;
				seenInSpan = new Map();
				lastReceipt = null;
			}
			spanRows++;
			prevStore = row.store_code;
			prevReceiptNo = row.receipt_no;
			prevTxn = txn;
			const bad = checkRow(row, txn, record.line, ctx, seenInSpan);
			if (bad) {
				input.onBad(bad);
				continue;
			}
			let tuple: TupleRef | null = null;
			const startsGroup = txn !== lastReceipt;
			if (startsGroup) {
				// a chunk ends between receipts only
				if (chunk && chunk.lines >= chunkLines) {
					await endChunk(chunk);
					chunk = null;
				}
				// the receipt's first line: its customer and staff
				lastReceipt = txn;
				tuple = customers.add(row);
				if (row.staff_code && !ctx.staffIdByCode.has(row.staff_code)) unknownStaff++;
				await customers.keepUp();
			}
			chunk ??= await startChunk();
			// within a group the chunk is the same (it ends between groups only): the row before's receipt
			let receipt: StagedReceipt | undefined = !startsGroup && current ? current : chunk.receipts.get(txn);
			if (!receipt) {
				receipt = {
					rid: chunk.receipts.size,
					txn,
					storeId: row.store_code,
					purchasedAt: row.purchased_at,
					staffId: row.staff_code ? (ctx.staffIdByCode.get(row.staff_code) ?? null) : null,
					tuple,
					total: 0,
					allNegative: true,
					lineNos: []
				};
				chunk.receipts.set(txn, receipt);
			}
			current = receipt;
			if (receipt.lineNos.includes(row.line_no)) chunk.repeatsLine = true;
			else receipt.lineNos.push(row.line_no);
			receipt.total += row.amount_yen;
			receipt.allNegative &&= row.quantity < 0;
			rowsStaged++;
			chunk.lines++;
			const full = chunk.copy.push(
				`${receipt.rid}\t${record.line}\t${row.line_no}\t${copyField(row.sku)}\t${row.quantity}\t${row.unit_price_yen}\t${row.amount_yen}`
			);
			if (full) await chunk.copy.flush();
		}
		if (chunk) await endChunk(chunk);
	} catch (err) {
		await customers.flush().catch(() => {});
		await writer.drain().catch(() => {});
		throw err;
	}
	return { rowsRead, rowsStaged, unknownStaff, customers };
}

/**
 * Store codes must exist; a receipt line number may appear once (within a span, as the batch
 * writer checks). `seen` holds, per receipt of the span, pairs of (line_no, file line).
 */
function checkRow(row: PosRow, txn: string, line: number, ctx: WriterContext, seen: Map<string, number[]>): BadRow | null {
	if (!ctx.storeIds.has(row.store_code)) return { line, reason: `unknown store_code "${row.store_code}"` };
	let pairs = seen.get(txn);
	if (!pairs) seen.set(txn, (pairs = []));
	for (let i = 0; i < pairs.length; i += 2) {
		if (pairs[i] === row.line_no) return { line, reason: `line_no ${row.line_no} of receipt ${row.receipt_no} repeats line ${pairs[i + 1]}` };
	}
	pairs.push(row.line_no, line);
	return null;
}

/**
 * Writes staged chunks in file order, each in one transaction on its slot. A chunk's receipts
 * go in once the previous chunk's receipts are in; its lines may then be written while the
 * next chunk inserts its receipts (two backends busy instead of one). Safe because a chunk
 * only ever meets an earlier chunk's uncommitted rows on a receipt both contain, and then its
 * `on conflict` waits for that commit; nothing waits the other way, so nothing deadlocks.
 */
class ChunkWriter {
	/** Settles when the last submitted chunk's receipts are inserted (or it failed). */
	private receiptsTurn: Promise<void> = Promise.resolve();
	private writes = new Set<Promise<void>>();
	private failure: unknown = null;
	receiptsNew = 0;
	linesNew = 0;
	unknownSku = 0;
	readonly busyMs: Record<string, number> = { staging_receipts: 0, references: 0, receipts: 0, lines: 0, totals: 0, commit: 0 };

	constructor(private skipFkTriggers: boolean) {}

	/** Queues the chunk's write; the returned promise settles when it is committed (never rejects). */
	submit(chunk: Chunk): Promise<void> {
		const previous = this.receiptsTurn;
		let receiptsIn!: () => void;
		this.receiptsTurn = new Promise<void>((resolve) => (receiptsIn = resolve));
		const write = (async () => {
			try {
				await previous;
				if (!this.failure) await this.write(chunk, receiptsIn);
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

	private async write(chunk: Chunk, receiptsIn: () => void): Promise<void> {
		await chunk.customersReady;
		let mark = performance.now();
		const timed = (step: string) => {
			const now = performance.now();
			this.busyMs[step] += now - mark;
			mark = now;
		};
		await stageReceipts(chunk);
		timed('staging_receipts');
		const { receiptsNew, linesNew, unknownSku } = await chunk.slot.db.transaction().execute(async (trx) => {
			await tuneBulkTransaction(trx, { skipFkTriggers: this.skipFkTriggers });
			if (this.skipFkTriggers) {
				const missing = await lockStagedReferences(trx);
				if (missing.stores + missing.staff + missing.customers > 0) {
					throw new Error(`rows the file refers to were deleted during the import: ${JSON.stringify(missing)}`);
				}
				timed('references');
			}
			const receiptsNew = (await insertStagedReceiptsAllNew(trx)) ?? (await insertStagedReceipts(trx));
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
		});
		timed('commit');
		this.receiptsNew += receiptsNew;
		this.linesNew += linesNew;
		this.unknownSku += unknownSku;
	}
}

/** The chunk's receipts by COPY, with their resolved customers. */
async function stageReceipts(chunk: Chunk): Promise<void> {
	const copy = startCopy(chunk.slot.client, 'copy pos_stage_receipt from stdin');
	for (const r of chunk.receipts.values()) {
		// customer and staff ids are uuids, the time is parseTimestamp's ISO text: nothing to escape
		const full = copy.push(
			`${r.rid}\t${copyField(r.txn)}\t${copyField(r.storeId)}\t${r.purchasedAt}\t${r.tuple?.customerId ?? '\\N'}\t` +
				`${r.staffId ?? '\\N'}\t${r.total}\t${r.allNegative ? 'return' : 'sale'}`
		);
		if (full) await copy.flush();
	}
	await copy.end();
}

/** A distinct identity tuple; its customer once resolved. */
interface TupleRef {
	customerId: string | null;
}

/**
 * Distinct identity tuples, in the order of first appearance, resolved in batches one after
 * another (file order) on pool connections while the reader goes on.
 */
class CustomerResolver {
	private refs = new Map<string, TupleRef>();
	private pending: BatchResolveItem[] = [];
	private pendingRefs: TupleRef[] = [];
	private chain: Promise<void> = Promise.resolve();
	private inFlight = 0;
	private failure: unknown = null;
	created = 0;
	/** Time spent resolving (overlaps the reading). */
	busyMs = 0;

	constructor(private db: Db) {}

	/** The tuple, or null for an anonymous receipt (nothing to resolve). */
	add(row: PosRow): TupleRef | null {
		if (!row.member_no && !row.customer_code && !row.email && !row.phone) return null;
		const key = `${row.member_no ?? ''}\u0000${row.customer_code ?? ''}\u0000${row.email ?? ''}\u0000${row.phone ?? ''}`;
		const known = this.refs.get(key);
		if (known) return known;
		const ref: TupleRef = { customerId: null };
		this.refs.set(key, ref);
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

	/** Backpressure: the reader waits while two batches are already queued. */
	async keepUp(): Promise<void> {
		if (this.failure) throw this.failure;
		while (this.inFlight >= 2) await this.chain;
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
				const results = await this.db.transaction().execute((trx) => resolveCustomersBatch(trx, items));
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
