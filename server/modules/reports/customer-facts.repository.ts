/**
 * The per-customer purchase facts behind the OMO KPIs: refresh (dirty customers only) and reads.
 *
 * Report periods start and end at JST midnights, so a purchase only matters by its JST day:
 * "purchased before the period start" is "purchase day < first day of the period". A
 * customer's state at a midnight T needs the first purchase day per channel, the day of the
 * second purchase, and the last purchase day before T — the latter is a binary search
 * (width_bucket) in the sorted distinct purchase days, skipped when the last day is before T.
 * The results equal the raw-row queries of reports.repository.ts (`customerKpiCells`,
 * `purchaseIntervals`), which the tests compare on random data and after changes.
 *
 * Triggers (migration 2026-11-24T0900) write the ids of customers whose purchases or record
 * changed into report_customer_dirty, in the writer's transaction; a refresh takes those rows
 * and recomputes the customers from the raw rows, adjusting the gap histogram by the
 * difference. Recomputing is idempotent. Freshness works as for the daily rollups
 * (docs/report-freshness.md): a marker becomes visible when its change commits, and is taken
 * under the lock by a statement that also sees the change.
 */
import { sql, type RawBuilder } from 'kysely';
import type { DbOrTrx, Trx } from '../../db/index.ts';
import { CUSTOMER_STATES, type CustomerState } from '../customers/state.ts';
import { jstDate } from './period.ts';
import type { KpiCell, Range } from './reports.repository.ts';
import { JST_DAY, lockForRefresh } from './rollup.repository.ts';

const STATE = 'customer_facts';
/** Customers recomputed per statement (ids travel as one array parameter). */
const CHUNK = 5_000;
/** Above this many dirty customers (e.g. after a big import) a full rebuild is cheaper. */
const FULL_REBUILD_AT = 50_000;

export interface FactsRefresh {
	full: boolean;
	customers: number;
}

/**
 * True when the facts already include every change committed before this call: built, and no
 * marker visible (a refresh in progress still shows the markers it took until it commits).
 */
export async function factsAreFresh(db: DbOrTrx): Promise<boolean> {
	const { rows } = await sql<{ fresh: boolean }>`
		select not exists (select 1 from report_customer_dirty)
			and exists (select 1 from report_rollup_state where name = ${STATE}) as fresh`.execute(db);
	return rows[0].fresh;
}

/** Brings the facts up to date; serialised by an advisory lock so two refreshers never interleave. */
export async function refreshCustomerFacts(trx: Trx): Promise<FactsRefresh> {
	await lockForRefresh(trx, 'tsunagu.customer_facts');
	const built = (await sql`select 1 from report_rollup_state where name = ${STATE}`.execute(trx)).rows.length > 0;
	// taking the markers first: a change committed after this statement leaves its marker for next time
	const { rows } = await sql<{ id: string }>`
		with taken as (delete from report_customer_dirty returning customer_id)
		select distinct customer_id as id from taken`.execute(trx);
	if (!built || rows.length > FULL_REBUILD_AT) return { full: true, customers: await rebuildAll(trx) };
	const ids = rows.map((r) => r.id);
	for (let i = 0; i < ids.length; i += CHUNK) await refreshCustomers(trx, ids.slice(i, i + CHUNK));
	if (ids.length > 0) await sql`delete from report_purchase_gaps where n = 0`.execute(trx);
	return { full: false, customers: ids.length };
}

/**
 * Purchases (store receipts of kind 'sale', EC orders not cancelled) per customer, aggregated
 * into the facts columns; `only` limits it to some customers (their indexes are used). The
 * client book's columns also read returns (store receipts of other kinds count in LTV with their
 * own, negative, totals) and EC refunds.
 */
function factsOf(only: RawBuilder<unknown> | null): RawBuilder<unknown> {
	const storeWhere = only ? sql`and p.customer_id in (${only})` : sql``;
	const ecWhere = only ? sql`and o.customer_id in (${only})` : sql``;
	const customerWhere = only ? sql`and c.id in (${only})` : sql``;
	return sql`
		with p as (
			select p.customer_id as cid, p.purchased_at as at, ${JST_DAY('p.purchased_at')} as day, true as store,
				p.kind = 'sale' as sale, p.total_yen::bigint as yen
			from store_purchases p where p.customer_id is not null ${storeWhere}
			union all
			select o.customer_id, o.ordered_at, ${JST_DAY('o.ordered_at')}, false, true,
				o.total_yen - coalesce((select sum(r.amount_yen) from ec_refunds r where r.platform = o.platform and r.ec_order_id = o.ec_order_id), 0)
			from ec_orders o where o.status <> 'cancelled' and o.customer_id is not null ${ecWhere}
		),
		a as (
			select cid,
				array_agg(distinct day order by day) filter (where sale) as days,
				coalesce(array_agg(distinct day order by day) filter (where sale and store), '{}') as store_days,
				coalesce(array_agg(distinct day order by day) filter (where not store), '{}') as ec_days,
				(array_agg(day order by at) filter (where sale))[2] as second_day,
				count(*) filter (where sale and store)::int as store_sales, count(*) filter (where not store)::int as ec_orders,
				sum(yen)::bigint as ltv_yen,
				max(at) filter (where sale and store) as last_store_at, max(at) filter (where not store) as last_ec_at
			from p group by cid
		)
		select c.id as customer_id, c.home_store_id, c.created_at,
			a.days[1] as first_day, a.second_day, a.days[cardinality(a.days)] as last_day,
			a.store_days[1] as first_store_day, a.store_days[cardinality(a.store_days)] as last_store_day,
			a.ec_days[1] as first_ec_day, a.ec_days[cardinality(a.ec_days)] as last_ec_day,
			coalesce(a.days, '{}') as days, coalesce(a.store_days, '{}') as store_days, coalesce(a.ec_days, '{}') as ec_days,
			coalesce(a.store_sales, 0) as store_sales, coalesce(a.ec_orders, 0) as ec_orders, coalesce(a.ltv_yen, 0) as ltv_yen,
			a.last_store_at, a.last_ec_at
		from customers c left join a on a.cid = c.id
		where c.merged_into is null ${customerWhere}`;
}

const FACT_COLUMNS = sql`customer_id, home_store_id, created_at, first_day, second_day, last_day,
	first_store_day, last_store_day, first_ec_day, last_ec_day, days, store_days, ec_days,
	store_sales, ec_orders, ltv_yen, last_store_at, last_ec_at`;

/** Gaps between consecutive purchase days of the rows of `facts` (alias f), with a sign. */
function gapsOf(facts: RawBuilder<unknown>, sign: number): RawBuilder<unknown> {
	return sql`
		select g.day, g.gap, coalesce(f.home_store_id, '') as store_id, ${sign}::int as n
		from ${facts} f
		cross join lateral (select d.day, d.day - lag(d.day) over (order by d.day) as gap from unnest(f.days) d(day)) g
		where g.gap is not null`;
}

async function rebuildAll(trx: Trx): Promise<number> {
	await sql`delete from report_customer_facts`.execute(trx);
	await sql`delete from report_purchase_gaps`.execute(trx);
	const inserted = await sql`insert into report_customer_facts (${FACT_COLUMNS}) ${factsOf(null)}`.execute(trx);
	await sql`
		insert into report_purchase_gaps (day, gap, store_id, n)
		select day, gap, store_id, sum(n) from (${gapsOf(sql`report_customer_facts`, 1)}) g group by 1, 2, 3`.execute(trx);
	await sql`
		insert into report_rollup_state (name, refreshed_until) values (${STATE}, clock_timestamp())
		on conflict (name) do update set refreshed_until = excluded.refreshed_until`.execute(trx);
	await sql`analyze report_customer_facts`.execute(trx);
	await sql`analyze report_purchase_gaps`.execute(trx);
	return Number(inserted.numAffectedRows ?? 0);
}

/**
 * Recomputes some customers in one statement: the old rows (read before the change, same
 * snapshot) leave the gap histogram, the fresh rows enter it, rows of customers now merged
 * away or gone are deleted.
 */
async function refreshCustomers(trx: Trx, ids: string[]): Promise<void> {
	const only = sql`select unnest(${ids}::uuid[])`;
	await sql`
		with fresh as (${factsOf(only)}),
		old as (select * from report_customer_facts where customer_id in (${only})),
		removed as (
			delete from report_customer_facts where customer_id in (${only}) and customer_id not in (select customer_id from fresh)
		),
		upserted as (
			insert into report_customer_facts (${FACT_COLUMNS}) select ${FACT_COLUMNS} from fresh
			on conflict (customer_id) do update set home_store_id = excluded.home_store_id, created_at = excluded.created_at,
				first_day = excluded.first_day, second_day = excluded.second_day, last_day = excluded.last_day,
				first_store_day = excluded.first_store_day, last_store_day = excluded.last_store_day,
				first_ec_day = excluded.first_ec_day, last_ec_day = excluded.last_ec_day,
				days = excluded.days, store_days = excluded.store_days, ec_days = excluded.ec_days,
				store_sales = excluded.store_sales, ec_orders = excluded.ec_orders, ltv_yen = excluded.ltv_yen,
				last_store_at = excluded.last_store_at, last_ec_at = excluded.last_ec_at
		),
		delta as (
			select day, gap, store_id, sum(n)::int as n
			from (${gapsOf(sql`old`, -1)} union all ${gapsOf(sql`fresh`, 1)}) g
			group by 1, 2, 3 having sum(n) <> 0
		)
		insert into report_purchase_gaps (day, gap, store_id, n) select day, gap, store_id, n from delta
		on conflict (day, gap, store_id) do update set n = report_purchase_gaps.n + excluded.n`.execute(trx);
}

// ---------------------------------------------------------------- reads

/** A range's JST dates: first day and the day after the last (both midnights). */
function daysOf(range: Range): { from: RawBuilder<unknown>; until: RawBuilder<unknown> } {
	return { from: sql`${jstDate(range.start)}::date`, until: sql`${jstDate(range.end)}::date` };
}

/** Last purchase day before midnight `t` from a sorted array, reading the array only when needed. */
function lastBefore(last: string, days: string, t: RawBuilder<unknown>): RawBuilder<unknown> {
	return sql`case when ${sql.ref(last)} < ${t} then ${sql.ref(last)} else ${sql.ref(days)}[width_bucket(${t} - 1, ${sql.ref(days)})] end`;
}

/** customers.state.ts at midnight `t` as a state index (CUSTOMER_STATES order); see raw `stateAt`. */
function stateCodeAt(t: RawBuilder<unknown>, last: RawBuilder<unknown>, dormantDays: number): RawBuilder<unknown> {
	const code = (s: CustomerState) => sql.lit(CUSTOMER_STATES.indexOf(s));
	return sql`case
		when f.first_day is null or f.first_day >= ${t} then ${code('none')}
		when ${last} < ${t} - ${dormantDays}::int then ${code('dormant')}
		when f.first_store_day < ${t} and f.first_ec_day < ${t} then ${code('cross_channel')}
		when f.second_day is null or f.second_day >= ${t} then ${code('first_purchase_only')}
		when f.first_store_day < ${t} then ${code('store_only')}
		else ${code('ec_only')} end`;
}

/** The transition matrix and every count-based KPI of the period, as `customerKpiCells` returns them. */
export async function kpiCells(db: DbOrTrx, range: Range, storeId: string | undefined, dormantDays: number): Promise<KpiCell[]> {
	const { from: S, until: E } = daysOf(range);
	const inStore = storeId ? sql`and f.home_store_id = ${storeId}` : sql``;
	const { rows } = await sql<Omit<KpiCell, 'stateAtStart' | 'stateAtEnd'> & { a: number; b: number }>`
		select ${stateCodeAt(S, sql`f.s_last`, dormantDays)} as a, ${stateCodeAt(E, sql`f.e_last`, dormantDays)} as b,
			count(*)::int8 as customers,
			count(*) filter (where f.first_day >= ${S} and f.first_day < ${E})::int8 as "firstInPeriod",
			count(*) filter (where f.first_day >= ${S} and f.second_day < ${E})::int8 as "secondInPeriod",
			count(*) filter (where f.e_last >= ${S})::int8 as purchasers,
			count(*) filter (where f.e_store_last >= ${S} and f.e_ec_last >= ${S})::int8 as "crossChannel"
		from (
			select f.first_day, f.second_day, f.first_store_day, f.first_ec_day,
				${lastBefore('f.last_day', 'f.days', S)} as s_last,
				${lastBefore('f.last_day', 'f.days', E)} as e_last,
				${lastBefore('f.last_store_day', 'f.store_days', E)} as e_store_last,
				${lastBefore('f.last_ec_day', 'f.ec_days', E)} as e_ec_last
			from report_customer_facts f
			where (f.first_day < ${E} or f.created_at < ${range.end.toISOString()}::timestamptz) ${inStore}
		) f
		group by 1, 2`.execute(db);
	return rows.map(({ a, b, ...counts }) => ({ stateAtStart: CUSTOMER_STATES[a], stateAtEnd: CUSTOMER_STATES[b], ...counts }));
}

/** Median and count of the gaps (JST days) between consecutive purchase days inside the period. */
export async function purchaseIntervals(db: DbOrTrx, range: Range, storeId: string | undefined) {
	const { from: S, until: E } = daysOf(range);
	const inStore = storeId ? sql`and g.store_id = ${storeId}` : sql``;
	const { rows } = await sql<{ gap: number; n: number }>`
		select g.gap, sum(g.n)::int8 as n
		from report_purchase_gaps g
		where g.day >= ${S} and g.day < ${E} and g.day - g.gap >= ${S} ${inStore}
		group by g.gap having sum(g.n) > 0
		order by g.gap`.execute(db);
	return { median: medianOfHistogram(rows), gaps: rows.reduce((sum, r) => sum + r.n, 0) };
}

/** percentile_cont(0.5) of a multiset given as (value, count) sorted by value. */
export function medianOfHistogram(rows: Array<{ gap: number; n: number }>): number | null {
	const total = rows.reduce((sum, r) => sum + r.n, 0);
	if (total === 0) return null;
	const position = (total - 1) / 2;
	const valueAt = (index: number) => {
		let seen = 0;
		for (const r of rows) {
			seen += r.n;
			if (index < seen) return r.gap;
		}
		return rows[rows.length - 1].gap;
	};
	const low = valueAt(Math.floor(position));
	const high = valueAt(Math.ceil(position));
	return low + (high - low) * (position - Math.floor(position));
}
