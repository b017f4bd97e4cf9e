/**
 * Loading the demo brand: generate (generate.ts, pure) → write in one transaction (write.ts) →
 * summarise customers by state. `seedIfEmpty` runs on start; `npm run seed` (server/cli/seed.ts)
 * runs the same code with options, and the set-based generator (bulk.ts) for large sizes.
 */
import { sql } from 'kysely';
import type { Db, DbOrTrx } from '../db/index.ts';
import type { Logger } from '../logger.ts';
import { recordUnrecordedFollowUps } from '../modules/contact/contact.service.ts';
import { hashPin } from '../modules/staff/pin.ts';
import { CUSTOMER_STATES, DEFAULT_DORMANT_DAYS, customerState, type CustomerState } from '../modules/customers/state.ts';
import { DEMO_PIN } from './fixtures.ts';
import { DEFAULT_CUSTOMERS, DEFAULT_SEED, generateDemoData, type DemoData } from './generate.ts';
import { jstDate } from '../shared/jst.ts';
import { insertRows } from './write.ts';
import { assignDemoBooks } from './books.ts';
import { refreshProductAffinities } from '../modules/talking-points/affinities.repository.ts';
import { refreshRollups } from '../modules/reports/rollup.repository.ts';
import { refreshCustomerFacts } from '../modules/reports/customer-facts.repository.ts';
import { seedWorklistDemo } from './worklist.ts';
import { fullMatch } from '../modules/identity/identity.service.ts';

export interface SeedOptions {
	publicBaseUrl?: string;
	/** 'YYYY-MM-DD' (Asia/Tokyo); defaults to today so the demo always looks fresh. */
	anchorDate?: string;
	seed?: number;
	customers?: number;
	dormantDays?: number;
	/** Reported as each table is written. */
	onProgress?: (step: string) => void;
}

export interface SeedReport {
	anchorDate: string;
	seed: number;
	counts: Record<string, number>;
	states: Record<CustomerState, number>;
}

const DEFAULT_PUBLIC_BASE_URL = 'http://localhost:3000';

/** Loads the demo brand when the database has no stores yet. */
export async function seedIfEmpty(db: Db, logger: Logger, options: SeedOptions = {}): Promise<boolean> {
	if (await hasData(db)) return false;
	logger.info('empty database: seeding demo data');
	const started = Date.now();
	const report = await seedDemo(db, options);
	logger.info({ ms: Date.now() - started, anchorDate: report.anchorDate, counts: report.counts, states: report.states }, 'demo data seeded');
	return true;
}

export async function hasData(db: DbOrTrx): Promise<boolean> {
	return (await db.selectFrom('stores').select('id').limit(1).executeTakeFirst()) !== undefined;
}

/** Writes the generated demo brand in one transaction (all or nothing). */
export async function seedDemo(db: Db, options: SeedOptions = {}): Promise<SeedReport> {
	const anchorDate = options.anchorDate ?? jstDate(new Date());
	const seed = options.seed ?? DEFAULT_SEED;
	const progress = options.onProgress ?? (() => {});
	progress('generating');
	const data = generateDemoData({
		anchorDate,
		seed,
		customers: options.customers ?? DEFAULT_CUSTOMERS,
		publicBaseUrl: options.publicBaseUrl ?? DEFAULT_PUBLIC_BASE_URL
	});
	// scrypt is slow on purpose: hash the one demo PIN once for every staff member
	const pinHash = await hashPin(DEMO_PIN);
	await db.transaction().execute(async (trx) => {
		await writeDemoData(trx, data, pinHash, progress);
		progress('client books');
		await assignDemoBooks(trx);
		await trx
			.insertInto('demo_seed')
			.values({ anchor_date: anchorDate, prng_seed: seed, customers: data.customers.length, generator: 'js' })
			.execute();
	});
	// Suggestions on the tablet read co-purchase affinities: compute them from the fresh history
	// now rather than waiting for the daily refresh.
	progress('product affinities');
	await refreshProductAffinities(db);
	// today's lists with some done / snoozed / dismissed history (docs/worklist.md); before the
	// rollups, which count the follow-ups that completed items
	progress('worklist');
	await seedWorklistDemo(db, anchorDate, seed, options.dormantDays ?? DEFAULT_DORMANT_DAYS);
	// the manager dashboard reads rollups and customer facts: build them now, not on the first
	// request. In full: the rollup worker may already have refreshed the empty database, and the
	// seeded rows are back-dated, so they would not look changed since then.
	progress('report rollups');
	await db.transaction().execute(async (trx) => {
		await refreshRollups(trx, { full: true });
		await refreshCustomerFacts(trx);
	});
	// merge suggestions for the planted duplicates (server/seed/duplicates.ts), at once
	progress('merge suggestions');
	await fullMatch(db);
	return {
		anchorDate,
		seed,
		counts: await tableCounts(db),
		states: await stateSummary(db, new Date(), options.dormantDays ?? DEFAULT_DORMANT_DAYS)
	};
}

export async function writeDemoData(trx: DbOrTrx, data: DemoData, pinHash: string, progress: (step: string) => void = () => {}): Promise<void> {
	const steps: Array<[Parameters<typeof insertRows>[1], ReadonlyArray<Record<string, unknown>>]> = [
		['stores', data.stores],
		['staff', data.staff.map((s) => ({ ...s, pin_hash: pinHash }))],
		['products', data.products],
		['customers', data.customers],
		['customer_identities', data.identities],
		['store_purchases', data.storePurchases],
		['store_purchase_lines', data.storePurchaseLines],
		['ec_orders', data.ecOrders],
		['ec_order_lines', data.ecOrderLines],
		['ec_refunds', data.ecRefunds],
		['consultations', data.consultations],
		['line_events', data.lineEvents],
		['message_templates', data.messageTemplates],
		['follow_ups', data.followUps],
		['tracked_links', data.trackedLinks],
		['link_clicks', data.linkClicks],
		['attributions', data.attributions]
	];
	for (const [table, rows] of steps) {
		progress(`${table} (${rows.length})`);
		await insertRows(trx, table, rows);
	}
	// the seeded follow-ups are the customers' contact history (contact limits, last contact)
	progress('contact_log');
	await recordUnrecordedFollowUps(trx);
	await syncMemberNumbers(trx);
}

/** New members continue after the largest seeded member number. */
export async function syncMemberNumbers(db: DbOrTrx): Promise<void> {
	await sql`select setval('member_no_seq', greatest((select max(member_no::bigint) from customers where member_no ~ '^[0-9]+$'), 1000000000))`.execute(db);
}

/** Empties every application table (keeps the migration bookkeeping) for `npm run seed -- --reset`. */
export async function resetDatabase(db: Db): Promise<void> {
	const tables = await sql<{ tablename: string }>`
		select tablename from pg_tables where schemaname = 'public' and tablename not like 'kysely\\_%'`.execute(db);
	if (tables.rows.length === 0) return;
	const list = tables.rows.map((t) => `"${t.tablename}"`).join(', ');
	await db.transaction().execute(async (trx) => {
		await sql.raw(`truncate ${list} restart identity cascade`).execute(trx);
		await sql.raw(`alter sequence member_no_seq restart with 1000000001`).execute(trx);
	});
}

export const COUNTED_TABLES = [
	'stores', 'staff', 'products', 'customers', 'customer_identities', 'store_purchases', 'store_purchase_lines',
	'ec_orders', 'ec_order_lines', 'ec_refunds', 'consultations', 'line_events', 'message_templates',
	'follow_ups', 'tracked_links', 'link_clicks', 'attributions'
] as const;

export async function tableCounts(db: DbOrTrx): Promise<Record<string, number>> {
	const selects = COUNTED_TABLES.map((t) => `(select count(*) from ${t})::int as ${t}`).join(', ');
	const row = await sql.raw<Record<string, number>>(`select ${selects}`).execute(db);
	return row.rows[0];
}

/**
 * Customers per state, computed in the database: the state depends only on (store sales 0/1/2+,
 * EC orders 0/1/2+, last purchase before the cutoff), so a handful of buckets go through
 * customerState() — exact, and fast on a million customers.
 */
export async function stateSummary(db: DbOrTrx, now: Date, dormantDays = DEFAULT_DORMANT_DAYS): Promise<Record<CustomerState, number>> {
	const cutoff = new Date(now.getTime() - dormantDays * 86_400_000);
	const rows = await sql<{ store: number; ec: number; dormant: boolean | null; n: number }>`
		with s as (
			select customer_id, count(*) as n, max(purchased_at) as last from store_purchases
			where customer_id is not null and kind = 'sale' group by customer_id
		), e as (
			select customer_id, count(*) as n, max(ordered_at) as last from ec_orders
			where customer_id is not null and status <> 'cancelled' group by customer_id
		)
		select least(coalesce(s.n, 0), 2)::int as store, least(coalesce(e.n, 0), 2)::int as ec,
			greatest(s.last, e.last) < ${cutoff} as dormant, count(*)::int as n
		from customers c left join s on s.customer_id = c.id left join e on e.customer_id = c.id
		where c.merged_into is null
		group by 1, 2, 3`.execute(db);
	const summary = Object.fromEntries(CUSTOMER_STATES.map((s) => [s, 0])) as Record<CustomerState, number>;
	for (const r of rows.rows) {
		const last = r.dormant === null ? null : r.dormant ? new Date(cutoff.getTime() - 1) : now;
		summary[customerState({ storeOrders: r.store, ecOrders: r.ec, lastPurchaseAt: last, firstPurchaseAt: last }, now, dormantDays)] += r.n;
	}
	return summary;
}

/** Each customer's state by member number (tests and small databases). */
export async function memberStates(db: DbOrTrx, now: Date, dormantDays = DEFAULT_DORMANT_DAYS): Promise<Map<string, CustomerState>> {
	const rows = await sql<{ member_no: string; store: number; ec: number; last: Date | null; first: Date | null }>`
		select c.member_no,
			(select count(*) from store_purchases p where p.customer_id = c.id and p.kind = 'sale')::int as store,
			(select count(*) from ec_orders o where o.customer_id = c.id and o.status <> 'cancelled')::int as ec,
			greatest((select max(purchased_at) from store_purchases p where p.customer_id = c.id and p.kind = 'sale'),
				(select max(ordered_at) from ec_orders o where o.customer_id = c.id and o.status <> 'cancelled')) as last,
			least((select min(purchased_at) from store_purchases p where p.customer_id = c.id and p.kind = 'sale'),
				(select min(ordered_at) from ec_orders o where o.customer_id = c.id and o.status <> 'cancelled')) as first
		from customers c where c.merged_into is null`.execute(db);
	return new Map(
		rows.rows.map((r) => [
			r.member_no,
			customerState({ storeOrders: r.store, ecOrders: r.ec, lastPurchaseAt: r.last && new Date(r.last), firstPurchaseAt: r.first && new Date(r.first) }, now, dormantDays)
		])
	);
}
