/**
 * `npm run bench:book`: server time of GET /api/client-book — one filtered page of up to 200
 * rows of a staff member's client book (担当顧客) — on PostgreSQL, at 1,000,000 customers and
 * ~20,000,000 purchase lines by default. Data is generated set-based (generate_series) into its
 * own database `tsunagu_bench_book` on DATABASE_URL's server (127.0.0.1 by default) and kept for
 * re-runs (`--fresh` regenerates; `--db` names it). The page reads the reports' per-customer
 * facts, built (timed) before the requests. `--staff` members own `--book-size` customers each (the rest
 * are in their store's book). Requests go through app.request() in-process, warm, one at a time,
 * for random staff members and a rotating mix of filters and sorts (state, LTV band, birthday
 * month, LINE, last-purchase range; some second pages by cursor). Prints p50/p95/p99.
 *
 *   npm run bench:book [-- --customers 1000000] [-- --receipts 4000000] [-- --ec-orders 1000000]
 *                      [-- --staff 200] [-- --book-size 1000] [-- --requests 500] [-- --fresh]
 */
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { sql } from 'kysely';
import { createLogger } from '../../server/logger.ts';
import { openDatabase } from '../../server/db/index.ts';
import { migrateToLatest } from '../../server/db/migrate.ts';
import { createRuntime } from '../../server/runtime.ts';
import { signSession } from '../../server/modules/staff/tokens.ts';
import { refreshCustomerFacts } from '../../server/modules/reports/customer-facts.repository.ts';
import { testConfig } from '../helpers/runtime.ts';

const { values } = parseArgs({
	options: {
		customers: { type: 'string', default: '1000000' },
		receipts: { type: 'string', default: '4000000' },
		'ec-orders': { type: 'string', default: '1000000' },
		staff: { type: 'string', default: '200' },
		'book-size': { type: 'string', default: '1000' },
		requests: { type: 'string', default: '500' },
		fresh: { type: 'boolean', default: false },
		/** a database of one's own when several people bench on one server */
		db: { type: 'string', default: 'tsunagu_bench_book' }
	}
});
const CUSTOMERS = Number(values.customers);
const RECEIPTS = Number(values.receipts);
const EC_ORDERS = Number(values['ec-orders']);
const STAFF = Number(values.staff);
const BOOK_SIZE = Number(values['book-size']);
const REQUESTS = Number(values.requests);
const LINES_PER_BASKET = 4;
const DB_NAME = values.db;
const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
if (STAFF * BOOK_SIZE > CUSTOMERS) throw new Error('--staff × --book-size must not exceed --customers');

const withDb = (name: string) => {
	const u = new URL(serverUrl);
	u.pathname = `/${name}`;
	return u.toString();
};

/** Deterministic ids, so rows reference each other without joins. */
const CUSTOMER_ID = (n: string) => `md5('c' || ${n})::uuid`;
const STAFF_ID = (n: string) => `md5('s' || ${n})::uuid`;

const HISTORY_INDEXES: Array<[string, string]> = [
	['store_purchases_customer_idx', 'create index store_purchases_customer_idx on store_purchases (customer_id, purchased_at desc)'],
	['ec_orders_customer_idx', 'create index ec_orders_customer_idx on ec_orders (customer_id, ordered_at desc)'],
	['ec_orders_ordered_at_idx', 'create index ec_orders_ordered_at_idx on ec_orders (ordered_at)'],
	['ec_order_lines_product_idx', 'create index ec_order_lines_product_idx on ec_order_lines (product_id)'],
	['consultations_customer_idx', 'create index consultations_customer_idx on consultations (customer_id, occurred_at desc)'],
	['follow_ups_customer_idx', 'create index follow_ups_customer_idx on follow_ups (customer_id, created_at desc)'],
	['follow_ups_staff_idx', 'create index follow_ups_staff_idx on follow_ups (staff_id, created_at)'],
	['customers_kana_idx', 'create index customers_kana_idx on customers (family_kana text_pattern_ops, given_kana) where family_kana is not null'],
	['customers_phone_last4_idx', 'create index customers_phone_last4_idx on customers (right(phone, 4)) where phone is not null'],
	['customers_family_name_idx', 'create index customers_family_name_idx on customers (family_name text_pattern_ops) where family_name is not null'],
	['customers_owner_idx', 'create index customers_owner_idx on customers (owner_staff_id) where owner_staff_id is not null'],
	['customers_owner_book_idx', 'create index customers_owner_book_idx on customers (owner_staff_id, id) where owner_staff_id is not null and merged_into is null'],
	['customers_store_book_idx', 'create index customers_store_book_idx on customers (home_store_id, id) where owner_staff_id is null and merged_into is null']
];

function generation(): string[] {
	const lines = LINES_PER_BASKET;
	const owned = STAFF * BOOK_SIZE;
	return [
		`insert into stores (id, name, name_en) values ('shibuya', '渋谷店', 'Shibuya'), ('shinjuku', '新宿店', 'Shinjuku'), ('yokohama', '横浜店', 'Yokohama')`,
		`insert into staff (id, staff_code, display_name, sender_name, role, home_store_id)
			select ${STAFF_ID('g')}, 'B' || g, 'スタッフ' || g, 'スタッフ' || g, case when g = 1 then 'admin' when g % 10 = 0 then 'manager' else 'staff' end,
				(array['shibuya','shinjuku','yokohama'])[1 + g % 3]
			from generate_series(1, ${STAFF}) g`,
		`insert into products (sku, jan, name, category, price_yen)
			select 'SKU-' || g, (4900000000000 + g)::text, '商品' || g, (array['トップス','ボトムス','アウター','シューズ'])[1 + g % 4], 1990 + (g % 20) * 1000
			from generate_series(1, 400) g`,
		// customer g ≤ staff × book size belongs to staff 1 + (g - 1) % staff
		`insert into customers (id, member_no, family_name, given_name, family_kana, given_kana, birthday, home_store_id,
				line_user_id, line_friend, consent_messages, owner_staff_id, created_at)
			select ${CUSTOMER_ID('g')}, (1000000000 + g)::text,
				(array['山田','佐藤','鈴木','高橋','田中','伊藤','渡辺','山本','中村','小林'])[1 + g % 10], '花子' || (g % 100),
				(array['ヤマダ','サトウ','スズキ','タカハシ','タナカ','イトウ','ワタナベ','ヤマモト','ナカムラ','コバヤシ'])[1 + g % 10], 'ハナコ',
				case when g % 5 <> 0 then date '1960-01-01' + (g * 37 % 15000) end,
				(array['shibuya','shinjuku','yokohama'])[1 + ((g - 1) % ${STAFF} + 1) % 3],
				case when g % 3 = 0 then 'U' || md5('l' || g) end, g % 3 = 0, g % 2 = 0,
				case when g <= ${owned} then ${STAFF_ID(`(1 + (g - 1) % ${STAFF})`)} end,
				now() - make_interval(days => g % 2000)
			from generate_series(1, ${CUSTOMERS}) g`,
		`insert into store_purchases (id, pos_txn_id, store_id, customer_id, staff_id, purchased_at, total_yen, kind)
			overriding system value
			select g, 'P' || g, (array['shibuya','shinjuku','yokohama'])[1 + g % 3],
				${CUSTOMER_ID(`(1 + (hashint4(g) & 2147483647) % ${CUSTOMERS})`)}, null,
				now() - make_interval(secs => (hashint4(g * 3) & 2147483647) % (3 * 365 * 86400)),
				(1 + (hashint4(g * 7) & 2147483647) % 8) * 5000, case when g % 40 = 0 then 'return' else 'sale' end
			from generate_series(1, ${RECEIPTS}) g`,
		`insert into store_purchase_lines (purchase_id, line_no, product_id, sku, quantity, unit_price_yen, amount_yen)
			select p, l, 1 + (hashint4(p * 8 + l) & 2147483647) % 400, 'SKU-' || (1 + (hashint4(p * 8 + l) & 2147483647) % 400), 1, 5000, 5000
			from generate_series(1, ${RECEIPTS}) p, generate_series(1, ${lines}) l`,
		`insert into ec_orders (id, ec_order_id, order_name, customer_id, ordered_at, subtotal_yen, total_yen, source_updated_at, status)
			overriding system value
			select g, (7300000000000000000 + g)::text, '#' || g,
				${CUSTOMER_ID(`(1 + (hashint4(-g) & 2147483647) % ${CUSTOMERS})`)},
				now() - make_interval(secs => (hashint4(g * 5) & 2147483647) % (3 * 365 * 86400)),
				${lines} * 5000, ${lines} * 5000, now(), case when g % 50 = 0 then 'cancelled' else 'open' end
			from generate_series(1, ${EC_ORDERS}) g`,
		`insert into ec_order_lines (order_id, line_no, product_id, sku, name, quantity, unit_price_yen, amount_yen)
			select o, l, 1 + (hashint4(-o * 8 - l) & 2147483647) % 400, 'SKU-' || (1 + (hashint4(-o * 8 - l) & 2147483647) % 400), '商品', 1, 5000, 5000
			from generate_series(1, ${EC_ORDERS}) o, generate_series(1, ${lines}) l`,
		`insert into consultations (id, customer_id, store_id, staff_id, occurred_at, items, sizes, notes, tags)
			select md5('k' || g)::uuid, ${CUSTOMER_ID(`(1 + (hashint4(g * 11) & 2147483647) % ${CUSTOMERS})`)}, 'shibuya',
				${STAFF_ID(`(1 + g % ${STAFF})`)}, now() - make_interval(days => g % 400), '[]', '{}', '', '{}'
			from generate_series(1, ${Math.round(CUSTOMERS / 5)}) g`,
		`insert into follow_ups (id, customer_id, staff_id, store_id, body, messages, status, created_at, sent_at)
			select md5('f' || g)::uuid, ${CUSTOMER_ID(`(1 + (hashint4(g * 13) & 2147483647) % ${CUSTOMERS})`)}, ${STAFF_ID(`(1 + g % ${STAFF})`)}, 'shibuya',
				'ご来店ありがとうございました', '[]', 'sent', now() - make_interval(days => g % 300), now() - make_interval(days => g % 300)
			from generate_series(1, ${Math.round(CUSTOMERS / 5)}) g`,
		`select setval(pg_get_serial_sequence('store_purchases', 'id'), ${RECEIPTS})`,
		`select setval(pg_get_serial_sequence('ec_orders', 'id'), ${EC_ORDERS})`
	];
}

async function timed<T>(label: string, fn: () => Promise<T>): Promise<T> {
	const started = performance.now();
	const result = await fn();
	console.log(`  ${label}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
	return result;
}

async function prepare(): Promise<void> {
	const admin = new pg.Client({ connectionString: withDb('postgres') });
	await admin.connect();
	const exists = (await admin.query('select 1 from pg_database where datname = $1', [DB_NAME])).rowCount;
	if (exists && values.fresh) await admin.query(`drop database ${DB_NAME} with (force)`);
	if (!exists || values.fresh) await admin.query(`create database ${DB_NAME}`);
	await admin.end();

	const handle = await openDatabase({ url: withDb(DB_NAME), poolSize: 2 });
	await migrateToLatest(handle.db);
	const loaded = await handle.db.selectFrom('customers').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
	await handle.close();
	if (Number(loaded.n) > 0) {
		if (Number(loaded.n) !== CUSTOMERS) throw new Error(`${DB_NAME} holds ${loaded.n} customers, not ${CUSTOMERS}: run with --fresh`);
		console.log(`reusing ${DB_NAME} (${loaded.n} customers); --fresh regenerates`);
		return;
	}
	console.log(`generating ${CUSTOMERS} customers (${STAFF} staff × ${BOOK_SIZE} owned), ${RECEIPTS} receipts + ${EC_ORDERS} EC orders × ${LINES_PER_BASKET} lines into ${DB_NAME}`);
	const client = new pg.Client({ connectionString: withDb(DB_NAME) });
	await client.connect();
	try {
		await client.query('set synchronous_commit = off');
		await client.query("set maintenance_work_mem = '512MB'");
		// foreign keys and report triggers: correct by construction / not measured here
		await client.query('set session_replication_role = replica');
		await client.query('alter table store_purchases disable trigger all');
		await client.query('alter table ec_orders disable trigger all');
		await client.query('alter table customers disable trigger all');
		await client.query('alter table follow_ups disable trigger all');
		for (const [name] of HISTORY_INDEXES) await client.query(`drop index if exists ${name}`);
		for (const statement of generation()) await timed(statement.trim().split('\n')[0].slice(0, 70), () => client.query(statement));
		for (const [name, ddl] of HISTORY_INDEXES) await timed(`index ${name}`, () => client.query(ddl));
		for (const t of ['store_purchases', 'ec_orders', 'customers', 'follow_ups']) await client.query(`alter table ${t} enable trigger all`);
		await client.query('set session_replication_role = origin');
		await timed('analyze', () => client.query('analyze'));
	} finally {
		await client.end();
	}
}

function percentile(sorted: number[], p: number): number {
	return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** The filter mixes the requests rotate through (each with a sort). */
function filters(i: number): string {
	const month = 1 + (i % 12);
	const from = new Date(Date.now() - 90 * 86_400_000).toISOString().slice(0, 10);
	const mixes = [
		'sort=last_purchase',
		'state=store_only,cross_channel&sort=ltv',
		'state=dormant&sort=last_contact&dir=asc',
		'ltvMin=30000&ltvMax=100000&sort=ltv',
		`birthdayMonth=${month}&sort=last_purchase`,
		'line=reachable&state=first_purchase_only&sort=last_contact',
		`lastPurchaseFrom=${from}&sort=ltv`,
		'state=ec_only&line=unreachable&sort=last_purchase&dir=asc'
	];
	return mixes[i % mixes.length];
}

async function main() {
	const started = performance.now();
	await prepare();
	const handle = await openDatabase({ url: withDb(DB_NAME), poolSize: 10 });
	const rt = await createRuntime(testConfig({ DATABASE_POOL_SIZE: '10' }), { handle, logger: createLogger('silent') });
	try {
		const db = rt.deps.db;
		// the page reads the reports' per-customer facts, kept by the reports worker: brought up to
		// date first (a full build after generation, nothing on a re-run)
		const facts = await timed('customer facts refresh (reports worker)', () => rt.deps.maintenanceDb.transaction().execute((trx) => refreshCustomerFacts(trx)));
		console.log(`    ${facts.full ? 'full build' : 'incremental'}: ${facts.customers.toLocaleString()} customers`);
		const device = await db.insertInto('devices').values({ store_id: 'shibuya', name: 'bench', secret_hash: '0'.repeat(64) }).returning('id').executeTakeFirstOrThrow();
		const staff = await db.selectFrom('staff').select(['id', 'role', 'home_store_id']).where('role', '=', 'staff').execute();
		const tokens = await Promise.all(
			staff.slice(0, 50).map(async (s) => (await signSession(rt.config.sessionSecret, { staffId: s.id, role: s.role, deviceId: device.id, storeId: s.home_store_id! })).token)
		);
		const fetchPage = async (i: number) => {
			const headers = { authorization: `Bearer ${tokens[i % tokens.length]}` };
			const query = filters(i);
			const t0 = performance.now();
			const res = await rt.app.request(`/api/client-book?scope=mine&limit=200&${query}`, { headers });
			const body = (await res.json()) as { customers: unknown[]; nextCursor: string | null };
			let ms = performance.now() - t0;
			if (res.status !== 200) throw new Error(`client book answered ${res.status}: ${JSON.stringify(body)}`);
			let rows = body.customers.length;
			// every fourth request also reads the next page by cursor (timed on its own)
			let second: number | null = null;
			if (i % 4 === 0 && body.nextCursor) {
				const t1 = performance.now();
				const r2 = await rt.app.request(`/api/client-book?scope=mine&limit=200&${query}&cursor=${body.nextCursor}`, { headers });
				rows += ((await r2.json()) as { customers: unknown[] }).customers.length;
				second = performance.now() - t1;
			}
			return { ms, rows, second };
		};
		for (let i = 0; i < 40; i++) await fetchPage(i);
		const times: number[] = [];
		let rows = 0;
		for (let i = 0; i < REQUESTS; i++) {
			const r = await fetchPage(i);
			times.push(r.ms);
			if (r.second !== null) times.push(r.second);
			rows += r.rows;
		}
		times.sort((a, b) => a - b);
		const trips: number[] = [];
		for (let i = 0; i < 300; i++) {
			const t0 = performance.now();
			await sql`select 1`.execute(db);
			trips.push(performance.now() - t0);
		}
		trips.sort((a, b) => a - b);
		const lines = await sql<{ n: string }>`select (select count(*) from store_purchase_lines) + (select count(*) from ec_order_lines) as n`.execute(db);
		console.log(`\nclient-book page on PostgreSQL: ${CUSTOMERS.toLocaleString()} customers, ${Number(lines.rows[0].n).toLocaleString()} purchase lines, ${STAFF} staff × ${BOOK_SIZE.toLocaleString()} customers in their books`);
		console.log(`  ${times.length} warm page requests (8 filter/sort mixes, limit 200, one at a time, ${(rows / REQUESTS).toFixed(0)} rows per request on average)`);
		console.log(`  p50 ${percentile(times, 50).toFixed(1)} ms   p95 ${percentile(times, 95).toFixed(1)} ms   p99 ${percentile(times, 99).toFixed(1)} ms   max ${times[times.length - 1].toFixed(1)} ms   (target p95 ≤ 100 ms)`);
		console.log(`  baseline "select 1" round trip: p50 ${percentile(trips, 50).toFixed(2)} ms   p95 ${percentile(trips, 95).toFixed(2)} ms`);
		console.log(`  machine: ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' / ')} (1/5/15 min)`);
		console.log(`  total bench time ${((performance.now() - started) / 1000).toFixed(0)} s`);
	} finally {
		await rt.close();
	}
}

await main();
