/**
 * `npm run bench:reports`: server time of every /api/reports/* request on PostgreSQL with
 * 12 months of data: 1,000,000 EC orders, 1,000,000 store receipts, 200,000 customers,
 * 300,000 follow-ups (one tracked link each), 150,000 clicks and 100,000 attributed orders.
 * Data is generated set-based (generate_series) into its own database `tsunagu_bench_reports`
 * on DATABASE_URL's server (127.0.0.1 by default), kept for re-runs (`--fresh` regenerates).
 * Requests go through app.request() in-process, warm, one at a time. Prints p50/p95 per request.
 * The last scenarios change one attributed order before each request, so the request's own
 * rollup refresh has a day to rebuild (the path every report after a write takes).
 *
 *   npm run bench:reports [-- --requests 20] [-- --fresh] [-- --only KPIs]
 */
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import pg from 'pg';
import { createLogger } from '../../server/logger.ts';
import { openDatabase } from '../../server/db/index.ts';
import { migrateToLatest } from '../../server/db/migrate.ts';
import { createRuntime } from '../../server/runtime.ts';
import { signSession } from '../../server/modules/staff/tokens.ts';
import { testConfig } from '../helpers/runtime.ts';
import { refreshRollups } from '../../server/modules/reports/rollup.repository.ts';
import { refreshCustomerFacts } from '../../server/modules/reports/customer-facts.repository.ts';

const { values } = parseArgs({
	options: {
		requests: { type: 'string', default: '20' },
		'ec-orders': { type: 'string', default: '1000000' },
		attributions: { type: 'string', default: '100000' },
		fresh: { type: 'boolean', default: false },
		/** Only the scenarios whose name contains this text. */
		only: { type: 'string', default: '' }
	}
});
const REQUESTS = Number(values.requests);
const EC_ORDERS = Number(values['ec-orders']);
const ATTRIBUTIONS = Number(values.attributions);
const RECEIPTS = 1_000_000;
const CUSTOMERS = 200_000;
const FOLLOW_UPS = 300_000;
const CLICKS = 150_000;
const DB_NAME = 'tsunagu_bench_reports';
const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
// 12 months in Japan ending at 2026-11-23 00:00 JST
const START = `'2025-11-22T15:00:00Z'::timestamptz`;
const SPAN = `interval '365 days'`;

const withDb = (name: string) => {
	const u = new URL(serverUrl);
	u.pathname = `/${name}`;
	return u.toString();
};
const CUSTOMER_ID = (n: string) => `md5('c' || ${n})::uuid`;
const STAFF_ID = (n: string) => `md5('s' || ${n})::uuid`;
const FOLLOW_UP_ID = (n: string) => `md5('f' || ${n})::uuid`;
/** Deterministic pseudo-random fraction in [0, 1) per (row, salt). */
const rnd = (n: string, salt: number) => `((hashint8(${n}::bigint * 31 + ${salt}) & 2147483647)::float8 / 2147483648)`;
const STORES = `(array['shibuya','shinjuku','yokohama'])`;

function generation(): string[] {
	return [
		`insert into stores (id, name, name_en) values ('shibuya', '渋谷店', 'Shibuya'), ('shinjuku', '新宿店', 'Shinjuku'), ('yokohama', '横浜店', 'Yokohama')`,
		`insert into staff (id, staff_code, display_name, sender_name, role, home_store_id)
			select ${STAFF_ID('g')}, 'B' || g, 'スタッフ' || g, 'スタッフ' || g,
				case when g = 1 then 'admin' when g % 10 = 2 then 'manager' else 'staff' end, ${STORES}[1 + g % 3]
			from generate_series(1, 30) g`,
		`insert into customers (id, member_no, family_name, given_name, home_store_id, created_at)
			select ${CUSTOMER_ID('g')}, (1000000000 + g)::text, '山田', '花子', ${STORES}[1 + g % 3], '2024-01-01'
			from generate_series(1, ${CUSTOMERS}) g`,
		// store receipts over 18 months (history before the year matters for states and dormancy)
		`insert into store_purchases (pos_txn_id, store_id, customer_id, purchased_at, total_yen, kind)
			select 'P' || g, ${STORES}[1 + g % 3], ${CUSTOMER_ID(`1 + (${rnd('g', 1)} * ${CUSTOMERS})::int % ${CUSTOMERS}`)},
				${START} - interval '180 days' + ${rnd('g', 2)} * interval '545 days', 3000 + (g % 20) * 500,
				case when g % 50 = 0 then 'return' else 'sale' end
			from generate_series(1, ${RECEIPTS}) g`,
		`insert into ec_orders (ec_order_id, customer_id, ordered_at, total_yen, status, source_updated_at)
			select (7300000000000000000::numeric + g)::text, ${CUSTOMER_ID(`1 + (${rnd('g', 3)} * ${CUSTOMERS})::int % ${CUSTOMERS}`)},
				${START} + ${rnd('g', 4)} * ${SPAN}, 4000 + (g % 30) * 300,
				case when g % 33 = 0 then 'cancelled' else 'open' end, now()
			from generate_series(1, ${EC_ORDERS}) g`,
		`insert into follow_ups (id, customer_id, staff_id, store_id, body, messages, status, created_at, sent_at)
			select ${FOLLOW_UP_ID('g')}, ${CUSTOMER_ID(`1 + g % ${CUSTOMERS}`)}, ${STAFF_ID('1 + g % 30')}, ${STORES}[1 + (1 + g % 30) % 3],
				'新作のご案内です', '[]', case when g % 20 = 0 then 'failed' when g % 20 = 1 then 'cancelled' else 'sent' end,
				${START} + ${rnd('g', 5)} * ${SPAN}, ${START} + ${rnd('g', 5)} * ${SPAN}
			from generate_series(1, ${FOLLOW_UPS}) g`,
		`insert into tracked_links (code, follow_up_id, staff_id, store_id, target_url)
			select 'L' || g, ${FOLLOW_UP_ID('g')}, ${STAFF_ID('1 + g % 30')}, ${STORES}[1 + (1 + g % 30) % 3], 'https://shop.example.jp/p/' || g
			from generate_series(1, ${FOLLOW_UPS}) g`,
		// clicks on the first half of the links (2 per clicked link on average)
		`insert into link_clicks (click_id, code, clicked_at)
			select 'k' || g, 'L' || (1 + (g * 7) % ${FOLLOW_UPS / 2}), ${START} + ${rnd('g', 6)} * ${SPAN}
			from generate_series(1, ${CLICKS}) g`,
		// attributed orders: the EC orders 1..N (every 10th), through the clicked links
		`insert into attributions (ec_order_id, staff_id, store_id, customer_id, rule, link_code, click_id, follow_up_id, status, ordered_at, gross_yen, refunded_yen)
			select o.ec_order_id, ${STAFF_ID('1 + l % 30')}, ${STORES}[1 + (1 + l % 30) % 3], o.customer_id,
				case when g % 4 = 0 then 'last_touch' else 'ref' end, 'L' || l, 'k' || g, ${FOLLOW_UP_ID('l')},
				case when o.status = 'cancelled' then 'void' else 'active' end, o.ordered_at, o.total_yen,
				case when g % 20 = 0 then o.total_yen / 2 else 0 end
			from generate_series(1, ${ATTRIBUTIONS}) g
			cross join lateral (select 1 + (g * 7) % ${FOLLOW_UPS / 2} as l) x
			join ec_orders o on o.ec_order_id = (7300000000000000000::numeric + g * 10)::text`,
		`analyze`
	];
}

async function prepare(): Promise<string> {
	const admin = new pg.Client({ connectionString: withDb('postgres') });
	await admin.connect();
	const exists = (await admin.query('select 1 from pg_database where datname = $1', [DB_NAME])).rowCount === 1;
	if (exists && values.fresh) await admin.query(`drop database ${DB_NAME} with (force)`);
	if (!exists || values.fresh) await admin.query(`create database ${DB_NAME}`);
	await admin.end();
	const url = withDb(DB_NAME);
	const handle = await openDatabase({ url, poolSize: 2 });
	await migrateToLatest(handle.db);
	const client = await handle.pool!.connect();
	try {
		const { rows } = await client.query('select count(*)::int as n from attributions');
		if (rows[0].n === 0) {
			for (const statement of generation()) {
				const started = performance.now();
				await client.query(statement);
				console.log(`  ${statement.trim().split('\n')[0].slice(0, 70)}… ${Math.round(performance.now() - started)} ms`);
			}
		}
	} finally {
		client.release();
		await handle.close();
	}
	return url;
}

function percentile(sorted: number[], p: number): number {
	return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function main() {
	console.log(`preparing ${DB_NAME} (${EC_ORDERS} EC orders, ${ATTRIBUTIONS} attributions)…`);
	const url = await prepare();
	const rt = await createRuntime(testConfig({ DATABASE_URL: url, DATABASE_POOL_SIZE: '4' }), { logger: createLogger('silent') });
	const db = rt.deps.db;
	const counts = await db
		.selectNoFrom((eb) => [
			eb.selectFrom('ec_orders').select(eb.fn.countAll<number>().as('n')).as('ec'),
			eb.selectFrom('attributions').select(eb.fn.countAll<number>().as('n')).as('attributed')
		])
		.executeTakeFirstOrThrow();
	console.log(`data: ${counts.ec} EC orders, ${counts.attributed} attributions`);
	const rollupStarted = performance.now();
	// the first builds run as the rollup worker runs them: on the maintenance pool (long timeouts)
	const built = await rt.deps.maintenanceDb.transaction().execute((trx) => refreshRollups(trx));
	console.log(`rollup refresh: ${built.salesDays} sales days, ${built.funnelDays} funnel days in ${Math.round(performance.now() - rollupStarted)} ms`);
	const factsStarted = performance.now();
	const facts = await rt.deps.maintenanceDb.transaction().execute((trx) => refreshCustomerFacts(trx));
	console.log(`customer facts refresh: ${facts.customers} customers (${facts.full ? 'full build' : 'dirty only'}) in ${Math.round(performance.now() - factsStarted)} ms`);
	// the refreshes above deleted every marker the generation left; autovacuum would clear the
	// dead rows within a minute in a live system: do it now so the timings see the steady state
	await sql`vacuum analyze report_rollup_dirty, report_customer_dirty`.execute(db);
	const device = await db.insertInto('devices').values({ store_id: 'shibuya', name: 'bench', secret_hash: 'x'.repeat(64) }).returning('id').executeTakeFirstOrThrow();
	const token = async (n: number, role: 'admin' | 'manager' | 'staff') =>
		(await signSession(rt.config.sessionSecret, { staffId: await staffId(n), role, deviceId: device.id, storeId: 'shibuya' })).token;
	async function staffId(n: number) {
		return (await db.selectFrom('staff').select('id').where('staff_code', '=', `B${n}`).executeTakeFirstOrThrow()).id;
	}
	const who = { admin: await token(1, 'admin'), manager: await token(2, 'manager'), staff: await token(3, 'staff') };
	const YEAR = 'from=2025-11-23&to=2026-11-22';
	const MONTH = 'from=2026-10-23&to=2026-11-22';
	// before each request: one attributed order changes (a refund), as a webhook would do
	const refundOne = (n: number) =>
		sql`update attributions set refunded_yen = least(gross_yen, refunded_yen + 100) where id = (select min(id) + ${n * 7919} % 100000 from attributions)`.execute(db);
	const scenarios: Array<[string, keyof typeof who, string, ((n: number) => Promise<unknown>)?]> = [
		['sales by staff, 12 months, admin', 'admin', `/sales?groupBy=staff&${YEAR}`],
		['sales by store, 12 months, admin', 'admin', `/sales?groupBy=store&${YEAR}`],
		['sales by day, 12 months, admin', 'admin', `/sales?groupBy=day&${YEAR}`],
		['sales by week, 12 months, manager', 'manager', `/sales?groupBy=week&${YEAR}`],
		['sales by month, 12 months, staff', 'staff', `/sales?groupBy=month&${YEAR}`],
		['sales CSV by staff, 12 months, admin', 'admin', `/sales?groupBy=staff&${YEAR}&format=csv`],
		['drill-down (200 newest orders), 12 months, staff', 'staff', `/sales/orders?${YEAR}`],
		['drill-down CSV (all 3,000 orders), 12 months, staff', 'staff', `/sales/orders?${YEAR}&format=csv`],
		['funnel by staff, 12 months, admin', 'admin', `/funnel?groupBy=staff&${YEAR}`],
		['funnel by store, 1 month, manager', 'manager', `/funnel?groupBy=store&${MONTH}`],
		['KPIs, 1 month, admin', 'admin', `/kpis?${MONTH}`],
		['KPIs, 12 months, admin', 'admin', `/kpis?${YEAR}`],
		['KPIs, 12 months, manager', 'manager', `/kpis?${YEAR}`],
		['me, this month, staff', 'staff', '/me?month=2026-11'],
		['sales by staff right after a refund, 12 months', 'admin', `/sales?groupBy=staff&${YEAR}`, refundOne],
		['funnel by staff right after a refund, 12 months', 'admin', `/funnel?groupBy=staff&${YEAR}`, refundOne]
	];
	console.log(`\n${REQUESTS} requests each after 2 warm-ups (ms):`);
	console.log('scenario'.padEnd(46), 'p50'.padStart(7), 'p95'.padStart(7), 'max'.padStart(7));
	for (const [name, role, path, before] of scenarios.filter(([n]) => n.includes(values.only))) {
		const times: number[] = [];
		for (let i = 0; i < REQUESTS + 2; i++) {
			if (before) await before(i);
			const started = performance.now();
			const res = await rt.app.request(`/api/reports${path}`, { headers: { authorization: `Bearer ${who[role]}` } });
			await res.arrayBuffer();
			if (res.status !== 200) throw new Error(`${path} → ${res.status}`);
			if (i >= 2) times.push(performance.now() - started);
		}
		times.sort((a, b) => a - b);
		const f = (n: number) => n.toFixed(1).padStart(7);
		console.log(name.padEnd(46), f(percentile(times, 50)), f(percentile(times, 95)), f(times[times.length - 1]));
	}
	await rt.close();
}

await main();
