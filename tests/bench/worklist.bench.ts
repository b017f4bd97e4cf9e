/**
 * `npm run bench:worklist`: building today's lists for every staff member (all stores, from an
 * empty worklist — the first build of a day; later builds only add new occasions) and the list
 * API's p95, on PostgreSQL. Data is generated set-based into its own database
 * `tsunagu_bench_worklist` on DATABASE_URL's server (127.0.0.1 by default) and kept for re-runs
 * (`--fresh` regenerates). Target: 200 staff, 1,000,000 customers, ~20,000,000 purchase lines
 * (the defaults) built in ≤ 60 s; list API p95 ≤ 50 ms. The build reads the reports' per-customer
 * facts (brought up to date first and timed separately: the reports worker keeps them current).
 *
 *   npm run bench:worklist [-- --customers 1000000] [-- --receipts 4000000] [-- --ec-orders 1000000] [-- --staff 200] [-- --requests 500] [-- --fresh] [-- --db NAME]
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
import { buildStores } from '../../server/modules/worklist/worklist.service.ts';
import { allStoreIds } from '../../server/modules/worklist/worklist.repository.ts';
import { jstDate } from '../../server/shared/jst.ts';
import { refreshCustomerFacts } from '../../server/modules/reports/customer-facts.repository.ts';
import { testConfig } from '../helpers/runtime.ts';

const { values } = parseArgs({
	options: {
		customers: { type: 'string', default: '1000000' },
		receipts: { type: 'string', default: '4000000' },
		'ec-orders': { type: 'string', default: '1000000' },
		staff: { type: 'string', default: '200' },
		requests: { type: 'string', default: '500' },
		fresh: { type: 'boolean', default: false },
		/** a database of one's own when several people bench on one server */
		db: { type: 'string', default: 'tsunagu_bench_worklist' }
	}
});
const CUSTOMERS = Number(values.customers);
const RECEIPTS = Number(values.receipts);
const EC_ORDERS = Number(values['ec-orders']);
const STAFF = Number(values.staff);
const REQUESTS = Number(values.requests);
const LINES = 4;
/** about eight floor staff per store, as in the demo brand */
const STORES = Math.max(1, Math.ceil(STAFF / 8));
const DB_NAME = values.db;
const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const withDb = (name: string) => {
	const u = new URL(serverUrl);
	u.pathname = `/${name}`;
	return u.toString();
};
const CUSTOMER_ID = (n: string) => `md5('c' || ${n})::uuid`;
const STORE = (n: string) => `'s' || (1 + (${n}) % ${STORES})`;

function generation(): string[] {
	const days = 3 * 365 * 86400;
	// next actions: a quarter of the consultations of the last 45 days, due a week later (some
	// overdue); older ones would have been done or dismissed by then, and the bench starts from an
	// empty worklist, so giving every consultation of 400 days an open action would put ~80 on
	// each list
	return [
		`insert into stores (id, name, name_en) select 's' || g, '店舗' || g, 'Store ' || g from generate_series(1, ${STORES}) g`,
		`insert into staff (id, staff_code, display_name, sender_name, role, home_store_id)
			select md5('s' || g)::uuid, 'B' || g, 'スタッフ' || g, 'スタッフ' || g, case when g % 8 = 0 then 'manager' else 'staff' end, ${STORE('g')}
			from generate_series(1, ${STAFF}) g`,
		`insert into products (sku, name, category, price_yen) select 'SKU-' || g, '商品' || g, 'トップス', 1990 + (g % 20) * 1000 from generate_series(1, 400) g`,
		// a third reachable on LINE with consent; half of those owned by a staff member of their store
		`insert into customers (id, member_no, family_name, given_name, birthday, home_store_id, owner_staff_id, line_user_id, line_friend, consent_messages, created_at)
			select ${CUSTOMER_ID('g')}, (1000000000 + g)::text, '山田', '花子' || (g % 100), date '1960-01-01' + (g % 15000), ${STORE('g')},
				case when g % 2 = 0 then md5('s' || (1 + (g % ${STORES}) + ${STORES} * ((g / ${STORES}) % ${Math.max(1, Math.floor(STAFF / STORES))})))::uuid end,
				case when g % 3 = 0 then 'U' || md5('l' || g) end, g % 3 = 0, g % 3 = 0, now() - make_interval(days => g % 2000)
			from generate_series(1, ${CUSTOMERS}) g`,
		`update customers c set owner_staff_id = null where owner_staff_id is not null and not exists (select 1 from staff s where s.id = c.owner_staff_id and s.home_store_id = c.home_store_id)`,
		`insert into store_purchases (id, pos_txn_id, store_id, customer_id, staff_id, purchased_at, total_yen, kind)
			overriding system value
			select g, 'P' || g, ${STORE('g')}, ${CUSTOMER_ID(`(1 + (hashint4(g) & 2147483647) % ${CUSTOMERS})`)}, md5('s' || (1 + g % ${STAFF}))::uuid,
				now() - make_interval(secs => (hashint4(g * 3) & 2147483647) % ${days}), ${LINES} * 5000, 'sale'
			from generate_series(1, ${RECEIPTS}) g`,
		`insert into store_purchase_lines (purchase_id, line_no, product_id, sku, quantity, unit_price_yen, amount_yen)
			select p, l, 1 + (hashint4(p * 8 + l) & 2147483647) % 400, 'SKU-1', 1, 5000, 5000
			from generate_series(1, ${RECEIPTS}) p, generate_series(1, ${LINES}) l`,
		`insert into ec_orders (id, ec_order_id, order_name, customer_id, ordered_at, subtotal_yen, total_yen, source_updated_at, status)
			overriding system value
			select g, (7300000000000000000 + g)::text, '#' || g, ${CUSTOMER_ID(`(1 + (hashint4(-g) & 2147483647) % ${CUSTOMERS})`)},
				now() - make_interval(secs => (hashint4(g * 5) & 2147483647) % ${days}), ${LINES} * 5000, ${LINES} * 5000, now(),
				case when g % 50 = 0 then 'cancelled' else 'open' end
			from generate_series(1, ${EC_ORDERS}) g`,
		`insert into ec_order_lines (order_id, line_no, product_id, sku, name, quantity, unit_price_yen, amount_yen)
			select o, l, 1 + (hashint4(-o * 8 - l) & 2147483647) % 400, 'SKU-1', '商品', 1, 5000, 5000
			from generate_series(1, ${EC_ORDERS}) o, generate_series(1, ${LINES}) l`,
		`insert into consultations (id, customer_id, store_id, staff_id, occurred_at, items, sizes, notes, tags, next_action, next_action_due)
			select md5('k' || g)::uuid, ${CUSTOMER_ID(`(1 + (hashint4(g * 11) & 2147483647) % ${CUSTOMERS})`)}, ${STORE('g')}, md5('s' || (1 + g % ${STAFF}))::uuid,
				now() - make_interval(days => g % 400), '[]', '{}', '', '{}',
				case when g % 4 = 0 and g % 400 < 45 then '入荷連絡' end, case when g % 4 = 0 and g % 400 < 45 then current_date - (g % 400) + 7 end
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
		console.log(`reusing ${DB_NAME} (${loaded.n} customers); --fresh regenerates`);
		return;
	}
	console.log(`generating ${STAFF} staff in ${STORES} stores, ${CUSTOMERS} customers, ${RECEIPTS} receipts + ${EC_ORDERS} EC orders × ${LINES} lines`);
	const client = new pg.Client({ connectionString: withDb(DB_NAME) });
	await client.connect();
	try {
		await client.query('set synchronous_commit = off');
		await client.query('set session_replication_role = replica');
		for (const statement of generation()) await timed(statement.trim().split('\n')[0].slice(0, 70), () => client.query(statement));
		await client.query('set session_replication_role = origin');
		await timed('analyze', () => client.query('analyze'));
	} finally {
		await client.end();
	}
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

async function main() {
	await prepare();
	const handle = await openDatabase({ url: withDb(DB_NAME), poolSize: 10 });
	const rt = await createRuntime(testConfig({ DATABASE_POOL_SIZE: '10' }), { handle, logger: createLogger('silent') });
	try {
		const db = rt.deps.db;
		const today = jstDate(new Date());
		await db.deleteFrom('worklist_state_changes').execute();
		await db.deleteFrom('worklist_items').execute();
		await db.deleteFrom('worklist_builds').execute();
		// the previous run's items are dead rows: a table that was never bulk-deleted has none
		await sql`vacuum worklist_items, worklist_state_changes, worklist_builds`.execute(db);
		const stores = await allStoreIds(db);
		// the builder reads the reports' per-customer facts, which the reports worker keeps current
		// (incremental, every minute); after generation that is one full build, timed on its own
		const f0 = performance.now();
		const facts = await rt.deps.maintenanceDb.transaction().execute((trx) => refreshCustomerFacts(trx));
		const factsMs = performance.now() - f0;
		const t0 = performance.now();
		const built = await buildStores(db, stores, today, rt.deps.worklist.options);
		const buildMs = performance.now() - t0;
		const t1 = performance.now();
		const again = await buildStores(db, stores, today, rt.deps.worklist.options);
		const againMs = performance.now() - t1;

		// what autovacuum does after thousands of inserts: the list query plans on real statistics
		await sql`analyze worklist_items`.execute(db);
		const staff = await db.selectFrom('staff').select(['id', 'role', 'home_store_id']).execute();
		const device = await db.insertInto('devices').values({ store_id: stores[0], name: 'bench', secret_hash: '0'.repeat(64) }).returning('id').executeTakeFirstOrThrow();
		const tokens = await Promise.all(
			staff.slice(0, 50).map(async (s) => (await signSession(rt.config.sessionSecret, { staffId: s.id, role: s.role, deviceId: device.id, storeId: s.home_store_id! })).token)
		);
		let items = 0;
		const fetchList = async (token: string) => {
			const started = performance.now();
			const res = await rt.app.request('/api/worklist/today', { headers: { authorization: `Bearer ${token}` } });
			const body = (await res.json()) as { groups: Record<string, unknown[]> };
			if (res.status !== 200) throw new Error(`list answered ${res.status}`);
			items += body.groups.overdue.length + body.groups.today.length + body.groups.upcoming.length;
			return performance.now() - started;
		};
		for (const token of tokens) await fetchList(token); // warm-up
		items = 0;
		const times: number[] = [];
		for (let i = 0; i < REQUESTS; i++) times.push(await fetchList(tokens[i % tokens.length]));
		times.sort((a, b) => a - b);
		const lines = await db.selectFrom('store_purchase_lines').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
		const ecLines = await db.selectFrom('ec_order_lines').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
		const customers = await db.selectFrom('customers').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
		console.log(`\ntoday's lists on PostgreSQL: ${staff.length} staff in ${stores.length} stores, ${Number(customers.n).toLocaleString()} customers, ${(Number(lines.n) + Number(ecLines.n)).toLocaleString()} purchase lines`);
		console.log(`  build all lists (incremental builder, first build of the day, all stores): ${(buildMs / 1000).toFixed(1)} s, ${built.created.toLocaleString()} items from ${built.candidates.toLocaleString()} candidates   (target ≤ 60 s at 200 staff / 1M customers / 20M lines)`);
		console.log(`  customer facts before the build (reports worker): ${facts.full ? 'full build' : 'incremental refresh'} of ${facts.customers.toLocaleString()} customers in ${(factsMs / 1000).toFixed(1)} s (not part of the list build: kept current by the worker all day)`);
		console.log(`  build again the same day (nothing new): ${(againMs / 1000).toFixed(1)} s, ${again.created} items`);
		console.log(`  list API GET /api/worklist/today: ${times.length} warm requests over ${tokens.length} staff, ${(items / times.length).toFixed(1)} items on average`);
		console.log(`  p50 ${percentile(times, 50).toFixed(1)} ms   p95 ${percentile(times, 95).toFixed(1)} ms   p99 ${percentile(times, 99).toFixed(1)} ms   (target p95 ≤ 50 ms)`);
		console.log(`  machine: ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' / ')} (1/5/15 min)`);
	} finally {
		await rt.close();
	}
}

await main();
