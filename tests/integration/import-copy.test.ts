/**
 * The POS import's two paths on PostgreSQL — COPY into staging + set-based writes (with the
 * pool) and the batch writer (without) — must leave identical data and report identical
 * summaries for the same files: a generated file with shared emails, member numbers,
 * anonymous receipts, returns, repeated lines, unknown stores/SKUs/staff and a receipt that
 * comes back later, loaded onto existing customers, then a second, overlapping file.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../server/db/index.ts';
import { runImport, type ImportSummary } from '../../server/ingest/import.ts';
import { canSkipPurchaseFkTriggers } from '../../server/modules/purchases/purchases.service.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { testOrders } from '../helpers/runtime.ts';

const FIXTURES = new URL('../fixtures/csv/', import.meta.url).pathname;

function rng(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

/** A messy POS export: `receipts` receipts from `first`, some lines broken on purpose. */
function posCsv(seed: number, first: number, receipts: number): string {
	const rand = rng(seed);
	const pick = <T,>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
	const out = ['store_code,receipt_no,line_no,purchased_at,customer_code,member_no,email,phone,staff_code,sku,quantity,unit_price_yen,amount_yen'];
	const emit = (r: number) => {
		const store = rand() < 0.02 ? 'osaka' : pick(['shibuya', 'shinjuku']);
		const day = 1 + Math.floor(rand() * 28);
		const at = `2026-10-${String(day).padStart(2, '0')} 1${Math.floor(rand() * 9)}:0${Math.floor(rand() * 9)}:00`;
		const c = Math.floor(rand() * 60);
		const anon = rand() < 0.25;
		// few people, overlapping ids: one email behind two POS codes, phones in +81 form, member cards
		const code = anon || rand() < 0.2 ? '' : `P-${String(c).padStart(4, '0')}`;
		const email = anon || rand() < 0.5 ? '' : rand() < 0.1 ? 'Hanako@Example.jp' : `m${c % 40}@example.jp`;
		const phone = anon || rand() < 0.7 ? '' : rand() < 0.5 ? `090${String(c).padStart(8, '0')}` : `+81 90-${String(c).padStart(4, '0')}-0000`;
		const member = anon || rand() < 0.9 ? '' : pick(['2000000001', '2000000002', `39${String(c).padStart(8, '0')}`]);
		const staff = rand() < 0.05 ? 'S999' : rand() < 0.2 ? '' : pick(['S003', 'S007']);
		const isReturn = rand() < 0.1;
		const n = 1 + Math.floor(rand() * 4);
		for (let l = 1; l <= n; l++) {
			const sku = rand() < 0.05 ? 'ZZ-UNKNOWN' : pick(['KS-TEE-001', 'KS-SNK-002', 'KS-CARE-003']);
			const qty = (isReturn || (n > 1 && l === n && rand() < 0.2) ? -1 : 1) * (1 + Math.floor(rand() * 2));
			const price = 1000 + Math.floor(rand() * 50) * 100;
			const lineNo = rand() < 0.02 && l > 1 ? l - 1 : l; // a repeated line number
			const qtyCell = rand() < 0.01 ? 'x' : String(qty); // a bad cell
			out.push(`${store},R${String(r).padStart(6, '0')},${lineNo},${at},${code},${member},${email},${phone},${staff},${sku},${qtyCell},${price},${qty * price}`);
		}
	};
	for (let r = first; r < first + receipts; r++) emit(r);
	emit(first + 3); // a receipt that comes back later in the file (split in two)
	return out.join('\n') + '\n';
}

async function seed(db: Db): Promise<void> {
	await db
		.insertInto('stores')
		.values([
			{ id: 'shibuya', name: '渋谷店', name_en: 'Shibuya' },
			{ id: 'shinjuku', name: '新宿店', name_en: 'Shinjuku' }
		])
		.execute();
	await db
		.insertInto('staff')
		.values([
			{ staff_code: 'S003', display_name: 'S003', sender_name: 'S003', role: 'staff', home_store_id: 'shibuya' },
			{ staff_code: 'S007', display_name: 'S007', sender_name: 'S007', role: 'staff', home_store_id: 'shinjuku' }
		])
		.execute();
}

/** Everything the POS import writes, with generated ids replaced by natural keys. */
async function dump(db: Db): Promise<Record<string, unknown[]>> {
	const q = async (query: ReturnType<typeof sql>) => (await query.execute(db)).rows;
	return {
		customers: await q(sql`
			select c.member_no, c.email, c.phone, c.home_store_id, c.family_name, m.member_no as merged_into
			from customers c left join customers m on m.id = c.merged_into order by c.member_no`),
		identities: await q(sql`
			select i.kind, i.value, c.member_no from customer_identities i join customers c on c.id = i.customer_id
			order by i.kind, i.value`),
		receipts: await q(sql`
			select p.pos_txn_id, p.store_id, c.member_no, s.staff_code, p.purchased_at::text, p.total_yen, p.kind, p.source
			from store_purchases p left join customers c on c.id = p.customer_id left join staff s on s.id = p.staff_id
			order by p.pos_txn_id`),
		lines: await q(sql`
			select p.pos_txn_id, l.line_no, pr.sku as product, l.sku, l.quantity, l.unit_price_yen, l.amount_yen
			from store_purchase_lines l join store_purchases p on p.id = l.purchase_id left join products pr on pr.id = l.product_id
			order by p.pos_txn_id, l.line_no`),
		sequence: await q(sql`select last_value from member_no_seq`)
	};
}

const comparable = (s: ImportSummary) => ({
	rowsRead: s.rowsRead,
	rowsOk: s.rowsOk,
	rowsBad: s.rowsBad,
	errors: s.errors,
	counts: s.counts,
	warnings: s.warnings
});

describe.skipIf(!process.env.DATABASE_URL)('POS import: COPY path = batch path on PostgreSQL', () => {
	let copyDb: TestDatabase;
	// the COPY path again with tiny chunks: receipts and repeated lines across many chunk boundaries
	let chunkDb: TestDatabase;
	let batchDb: TestDatabase;
	let tmp: string;

	beforeAll(async () => {
		[copyDb, chunkDb, batchDb] = await Promise.all([createTestDatabase('postgres'), createTestDatabase('postgres'), createTestDatabase('postgres')]);
		tmp = await mkdtemp(join(tmpdir(), 'tsunagu-import-copy-'));
		for (const tdb of [copyDb, chunkDb, batchDb]) {
			await seed(tdb.db);
			// products and customers go through the same (batch) writers on both
			await runImport(tdb.db, { kind: 'products', file: join(FIXTURES, 'products.csv'), errorsFile: null, orders: testOrders });
			await runImport(tdb.db, { kind: 'customers', file: join(FIXTURES, 'customers.csv'), errorsFile: null, orders: testOrders });
		}
	});
	afterAll(async () => {
		await Promise.all([copyDb?.dispose(), chunkDb?.dispose(), batchDb?.dispose()]);
		if (tmp) await rm(tmp, { recursive: true, force: true });
	});

	const both = async (file: string) => {
		const options = { kind: 'pos' as const, file, errorsFile: null, orders: testOrders, keepErrors: 1000, batchSize: 50 };
		const viaCopy = await runImport(copyDb.db, { ...options, pool: copyDb.pool });
		const viaChunks = await runImport(chunkDb.db, { ...options, pool: chunkDb.pool, copyChunkLines: 7 });
		const viaBatch = await runImport(batchDb.db, options);
		return { viaCopy, viaChunks, viaBatch };
	};

	it('a first file: same summary, same rows', async () => {
		const file = join(tmp, 'pos-a.csv');
		await writeFile(file, posCsv(7, 1, 400));
		const { viaCopy, viaChunks, viaBatch } = await both(file);
		expect(viaCopy.rowsBad).toBeGreaterThan(0);
		expect(viaCopy.counts.customers_new).toBeGreaterThan(10);
		expect(viaCopy.warnings).toMatchObject({ unknown_sku: expect.any(Number), unknown_staff_code: expect.any(Number) });
		expect(comparable(viaCopy)).toEqual(comparable(viaBatch));
		expect(comparable(viaChunks)).toEqual(comparable(viaBatch));
		// a first file: every chunk goes straight in by COPY
		expect(viaChunks.phaseMs?.chunks_direct).toBeGreaterThan(10);
		expect(viaChunks.phaseMs?.chunks_staged).toBe(0);
		const expected = await dump(batchDb.db);
		expect(await dump(copyDb.db)).toEqual(expected);
		expect(await dump(chunkDb.db)).toEqual(expected);
	});

	it('an overlapping second file (old receipts, new lines, new people): same again', async () => {
		const file = join(tmp, 'pos-b.csv');
		await writeFile(file, posCsv(8, 300, 300));
		const { viaCopy, viaChunks, viaBatch } = await both(file);
		expect(viaCopy.counts.lines_already_present).toBeGreaterThan(0);
		// chunks meeting stored receipts went through staging, the others straight in
		expect(viaChunks.phaseMs?.chunks_staged).toBeGreaterThan(0);
		expect(viaChunks.phaseMs?.chunks_direct).toBeGreaterThan(0);
		expect(comparable(viaCopy)).toEqual(comparable(viaBatch));
		expect(comparable(viaChunks)).toEqual(comparable(viaBatch));
		const expected = await dump(batchDb.db);
		expect(await dump(copyDb.db)).toEqual(expected);
		expect(await dump(chunkDb.db)).toEqual(expected);
	});

	it('where replica mode may not be used (a trigger of ours would not fire), the COPY path keeps the per-row FK checks and loads the same rows', async () => {
		const [checked, reference] = await Promise.all([createTestDatabase('postgres'), createTestDatabase('postgres')]);
		try {
			for (const tdb of [checked, reference]) {
				await seed(tdb.db);
				await runImport(tdb.db, { kind: 'products', file: join(FIXTURES, 'products.csv'), errorsFile: null, orders: testOrders });
				await runImport(tdb.db, { kind: 'customers', file: join(FIXTURES, 'customers.csv'), errorsFile: null, orders: testOrders });
			}
			// an ordinary (not ALWAYS) trigger on store_purchases, as a brand's own audit trigger might be
			await sql`create function tsunagu_test_noop() returns trigger language plpgsql as $$ begin return null; end $$`.execute(checked.db);
			await sql`create trigger tsunagu_test_noop after insert on store_purchases for each statement execute function tsunagu_test_noop()`.execute(checked.db);
			expect(await canSkipPurchaseFkTriggers(checked.db)).toBe(false);
			expect(await canSkipPurchaseFkTriggers(reference.db)).toBe(true);

			const options = { kind: 'pos' as const, file: join(tmp, 'pos-a.csv'), errorsFile: null, orders: testOrders, keepErrors: 1000, batchSize: 50 };
			const viaChecked = await runImport(checked.db, { ...options, pool: checked.pool, copyChunkLines: 7 });
			const viaBatch = await runImport(reference.db, options);
			expect(viaChecked.phaseMs?.fk_triggers_skipped).toBe(0);
			expect(viaChecked.counts.receipts_new).toBeGreaterThan(0);
			expect(comparable(viaChecked)).toEqual(comparable(viaBatch));
			expect(await dump(checked.db)).toEqual(await dump(reference.db));
		} finally {
			await Promise.all([checked.dispose(), reference.dispose()]);
		}
	});

	it('with a pool of two connections (one chunk at a time) it loads the same rows', async () => {
		const [small, reference] = await Promise.all([createTestDatabase('postgres'), createTestDatabase('postgres')]);
		const pool = new pg.Pool({ connectionString: small.url, max: 2 });
		try {
			for (const tdb of [small, reference]) {
				await seed(tdb.db);
				await runImport(tdb.db, { kind: 'products', file: join(FIXTURES, 'products.csv'), errorsFile: null, orders: testOrders });
			}
			const options = { kind: 'pos' as const, file: join(tmp, 'pos-a.csv'), errorsFile: null, orders: testOrders, keepErrors: 1000, batchSize: 50 };
			const viaSmallPool = await runImport(small.db, { ...options, pool, copyChunkLines: 7 });
			const viaBatch = await runImport(reference.db, options);
			expect(comparable(viaSmallPool)).toEqual(comparable(viaBatch));
			expect(await dump(small.db)).toEqual(await dump(reference.db));
		} finally {
			await pool.end();
			await Promise.all([small.dispose(), reference.dispose()]);
		}
	});

	it('a receipt of 1,500 lines (past a chunk\'s columns, line numbers past 30, a repeat) loads as on the batch path', async () => {
		const [long, reference] = await Promise.all([createTestDatabase('postgres'), createTestDatabase('postgres')]);
		try {
			for (const tdb of [long, reference]) {
				await seed(tdb.db);
				await runImport(tdb.db, { kind: 'products', file: join(FIXTURES, 'products.csv'), errorsFile: null, orders: testOrders });
			}
			const header = 'store_code,receipt_no,line_no,purchased_at,customer_code,member_no,email,phone,staff_code,sku,quantity,unit_price_yen,amount_yen';
			const lines = Array.from({ length: 1500 }, (_, i) => `shibuya,BIG1,${i + 1},2026-10-01 10:00:00,P-BIG,,,,S003,KS-TEE-001,1,100,100`);
			lines.push('shibuya,SMALL1,1,2026-10-01 11:00:00,,,,,,KS-TEE-001,1,100,100');
			lines.push('shibuya,BIG1,40,2026-10-01 10:00:00,P-BIG,,,,S003,KS-TEE-001,1,999,999'); // comes back: line 40 again
			const file = join(tmp, 'pos-long.csv');
			await writeFile(file, [header, ...lines].join('\n') + '\n');
			const options = { kind: 'pos' as const, file, errorsFile: null, orders: testOrders, keepErrors: 1000, batchSize: 5000 };
			const viaCopy = await runImport(long.db, { ...options, pool: long.pool, copyChunkLines: 7 });
			const viaBatch = await runImport(reference.db, options);
			expect(viaCopy.counts.lines_new).toBe(1501);
			expect(comparable(viaCopy)).toEqual(comparable(viaBatch));
			expect(await dump(long.db)).toEqual(await dump(reference.db));
		} finally {
			await Promise.all([long.dispose(), reference.dispose()]);
		}
	});

	it('re-importing through the COPY path changes nothing', async () => {
		const before = await dump(copyDb.db);
		const again = await runImport(copyDb.db, { kind: 'pos', file: join(tmp, 'pos-a.csv'), errorsFile: null, orders: testOrders, pool: copyDb.pool, batchSize: 50 });
		expect(again.counts).toMatchObject({ receipts_new: 0, lines_new: 0, customers_new: 0 });
		expect(await dump(copyDb.db)).toEqual(before);
		const chunksBefore = await dump(chunkDb.db);
		const chunksAgain = await runImport(chunkDb.db, { kind: 'pos', file: join(tmp, 'pos-a.csv'), errorsFile: null, orders: testOrders, pool: chunkDb.pool, batchSize: 50, copyChunkLines: 7 });
		expect(chunksAgain.counts).toMatchObject({ receipts_new: 0, lines_new: 0, customers_new: 0 });
		expect(await dump(chunkDb.db)).toEqual(chunksBefore);
	});
});
