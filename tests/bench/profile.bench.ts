/**
 * `npm run bench:profile`: server time of GET /api/customers/:id/profile (timeline, talking
 * points, suggestions, audit write) at 1,000,000 customers and ~20,000,000 purchase lines on
 * PostgreSQL. Data is generated set-based (generate_series) into its own database
 * `tsunagu_bench_profile` on DATABASE_URL's server (127.0.0.1 by default), indexes built after
 * the load; the database is kept for re-runs (`--fresh` regenerates). Requests go through
 * app.request() in-process, warm, one at a time, for random customers. Prints p50/p95/p99.
 *
 *   npm run bench:profile [-- --customers 1000000] [-- --receipts 4000000] [-- --requests 1000] [-- --fresh]
 */
import { loadavg, cpus } from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { sql } from 'kysely';
import { createLogger } from '../../server/logger.ts';
import { openDatabase } from '../../server/db/index.ts';
import { migrateToLatest } from '../../server/db/migrate.ts';
import { createRuntime } from '../../server/runtime.ts';
import { signSession } from '../../server/modules/staff/tokens.ts';
import { refreshProductAffinities } from '../../server/modules/talking-points/affinities.repository.ts';
import { testConfig } from '../helpers/runtime.ts';

const { values } = parseArgs({
	options: {
		customers: { type: 'string', default: '1000000' },
		receipts: { type: 'string', default: '4000000' },
		'ec-orders': { type: 'string', default: '1000000' },
		requests: { type: 'string', default: '1000' },
		fresh: { type: 'boolean', default: false }
	}
});
const CUSTOMERS = Number(values.customers);
const RECEIPTS = Number(values.receipts);
const EC_ORDERS = Number(values['ec-orders']);
const REQUESTS = Number(values.requests);
const LINES_PER_BASKET = 4;
const DB_NAME = 'tsunagu_bench_profile';
const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const withDb = (name: string) => {
	const u = new URL(serverUrl);
	u.pathname = `/${name}`;
	return u.toString();
};

/** Deterministic customer ids, so purchases reference customers without a join. */
const CUSTOMER_ID = (n: string) => `md5('c' || ${n})::uuid`;

// indexes of the history tables, dropped for the load and rebuilt after (same definitions as the migrations)
const HISTORY_INDEXES: Array<[string, string]> = [
	['store_purchases_customer_idx', 'create index store_purchases_customer_idx on store_purchases (customer_id, purchased_at desc)'],
	['ec_orders_customer_idx', 'create index ec_orders_customer_idx on ec_orders (customer_id, ordered_at desc)'],
	['ec_orders_ordered_at_idx', 'create index ec_orders_ordered_at_idx on ec_orders (ordered_at)'],
	['ec_order_lines_product_idx', 'create index ec_order_lines_product_idx on ec_order_lines (product_id)'],
	['consultations_customer_idx', 'create index consultations_customer_idx on consultations (customer_id, occurred_at desc)'],
	['customers_kana_idx', 'create index customers_kana_idx on customers (family_kana text_pattern_ops, given_kana) where family_kana is not null'],
	['customers_phone_last4_idx', 'create index customers_phone_last4_idx on customers (right(phone, 4)) where phone is not null'],
	['customers_family_name_idx', 'create index customers_family_name_idx on customers (family_name text_pattern_ops) where family_name is not null']
];

function generation(): string[] {
	const lines = LINES_PER_BASKET;
	return [
		`insert into stores (id, name, name_en) values ('shibuya', '渋谷店', 'Shibuya'), ('shinjuku', '新宿店', 'Shinjuku'), ('yokohama', '横浜店', 'Yokohama')`,
		`insert into staff (staff_code, display_name, sender_name, role, home_store_id)
			select 'B' || g, 'スタッフ' || g, 'スタッフ' || g, case when g = 1 then 'admin' when g % 4 = 0 then 'manager' else 'staff' end,
				(array['shibuya','shinjuku','yokohama'])[1 + g % 3]
			from generate_series(1, 30) g`,
		`insert into products (sku, jan, name, category, price_yen)
			select 'SKU-' || g, (4900000000000 + g)::text, '商品' || g,
				(array['トップス','ボトムス','アウター','ワンピース','シューズ','バッグ','アクセサリー','シューケア'])[1 + g % 8],
				(1990 + (g % 20) * 1000)
			from generate_series(1, 400) g`,
		`insert into customers (id, member_no, family_name, given_name, family_kana, given_kana, phone, birthday, home_store_id,
				line_user_id, line_friend, consent_messages, created_at)
			select ${CUSTOMER_ID('g')}, (1000000000 + g)::text,
				(array['山田','佐藤','鈴木','高橋','田中','伊藤','渡辺','山本','中村','小林'])[1 + g % 10], '花子' || (g % 100),
				(array['ヤマダ','サトウ','スズキ','タカハシ','タナカ','イトウ','ワタナベ','ヤマモト','ナカムラ','コバヤシ'])[1 + g % 10], 'ハナコ',
				'090' || lpad((g::bigint * 7919 % 100000000)::text, 8, '0'),
				date '1960-01-01' + (g % 15000),
				(array['shibuya','shinjuku','yokohama'])[1 + g % 3],
				case when g % 3 = 0 then 'U' || md5('l' || g) end, g % 3 = 0, g % 2 = 0,
				now() - make_interval(days => g % 2000)
			from generate_series(1, ${CUSTOMERS}) g`,
		`insert into store_purchases (id, pos_txn_id, store_id, customer_id, staff_id, purchased_at, total_yen, kind)
			overriding system value
			select g, 'P' || g, (array['shibuya','shinjuku','yokohama'])[1 + g % 3],
				${CUSTOMER_ID(`(1 + (hashint4(g) & 2147483647) % ${CUSTOMERS})`)}, null,
				now() - make_interval(secs => (hashint4(g * 3) & 2147483647) % (3 * 365 * 86400)),
				${lines} * 5000, 'sale'
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
		`insert into consultations (id, customer_id, store_id, staff_id, occurred_at, items, sizes, notes, tags, next_action, next_action_due)
			select md5('k' || g)::uuid, ${CUSTOMER_ID(`(1 + (hashint4(g * 11) & 2147483647) % ${CUSTOMERS})`)}, 'shibuya',
				(select id from staff order by staff_code limit 1),
				now() - make_interval(days => g % 400), '[{"name":"商品1","outcome":"tried","size":"M"}]', '{"tops":"M"}', 'メモ', '{}',
				case when g % 4 = 0 then '入荷連絡' end, case when g % 4 = 0 then current_date - (g % 30) end
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
	if (Number(loaded.n) >= CUSTOMERS) {
		console.log(`reusing ${DB_NAME} (${loaded.n} customers); --fresh regenerates`);
		await handle.close();
		return;
	}
	console.log(`generating ${CUSTOMERS} customers, ${RECEIPTS} receipts + ${EC_ORDERS} EC orders × ${LINES_PER_BASKET} lines into ${DB_NAME}`);
	const client = new pg.Client({ connectionString: withDb(DB_NAME) });
	await client.connect();
	try {
		await client.query('set synchronous_commit = off');
		await client.query("set maintenance_work_mem = '512MB'");
		// foreign keys are correct by construction; skip their per-row triggers during the load
		await client.query('set session_replication_role = replica');
		for (const [name] of HISTORY_INDEXES) await client.query(`drop index if exists ${name}`);
		for (const statement of generation()) {
			await timed(statement.trim().split('\n')[0].slice(0, 70), () => client.query(statement));
		}
		for (const [name, ddl] of HISTORY_INDEXES) await timed(`index ${name}`, () => client.query(ddl));
		await client.query('set session_replication_role = origin');
		await timed('analyze', () => client.query('analyze'));
	} finally {
		await client.end();
	}
	// the last 90 days of baskets are plenty for the suggestions the profile reads
	await timed('product affinities', () => refreshProductAffinities(handle.db, { sinceDays: 90 }));
	await handle.close();
}

function percentile(sorted: number[], p: number): number {
	return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function main() {
	const started = performance.now();
	await prepare();
	const handle = await openDatabase({ url: withDb(DB_NAME), poolSize: 10 });
	const rt = await createRuntime(testConfig({ DATABASE_POOL_SIZE: '10' }), { handle, logger: createLogger('silent') });
	try {
		const db = rt.deps.db;
		const staff = await db.selectFrom('staff').select(['id', 'role']).where('staff_code', '=', 'B2').executeTakeFirstOrThrow();
		const device = await db
			.insertInto('devices')
			.values({ store_id: 'shibuya', name: 'bench', secret_hash: '0'.repeat(64) })
			.returning('id')
			.executeTakeFirstOrThrow();
		const { token } = await signSession(rt.config.sessionSecret, { staffId: staff.id, role: staff.role, deviceId: device.id, storeId: 'shibuya' });
		const ids = await db
			.selectFrom('customers')
			.select('id')
			.where('member_no', 'in', Array.from({ length: REQUESTS + 100 }, () => String(1000000001 + Math.floor(Math.random() * CUSTOMERS))))
			.execute();
		const headers = { authorization: `Bearer ${token}` };
		const fetchProfile = async (id: string) => {
			const t0 = performance.now();
			const res = await rt.app.request(`/api/customers/${id}/profile?via=scan`, { headers });
			const body = (await res.json()) as { timeline?: unknown[] };
			const ms = performance.now() - t0;
			if (res.status !== 200) throw new Error(`profile answered ${res.status}`);
			return { ms, items: body.timeline?.length ?? 0 };
		};
		// warm-up: connections, JIT of our code, hot index pages
		for (const { id } of ids.slice(0, 100)) await fetchProfile(id);
		const times: number[] = [];
		let items = 0;
		for (const { id } of ids.slice(100, 100 + REQUESTS)) {
			const r = await fetchProfile(id);
			times.push(r.ms);
			items += r.items;
		}
		times.sort((a, b) => a - b);
		// baseline: a bare round trip to PostgreSQL under the same machine load
		const trips: number[] = [];
		for (let i = 0; i < 300; i++) {
			const t0 = performance.now();
			await sql`select 1`.execute(db);
			trips.push(performance.now() - t0);
		}
		trips.sort((a, b) => a - b);
		const lines = await db.selectFrom('store_purchase_lines').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
		const ecLines = await db.selectFrom('ec_order_lines').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
		console.log(`\nprofile API on PostgreSQL: ${CUSTOMERS.toLocaleString()} customers, ${(Number(lines.n) + Number(ecLines.n)).toLocaleString()} purchase lines`);
		console.log(`  ${times.length} warm requests (random customers, one at a time, ${(items / times.length).toFixed(1)} timeline items on average)`);
		console.log(`  p50 ${percentile(times, 50).toFixed(1)} ms   p95 ${percentile(times, 95).toFixed(1)} ms   p99 ${percentile(times, 99).toFixed(1)} ms   max ${times[times.length - 1].toFixed(1)} ms   (target p95 ≤ 50 ms)`);
		console.log(`  baseline "select 1" round trip: p50 ${percentile(trips, 50).toFixed(2)} ms   p95 ${percentile(trips, 95).toFixed(2)} ms`);
		// on a shared machine the figure means little without the load it was measured under
		console.log(`  machine: ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' / ')} (1/5/15 min)`);
		console.log(`  total bench time ${((performance.now() - started) / 1000).toFixed(0)} s`);
	} finally {
		await rt.close();
	}
}

await main();
