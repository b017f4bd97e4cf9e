/**
 * `npm run bench:member`: server time of the member card API (member session verify + card +
 * a freshly signed QR) with 1,000,000 customers on PostgreSQL, in-process via app.request().
 *
 *   npm run bench:member                                   # throwaway database, generated data
 *   BENCH_DATABASE_URL=postgres://…/seeded npm run bench:member   # an existing seeded database
 *                                                          # (e.g. `npm run seed -- --customers 1000000`)
 * Env: DATABASE_URL (server for the throwaway db; default local postgres), BENCH_CUSTOMERS
 * (default 1,000,000), BENCH_REQUESTS (default 3000). Prints p50 / p95 / p99 in ms.
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { loadConfig } from '../../server/config.ts';
import { openDatabase, type Db } from '../../server/db/index.ts';
import { migrateToLatest } from '../../server/db/migrate.ts';
import { createLogger } from '../../server/logger.ts';
import { issueMemberSession } from '../../server/modules/members/session.ts';
import { createRuntime } from '../../server/runtime.ts';

const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const CUSTOMERS = Number(process.env.BENCH_CUSTOMERS ?? 1_000_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 3000);
const BUDGET_MS = 30;

function withDatabase(url: string, name: string): string {
	const u = new URL(url);
	u.pathname = `/${name}`;
	return u.toString();
}

async function admin(text: string): Promise<void> {
	const client = new pg.Client({ connectionString: withDatabase(SERVER_URL, 'postgres') });
	await client.connect();
	try {
		await client.query(text);
	} finally {
		await client.end();
	}
}

const step = async (label: string, statement: string, db: Db) => {
	const t = performance.now();
	await sql.raw(statement).execute(db);
	console.log(`  ${label} (${((performance.now() - t) / 1000).toFixed(1)} s)`);
};

/** Set-based generation: 1 in 3 customers linked to LINE; ~2 store receipts and 1 EC order per customer. */
async function generate(db: Db, n: number): Promise<void> {
	console.log(`generating ${n.toLocaleString()} customers with purchases…`);
	await step('stores + staff', `insert into stores (id, name, name_en) values ('shibuya','渋谷店','Shibuya'),('shinjuku','新宿店','Shinjuku'),('yokohama','横浜店','Yokohama')`, db);
	await step('staff', `insert into staff (staff_code, display_name, sender_name, role, home_store_id)
		select 'B' || i, 'スタッフ ' || i, '店舗 ' || i, 'staff', (array['shibuya','shinjuku','yokohama'])[1 + i % 3] from generate_series(1, 30) i`, db);
	await step('customers', `insert into customers (member_no, family_name, given_name, birthday, line_user_id, consent_terms_at, consent_messages, line_friend)
		select (5000000000 + i)::text, '山田', '花子' || i, date '1960-01-01' + (i % 15000),
			case when i % 3 = 0 then 'U' || lpad(to_hex(i), 32, '0') end,
			case when i % 3 = 0 then now() end, i % 3 = 0, i % 3 = 0
		from generate_series(1, ${n}) i`, db);
	await step('numbering', `create temporary table bench_c as select id, row_number() over (order by member_no) as rn from customers`, db);
	await step('index', `create index on bench_c (rn)`, db);
	await step('analyze numbering', `analyze bench_c`, db);
	await step('store receipts', `insert into store_purchases (pos_txn_id, store_id, customer_id, staff_id, purchased_at, total_yen)
		select 'BP' || g, (array['shibuya','shinjuku','yokohama'])[1 + g % 3], c.id, s.id,
			now() - ((g % 1500) || ' days')::interval, 1000 + (g::bigint * 7919) % 40000
		from generate_series(1, ${2 * n}) g
		join bench_c c on c.rn = 1 + (hashint8(g) & 2147483647) % ${n}
		join (select id, row_number() over () as k from staff) s on s.k = 1 + g % 30`, db);
	await step('receipt lines', `insert into store_purchase_lines (purchase_id, line_no, sku, quantity, unit_price_yen, amount_yen)
		select id, 1, 'SKU-' || (id % 500), 1, total_yen, total_yen from store_purchases`, db);
	await step('EC orders', `insert into ec_orders (ec_order_id, customer_id, ordered_at, total_yen, note_attributes, source_updated_at)
		select (7300000000000000000 + g)::text, c.id, now() - ((g % 1500) || ' days')::interval, 2000 + (g::bigint * 104729) % 30000, '[]', now()
		from generate_series(1, ${n}) g
		join bench_c c on c.rn = 1 + (hashint8(g + 99) & 2147483647) % ${n}`, db);
	await step('EC lines', `insert into ec_order_lines (order_id, line_no, name, quantity, unit_price_yen, amount_yen)
		select id, 1, '商品 ' || (id % 500), 1, total_yen, total_yen from ec_orders`, db);
	await step('attributions', `insert into attributions (ec_order_id, staff_id, store_id, customer_id, rule, ordered_at, gross_yen)
		select o.ec_order_id, s.id, s.home_store_id, o.customer_id, 'last_touch', o.ordered_at, o.total_yen
		from ec_orders o join (select id, home_store_id, row_number() over () as k from staff) s on s.k = 1 + o.id % 30
		where o.id % 5 = 0`, db);
	await step('analyze', 'analyze', db);
}

function percentile(sorted: number[], p: number): number {
	return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main() {
	const existing = process.env.BENCH_DATABASE_URL;
	const name = `tsunagu_bench_member_${randomBytes(4).toString('hex')}`;
	const url = existing ?? withDatabase(SERVER_URL, name);
	if (!existing) await admin(`create database ${name}`);
	const handle = await openDatabase({ url, poolSize: 10 });
	try {
		await migrateToLatest(handle.db);
		const count = Number((await sql<{ n: string }>`select count(*) as n from customers`.execute(handle.db)).rows[0].n);
		if (count < CUSTOMERS) {
			if (existing) throw new Error(`BENCH_DATABASE_URL has ${count} customers, fewer than ${CUSTOMERS}`);
			await generate(handle.db, CUSTOMERS);
		}
		const config = loadConfig({ TSUNAGU_MODE: 'test', LOG_LEVEL: 'silent', WORKERS: 'false', DATABASE_URL: url });
		const runtime = await createRuntime(config, { handle, logger: createLogger('silent') });
		const members = await sql<{ id: string; line_user_id: string }>`
			select id, line_user_id from customers tablesample system (2)
			where line_user_id is not null and consent_terms_at is not null and merged_into is null
			limit ${REQUESTS}`.execute(handle.db);
		const sessions = await Promise.all(
			members.rows.map((m) => issueMemberSession(config.sessionSecret, { lineUserId: m.line_user_id, customerId: m.id, displayName: null }))
		);
		const total = Number((await sql<{ n: string }>`select count(*) as n from customers`.execute(handle.db)).rows[0].n);
		console.log(`\nmember card API on PostgreSQL: ${total.toLocaleString()} customers, ${sessions.length} distinct members`);

		const request = async (session: string) => {
			const t = performance.now();
			const res = await runtime.app.request('/api/member/card', { headers: { authorization: `Bearer ${session}` } });
			await res.arrayBuffer();
			if (res.status !== 200) throw new Error(`card answered ${res.status}`);
			return performance.now() - t;
		};
		// warm-up: JIT, pool connections, key import
		for (const s of sessions.slice(0, 200)) await request(s);
		const times: number[] = [];
		for (let i = 0; i < REQUESTS; i++) times.push(await request(sessions[i % sessions.length]));
		times.sort((a, b) => a - b);
		const p50 = percentile(times, 50);
		const p95 = percentile(times, 95);
		const p99 = percentile(times, 99);
		console.log(`  ${REQUESTS} sequential GET /api/member/card (session verify + card + signed QR), server time in-process:`);
		console.log(`  p50 ${p50.toFixed(2)} ms   p95 ${p95.toFixed(2)} ms   p99 ${p99.toFixed(2)} ms   max ${times[times.length - 1].toFixed(2)} ms`);
		console.log(`  budget p95 < ${BUDGET_MS} ms: ${p95 < BUDGET_MS ? 'OK' : 'OVER'}`);
		// the runtime's listeners (conversations LISTEN) hold a connection: pool.end would wait forever
		await runtime.close();
	} finally {
		await handle.close();
		if (!existing && !process.env.BENCH_KEEP) await admin(`drop database if exists ${name} with (force)`);
		else if (!existing) console.log(`  kept ${url} (reuse with BENCH_DATABASE_URL)`);
	}
}

await main();
