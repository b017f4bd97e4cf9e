/**
 * Reference report queries: straight over the raw rows (attributions, follow-ups, clicks,
 * purchases). The server reads rollups and per-customer facts instead; these stay as the
 * reference the tests compare them with (reports-rollup, reports-kpi-facts, seed).
 * Moved here from server/modules/reports/reports.repository.ts: no server code calls them.
 */
import { sql, type RawBuilder } from 'kysely';
import type { DbOrTrx } from '../../server/db/index.ts';
import type { Bucket } from '../../server/modules/reports/period.ts';
import { attributionScope, type KpiCell, type Range, type SalesGroupRow, type SalesTotals, type Scope } from '../../server/modules/reports/reports.repository.ts';
import type { FunnelSums } from '../../server/modules/reports/rollup.repository.ts';

export * from '../../server/modules/reports/reports.repository.ts';

const ts = (at: Date) => sql`${at.toISOString()}::timestamptz`;

const SUMS = sql`count(*)::int8 as orders, coalesce(sum(a.gross_yen), 0)::int8 as "grossYen", coalesce(sum(a.refunded_yen), 0)::int8 as "refundedYen"`;

/** Active attributions of the period grouped by staff member. */
export async function salesByStaff(db: DbOrTrx, range: Range, scope: Scope): Promise<SalesGroupRow[]> {
	const { rows } = await sql<SalesGroupRow>`
		select s.id::text as key, s.display_name as label, s.display_name as "labelEn", s.home_store_id as "storeId",
			s.staff_code as "staffCode", g.orders, g."grossYen", g."refundedYen"
		from (
			select a.staff_id, ${SUMS}
			from attributions a
			where a.status = 'active' and a.ordered_at >= ${ts(range.start)} and a.ordered_at < ${ts(range.end)}
				and ${attributionScope(scope)}
			group by a.staff_id
		) g
		join staff s on s.id = g.staff_id
	`.execute(db);
	return rows;
}

export async function salesByStore(db: DbOrTrx, range: Range, scope: Scope): Promise<SalesGroupRow[]> {
	const { rows } = await sql<SalesGroupRow>`
		select st.id as key, st.name as label, st.name_en as "labelEn", st.id as "storeId", null as "staffCode",
			g.orders, g."grossYen", g."refundedYen"
		from (
			select a.store_id, ${SUMS}
			from attributions a
			where a.status = 'active' and a.ordered_at >= ${ts(range.start)} and a.ordered_at < ${ts(range.end)}
				and ${attributionScope(scope)}
			group by a.store_id
		) g
		join stores st on st.id = g.store_id
	`.execute(db);
	return rows;
}

/** Sums per JST day / ISO week (Monday) / month; buckets without orders are absent. */
export async function salesByTime(db: DbOrTrx, range: Range, scope: Scope, bucket: Bucket) {
	// the unit is a whitelisted literal: a bound parameter would differ between select and group by
	const unit = sql.lit(bucket);
	const { rows } = await sql<SalesTotals & { key: string }>`
		select to_char(date_trunc(${unit}, a.ordered_at at time zone 'Asia/Tokyo'), 'YYYY-MM-DD') as key, ${SUMS}
		from attributions a
		where a.status = 'active' and a.ordered_at >= ${ts(range.start)} and a.ordered_at < ${ts(range.end)}
			and ${attributionScope(scope)}
		group by 1
		order by 1
	`.execute(db);
	return rows;
}

/**
 * The follow-ups created in the period (the cohort) and what became of them, whenever it
 * happened: sent / failed, followed by ≥ 1 click, led to ≥ 1 active attributed order.
 * Rows have the rollup's shape, so tests compare the two directly.
 */
export async function funnel(db: DbOrTrx, range: Range, scope: Scope, groupBy: 'staff' | 'store' | 'total'): Promise<FunnelSums[]> {
	const key =
		groupBy === 'staff' ? sql`f.staff_id::text` : groupBy === 'store' ? sql`f.store_id` : sql`'total'::text`;
	const label =
		groupBy === 'staff'
			? sql`(select display_name from staff where id = g.key::uuid)`
			: groupBy === 'store'
				? sql`(select name from stores where id = g.key)`
				: sql`'total'`;
	const labelEn =
		groupBy === 'staff'
			? sql`(select display_name from staff where id = g.key::uuid)`
			: groupBy === 'store'
				? sql`(select name_en from stores where id = g.key)`
				: sql`'total'`;
	const { rows } = await sql<FunnelSums>`
		with f as (
			select f.id, f.staff_id, f.store_id, f.status
			from follow_ups f
			where f.created_at >= ${ts(range.start)} and f.created_at < ${ts(range.end)} and ${attributionScope(scope, 'f')}
		),
		clicked as (
			select distinct tl.follow_up_id as id
			from tracked_links tl
			where tl.follow_up_id in (select id from f)
				and exists (select 1 from link_clicks lc where lc.code = tl.code)
		),
		ordered as (
			select a.follow_up_id as id, count(*) as orders, sum(a.gross_yen) as gross, sum(a.refunded_yen) as refunded
			from attributions a
			where a.status = 'active' and a.follow_up_id in (select id from f)
			group by a.follow_up_id
		),
		g as (
			select ${key} as key,
				count(*)::int8 as created,
				count(*) filter (where f.status = 'sent')::int8 as sent,
				count(*) filter (where f.status = 'failed')::int8 as failed,
				count(c.id)::int8 as clicked,
				count(o.id)::int8 as ordered,
				coalesce(sum(o.orders), 0)::int8 as orders,
				coalesce(sum(o.gross), 0)::int8 as "grossYen",
				coalesce(sum(o.refunded), 0)::int8 as "refundedYen"
			from f
			left join clicked c on c.id = f.id
			left join ordered o on o.id = f.id
			group by 1
		)
		select g.*, ${label} as label, ${labelEn} as "labelEn" from g
	`.execute(db);
	return rows;
}

/**
 * Purchases (store receipts of kind 'sale', EC orders not cancelled) before an instant,
 * optionally for the customers of one home store: the input of every customer KPI.
 */
function purchasesBefore(end: Date, storeId: string | undefined): RawBuilder<unknown> {
	const inStore = storeId
		? sql`and p.customer_id in (select id from customers where home_store_id = ${storeId})`
		: sql``;
	return sql`
		select p.customer_id as cid, p.purchased_at as at, 's' as ch
		from store_purchases p
		where p.kind = 'sale' and p.customer_id is not null and p.purchased_at < ${ts(end)} ${inStore}
		union all
		select p.customer_id, p.ordered_at, 'e'
		from ec_orders p
		where p.status <> 'cancelled' and p.customer_id is not null and p.ordered_at < ${ts(end)} ${inStore}
	`;
}

/** The customer state of customers.state.ts as SQL, as of instant `at`, from counts and the last purchase. */
function stateAt(store: RawBuilder<unknown>, ec: RawBuilder<unknown>, last: RawBuilder<unknown>, at: Date, dormantDays: number) {
	return sql`case
		when coalesce(${store}, 0) + coalesce(${ec}, 0) = 0 or ${last} is null then 'none'
		when ${last} < ${ts(at)} - make_interval(days => ${dormantDays}::int) then 'dormant'
		when ${store} > 0 and ${ec} > 0 then 'cross_channel'
		when ${store} + ${ec} = 1 then 'first_purchase_only'
		when ${store} > 0 then 'store_only'
		else 'ec_only' end`;
}

/**
 * One pass over purchases before the period end, one row per customer, then grouped by
 * (state at start, state at end): the transition matrix and every count-based KPI at once.
 * The reference for the per-customer facts (customer-facts.repository.ts) that the KPI
 * report reads: tests compare the two.
 */
export async function customerKpiCells(db: DbOrTrx, range: Range, storeId: string | undefined, dormantDays: number): Promise<KpiCell[]> {
	const S = ts(range.start);
	const per = sql`
		select cid,
			count(*) filter (where at < ${S} and ch = 's') as s_store,
			count(*) filter (where at < ${S} and ch = 'e') as s_ec,
			max(at) filter (where at < ${S}) as s_last,
			count(*) filter (where ch = 's') as e_store,
			count(*) filter (where ch = 'e') as e_ec,
			max(at) as e_last,
			min(at) as first_at,
			count(*) filter (where at >= ${S}) as n_in,
			bool_or(ch = 's' and at >= ${S}) as store_in,
			bool_or(ch = 'e' and at >= ${S}) as ec_in
		from (${purchasesBefore(range.end, storeId)}) p
		group by cid`;
	const startState = stateAt(sql`c.s_store`, sql`c.s_ec`, sql`c.s_last`, range.start, dormantDays);
	const endState = stateAt(sql`c.e_store`, sql`c.e_ec`, sql`c.e_last`, range.end, dormantDays);
	const inStore = storeId ? sql`and cu.home_store_id = ${storeId}` : sql``;
	const { rows } = await sql<KpiCell>`
		with c as (${per})
		select ${startState} as "stateAtStart", ${endState} as "stateAtEnd",
			count(*)::int8 as customers,
			count(*) filter (where c.first_at >= ${S})::int8 as "firstInPeriod",
			count(*) filter (where c.first_at >= ${S} and c.e_store + c.e_ec >= 2)::int8 as "secondInPeriod",
			count(*) filter (where c.n_in > 0)::int8 as purchasers,
			count(*) filter (where c.store_in and c.ec_in)::int8 as "crossChannel"
		from customers cu
		left join c on c.cid = cu.id
		where cu.merged_into is null and (c.cid is not null or cu.created_at < ${ts(range.end)}) ${inStore}
		group by 1, 2
	`.execute(db);
	return rows;
}

/**
 * Median and count of the gaps in JST days between a customer's consecutive purchase days in
 * the period; customers merged away are left out, as in the other KPIs.
 */
export async function purchaseIntervals(db: DbOrTrx, range: Range, storeId: string | undefined) {
	const { rows } = await sql<{ median: number | null; gaps: number }>`
		-- no DISTINCT: with days in order, dropping the zero gaps of same-day purchases leaves
		-- exactly the gaps between distinct purchase days (one sort instead of a hash + a sort)
		with d as (
			select cid, (at at time zone 'Asia/Tokyo')::date as day
			from (${purchasesBefore(range.end, storeId)}) p
			where at >= ${ts(range.start)} and cid in (select id from customers where merged_into is null)
		),
		g as (select day - lag(day) over (partition by cid order by day) as gap from d)
		select percentile_cont(0.5) within group (order by gap) as median, count(gap)::int8 as gaps
		from g where gap > 0
	`.execute(db);
	return rows[0] ?? { median: null, gaps: 0 };
}

export async function storeExists(db: DbOrTrx, storeId: string): Promise<boolean> {
	return (await db.selectFrom('stores').select('id').where('id', '=', storeId).executeTakeFirst()) !== undefined;
}

