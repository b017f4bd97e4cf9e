import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../server/db/index.ts';
import { runImport, type ImportOptions } from '../../server/ingest/import.ts';
import { createTestDatabase, testDbKinds, type TestDatabase } from '../helpers/db.ts';
import { testOrders } from '../helpers/runtime.ts';

const FIXTURES = new URL('../fixtures/csv/', import.meta.url).pathname;
const TABLES = [
	'products',
	'customers',
	'customer_identities',
	'store_purchases',
	'store_purchase_lines',
	'ec_orders',
	'ec_order_lines',
	'ec_refunds'
] as const;

/** Row counts and an md5 over every column of every row of the tables an import writes. */
async function snapshot(db: Db): Promise<Record<string, string>> {
	const out: Record<string, string> = {};
	for (const table of TABLES) {
		const r = await sql<{ n: number; sum: string }>`
			select count(*)::int as n, md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as sum
			from ${sql.table(table)} t`.execute(db);
		out[table] = `${r.rows[0].n}:${r.rows[0].sum}`;
	}
	return out;
}

async function seedStoresAndStaff(db: Db): Promise<void> {
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
			{ staff_code: 'S003', display_name: '鈴木 健太', sender_name: '渋谷店 鈴木', role: 'staff', home_store_id: 'shibuya' },
			{ staff_code: 'S007', display_name: '渡辺 陽菜', sender_name: '新宿店 渡辺', role: 'staff', home_store_id: 'shinjuku' }
		])
		.execute();
}

describe.each(testDbKinds())('CSV import on %s', (kind) => {
	let tdb: TestDatabase;
	let tmp: string;
	const load = (k: ImportOptions['kind'], file: string, extra: Partial<ImportOptions> = {}) =>
		// with the pool, PostgreSQL takes the COPY path for POS files (PGlite has no pool)
		runImport(tdb.db, { kind: k, file: join(FIXTURES, file), errorsFile: null, orders: testOrders, pool: tdb.pool, ...extra });
	const customerByMemberNo = (memberNo: string) =>
		tdb.db.selectFrom('customers').selectAll().where('member_no', '=', memberNo).executeTakeFirstOrThrow();
	const receipt = (txn: string) =>
		tdb.db.selectFrom('store_purchases').selectAll().where('pos_txn_id', '=', txn).executeTakeFirstOrThrow();

	beforeAll(async () => {
		tdb = await createTestDatabase(kind);
		tmp = await mkdtemp(join(tmpdir(), 'tsunagu-import-'));
		await seedStoresAndStaff(tdb.db);
	});
	afterAll(async () => {
		await tdb?.dispose();
		if (tmp) await rm(tmp, { recursive: true, force: true });
	});

	it('loads products, and loading them again changes nothing', async () => {
		const first = await load('products', 'products.csv');
		expect(first).toMatchObject({ rowsRead: 3, rowsOk: 3, rowsBad: 0, counts: { products_new: 3, products_updated: 0 } });
		const care = await tdb.db.selectFrom('products').selectAll().where('sku', '=', 'KS-CARE-003').executeTakeFirstOrThrow();
		expect(care).toMatchObject({ price_yen: 2200, jan: null, category: 'goods' });
		const again = await load('products', 'products.csv');
		expect(again.counts).toEqual({ products_new: 0, products_updated: 0 });
	});

	it('loads customers with their own member numbers and moves the sequence past them', async () => {
		const s = await load('customers', 'customers.csv');
		expect(s).toMatchObject({ rowsOk: 3, rowsBad: 0, counts: { customers_new: 3 } });
		const hanako = await customerByMemberNo('2000000001');
		expect(hanako).toMatchObject({ family_name: '山田', given_kana: 'ハナコ', birthday: '1990-04-12', email: 'hanako@example.jp', phone: '09011112222', home_store_id: 'shibuya', consent_messages: true });
		expect((await customerByMemberNo('2000000002')).birthday).toBe('1985-11-03');
		const ids = await tdb.db.selectFrom('customer_identities').select(['kind', 'value']).where('customer_id', '=', hanako.id).orderBy('kind').execute();
		expect(ids).toEqual([
			{ kind: 'ec', value: '7300000000000000001' },
			{ kind: 'email', value: 'hanako@example.jp' },
			{ kind: 'phone', value: '09011112222' },
			{ kind: 'pos', value: 'P-0001' }
		]);
		const next = await sql<{ n: number }>`select nextval('member_no_seq') as n`.execute(tdb.db);
		expect(next.rows[0].n).toBeGreaterThan(2000000003);
	});

	it('lands POS sales on existing customers by email or POS code, creates new ones otherwise', async () => {
		// one row per transaction: receipts split across batches must still come out whole
		const s = await load('pos', 'pos.csv', { batchSize: 1 });
		expect(s).toMatchObject({ rowsRead: 5, rowsOk: 5, rowsBad: 0, warnings: { unknown_sku: 1 } });
		expect(s.counts).toMatchObject({ receipts_new: 4, lines_new: 5, customers_new: 1 });

		const hanako = await customerByMemberNo('2000000001');
		const r1 = await receipt('shibuya-R0001');
		expect(r1).toMatchObject({ customer_id: hanako.id, total_yen: 9300, kind: 'sale', store_id: 'shibuya' });
		expect(new Date(r1.purchased_at).toISOString()).toBe('2026-11-01T01:15:00.000Z');
		const staff = await tdb.db.selectFrom('staff').select('id').where('staff_code', '=', 'S003').executeTakeFirstOrThrow();
		expect(r1.staff_id).toBe(staff.id);

		const r2 = await receipt('shibuya-R0002');
		expect(r2).toMatchObject({ customer_id: (await customerByMemberNo('2000000002')).id, total_yen: -4900, kind: 'return' });

		const r3 = await receipt('shinjuku-R0003');
		const fresh = await tdb.db.selectFrom('customers').selectAll().where('id', '=', r3.customer_id!).executeTakeFirstOrThrow();
		expect(Number(fresh.member_no)).toBeGreaterThan(2000000003);
		expect(fresh).toMatchObject({ email: 'new@example.jp', phone: '09055556666', home_store_id: 'shinjuku' });

		const r4 = await receipt('shinjuku-R0004');
		expect(r4.customer_id).toBeNull();
		const line = await tdb.db.selectFrom('store_purchase_lines').selectAll().where('purchase_id', '=', r4.id).executeTakeFirstOrThrow();
		expect(line).toMatchObject({ product_id: null, sku: 'ZZ-UNKNOWN', quantity: 3, amount_yen: 3000 });
	});

	it('loads EC orders onto the same customers and keeps a newer webhook version', async () => {
		const s = await load('ec', 'ec.csv');
		expect(s).toMatchObject({ rowsOk: 4, rowsBad: 0, counts: { orders_written: 3, lines_written: 4, customers_new: 1 } });
		expect(s.warnings).toEqual({ order_without_customer_ids: 1 });
		const hanako = await customerByMemberNo('2000000001');
		const order = (id: string) => tdb.db.selectFrom('ec_orders').selectAll().where('ec_order_id', '=', id).executeTakeFirstOrThrow();
		expect(await order('5500000000001')).toMatchObject({ customer_id: hanako.id, subtotal_yen: 18700, total_yen: 18700, source: 'csv', platform: 'shopify', status: 'open' });
		const cancelled = await order('5500000000002');
		expect(cancelled.status).toBe('cancelled');
		expect(new Date(cancelled.source_updated_at).toISOString()).toBe('2026-11-06T03:00:00.000Z');
		expect(cancelled.cancelled_at).not.toBeNull();
		expect((await order('5500000000003')).customer_id).toBeNull();
		const refund = await tdb.db.selectFrom('ec_refunds').selectAll().executeTakeFirstOrThrow();
		expect(refund).toMatchObject({ ec_refund_id: 'csv-5500000000003', ec_order_id: '5500000000003', amount_yen: 4900 });

		// the webhook delivered a newer version of #1001: an older export must not overwrite it
		await tdb.db
			.updateTable('ec_orders')
			.set({ total_yen: 99999, source: 'webhook', source_updated_at: '2026-11-10T00:00:00Z' })
			.where('ec_order_id', '=', '5500000000001')
			.execute();
		const again = await load('ec', 'ec.csv');
		expect(again.counts).toMatchObject({ orders_written: 0, lines_written: 0, customers_new: 0 });
		expect((await order('5500000000001')).total_yen).toBe(99999);
	});

	it('re-importing every file changes nothing', async () => {
		const before = await snapshot(tdb.db);
		await load('products', 'products.csv');
		await load('customers', 'customers.csv');
		const pos = await load('pos', 'pos.csv');
		await load('ec', 'ec.csv');
		expect(await snapshot(tdb.db)).toEqual(before);
		expect(pos.counts).toMatchObject({ receipts_new: 0, lines_new: 0, lines_already_present: 5, customers_new: 0 });
	});

	it('reports bad rows with their line and reason while the good rows load', async () => {
		const errorsFile = join(tmp, 'pos-bad.errors.csv');
		const s = await load('pos', 'pos-bad.csv', { errorsFile });
		expect(s).toMatchObject({ rowsRead: 6, rowsOk: 2, rowsBad: 4 });
		expect(s.errors).toEqual([
			{ line: 3, reason: 'unknown store_code "osaka"' },
			{ line: 4, reason: 'quantity must be an integer' },
			{ line: 5, reason: expect.stringContaining('purchased_at must be') },
			{ line: 7, reason: 'sku is required' }
		]);
		const file = await readFile(errorsFile, 'utf8');
		expect(file.split('\n')[0]).toBe('line,reason');
		expect(file.trim().split('\n')).toHaveLength(5);
		const b1 = await receipt('shibuya-B0001');
		expect(b1.total_yen).toBe(21400);
		expect(await tdb.db.selectFrom('store_purchases').select('pos_txn_id').where('pos_txn_id', 'in', ['shibuya-B0003', 'shibuya-B0004', 'shibuya-B0005']).execute()).toEqual([]);
		const runs = await tdb.db.selectFrom('import_runs').selectAll().orderBy('id', 'desc').executeTakeFirstOrThrow();
		expect(runs).toMatchObject({ kind: 'pos', file_name: 'pos-bad.csv', rows_ok: 2, rows_bad: 4 });
		expect(runs.finished_at).not.toBeNull();
	});

	it('reads Shift_JIS files', async () => {
		const s = await load('customers', 'customers-sjis.csv', { encoding: 'shift_jis' });
		expect(s).toMatchObject({ rowsOk: 3, rowsBad: 0, counts: { customers_new: 0, customers_updated: 0 } });
		// nothing updated: the decoded names equal the UTF-8 file's (garbled text would differ)
		expect((await customerByMemberNo('2000000003')).family_name).toBe('鈴木');
	});

	it('refuses a file whose header is not of the kind', async () => {
		await expect(load('pos', 'products.csv')).rejects.toThrow(/lacks required column/);
		await expect(load('pos', 'no-such-file.csv')).rejects.toThrow(/cannot read/);
	});
});
