/**
 * The daily report rollups: refresh (dirty JST days only) and reads.
 *
 * Every write that can change a rollup row leaves a marker in report_rollup_dirty from a
 * trigger, in its own transaction (migration 2026-12-04T1200): the sales day of a changed
 * attribution, the funnel day of a changed follow-up, the follow-up of a changed attribution
 * or tracked link, the link of a new click. A refresh takes the lock, deletes the markers it
 * sees and rebuilds the days they name from the raw rows; a marker it cannot see yet belongs to
 * a transaction that has not committed, and stays for the next refresh. So once a write has
 * committed, a refresh that starts afterwards includes it (docs/report-freshness.md).
 * Rebuilding a day is idempotent.
 */
import { sql } from 'kysely';
import type { DbOrTrx, Trx } from '../../db/index.ts';
import type { Range, Scope, SalesTotals } from './reports.repository.ts';
import { jstDate, type Bucket } from './period.ts';

const STATE = 'daily';
export const JST_DAY = (col: string) => sql`(${sql.ref(col)} at time zone 'Asia/Tokyo')::date`;
const dayStart = sql`(d.day::timestamp at time zone 'Asia/Tokyo')`;
const dayEnd = sql`((d.day + 1)::timestamp at time zone 'Asia/Tokyo')`;

/**
 * Takes the refresh lock (held until the transaction ends). Each later statement of a READ
 * COMMITTED transaction sees everything committed before it started, so the markers the
 * refresh takes after the lock include every write committed before the refresh began; under
 * REPEATABLE READ the snapshot would date from before the wait for the lock: refused.
 * JIT is off for the refresh: a day's rebuild is estimated at tens of thousands of rows (the
 * day comes as a parameter) and JIT compiling it took seconds for a few hundred rows.
 */
export async function lockForRefresh(trx: Trx, lock: string): Promise<void> {
	const { rows } = await sql<{ isolation: string }>`
		select pg_advisory_xact_lock(hashtext(${lock})), current_setting('transaction_isolation') as isolation,
			set_config('jit', 'off', true)`.execute(trx);
	if (rows[0].isolation !== 'read committed') throw new Error(`${lock}: a refresh needs a READ COMMITTED transaction, not ${rows[0].isolation}`);
}

/**
 * True when the rollups already include every change committed before this call: built, and
 * no marker visible. A refresh in progress has not committed the deletion of the markers it
 * took, so they are still visible here; once it commits, its rebuilt days are too.
 */
export async function rollupsAreFresh(db: DbOrTrx): Promise<boolean> {
	const { rows } = await sql<{ fresh: boolean }>`
		select not exists (select 1 from report_rollup_dirty)
			and exists (select 1 from report_rollup_state where name = ${STATE}) as fresh`.execute(db);
	return rows[0].fresh;
}

/**
 * Brings both rollups up to date with every change committed before it started; serialised by
 * an advisory lock so two refreshers never interleave. `full` rebuilds every day (the first
 * build does too): for a database whose rollups may be stale for other reasons.
 */
export async function refreshRollups(trx: Trx, options: { full?: boolean } = {}): Promise<{ salesDays: number; funnelDays: number }> {
	await lockForRefresh(trx, 'tsunagu.report_rollups');
	const built = !options.full && (await sql`select 1 from report_rollup_state where name = ${STATE}`.execute(trx)).rows.length > 0;
	const dirty = await takeDirtyDays(trx);
	const salesDays = built
		? dirty.sales
		: await allDays(trx, sql`select ordered_at as at from attributions`, sql`select day from report_daily_staff_sales`);
	const funnelDays = built
		? dirty.funnel
		: await allDays(trx, sql`select created_at as at from follow_ups`, sql`select day from report_daily_followups`);
	if (salesDays.length > 0) await rebuildSalesDays(trx, salesDays);
	if (funnelDays.length > 0) await rebuildFunnelDays(trx, funnelDays);
	await sql`
		insert into report_rollup_state (name, refreshed_until) values (${STATE}, clock_timestamp())
		on conflict (name) do update set refreshed_until = excluded.refreshed_until`.execute(trx);
	return { salesDays: salesDays.length, funnelDays: funnelDays.length };
}

/** Every day with raw rows, and every day the rollup has a row for (it may have none left). */
async function allDays(trx: Trx, source: ReturnType<typeof sql>, rolledUp: ReturnType<typeof sql>): Promise<string[]> {
	const { rows } = await sql<{ day: string }>`
		select ${JST_DAY('s.at')}::text as day from (${source}) s
		union select r.day::text from (${rolledUp}) r`.execute(trx);
	return rows.map((r) => r.day);
}

/**
 * Deletes the visible markers and returns the days they name, in one statement (one
 * snapshot): follow-ups and links are turned into the follow-ups' funnel days as they are now;
 * a later change to a follow-up's day or a link's follow-up leaves markers of its own.
 */
async function takeDirtyDays(trx: Trx): Promise<{ sales: string[]; funnel: string[] }> {
	const { rows } = await sql<{ rollup: 'sales' | 'funnel'; day: string }>`
		with taken as (delete from report_rollup_dirty returning sales_day, funnel_day, follow_up_id, link_code),
		follow_up as (
			select follow_up_id as id from taken where follow_up_id is not null
			union
			select tl.follow_up_id from tracked_links tl
			where tl.code in (select link_code from taken where link_code is not null) and tl.follow_up_id is not null
		)
		select 'sales' as rollup, sales_day::text as day from taken where sales_day is not null
		union select 'funnel', funnel_day::text from taken where funnel_day is not null
		union select 'funnel', ${JST_DAY('f.created_at')}::text from follow_ups f where f.id in (select id from follow_up)`.execute(trx);
	return {
		sales: rows.filter((r) => r.rollup === 'sales').map((r) => r.day),
		funnel: rows.filter((r) => r.rollup === 'funnel').map((r) => r.day)
	};
}

async function rebuildSalesDays(trx: Trx, days: string[]): Promise<void> {
	await sql`delete from report_daily_staff_sales where day = any(${days}::date[])`.execute(trx);
	await sql`
		insert into report_daily_staff_sales (day, staff_id, store_id, orders, gross_yen, refunded_yen)
		select d.day, a.staff_id, a.store_id, count(*), sum(a.gross_yen), sum(a.refunded_yen)
		from unnest(${days}::date[]) d(day)
		join attributions a on a.ordered_at >= ${dayStart} and a.ordered_at < ${dayEnd}
		where a.status = 'active'
		group by d.day, a.staff_id, a.store_id`.execute(trx);
}

async function rebuildFunnelDays(trx: Trx, days: string[]): Promise<void> {
	await sql`delete from report_daily_followups where day = any(${days}::date[])`.execute(trx);
	await sql`
		insert into report_daily_followups (day, staff_id, store_id, created, sent, failed, pending, clicked, ordered, orders, gross_yen, refunded_yen)
		select d.day, f.staff_id, f.store_id,
			count(*),
			count(*) filter (where f.status = 'sent'),
			count(*) filter (where f.status = 'failed'),
			count(*) filter (where f.status in ('queued', 'sending')),
			count(*) filter (where exists (
				select 1 from tracked_links tl join link_clicks lc on lc.code = tl.code where tl.follow_up_id = f.id)),
			count(o.orders),
			coalesce(sum(o.orders), 0),
			coalesce(sum(o.gross), 0),
			coalesce(sum(o.refunded), 0)
		from unnest(${days}::date[]) d(day)
		join follow_ups f on f.created_at >= ${dayStart} and f.created_at < ${dayEnd}
		left join lateral (
			select count(*) as orders, sum(a.gross_yen) as gross, sum(a.refunded_yen) as refunded
			from attributions a where a.follow_up_id = f.id and a.status = 'active'
			having count(*) > 0
		) o on true
		group by d.day, f.staff_id, f.store_id`.execute(trx);
}

// ---------------------------------------------------------------- reads

/** Rollup rows of a JST date range [from, to] inclusive. */
function rollupScope(scope: Scope) {
	const parts = [sql`true`];
	if (scope.storeId) parts.push(sql`r.store_id = ${scope.storeId}`);
	if (scope.staffId) parts.push(sql`r.staff_id = ${scope.staffId}::uuid`);
	return sql.join(parts, sql` and `);
}

const SALES_SUMS = sql`sum(r.orders)::int8 as orders, sum(r.gross_yen)::int8 as "grossYen", sum(r.refunded_yen)::int8 as "refundedYen"`;
const days = (range: DayRange) => sql`r.day between ${range.from}::date and ${range.to}::date`;

export interface DayRange {
	from: string;
	to: string;
}

export async function salesByStaff(db: DbOrTrx, range: DayRange, scope: Scope) {
	const { rows } = await sql<SalesTotals & { key: string; label: string; labelEn: string; storeId: string | null; staffCode: string | null }>`
		select s.id::text as key, s.display_name as label, s.display_name as "labelEn", s.home_store_id as "storeId",
			s.staff_code as "staffCode", g.orders, g."grossYen", g."refundedYen"
		from (select r.staff_id, ${SALES_SUMS} from report_daily_staff_sales r where ${days(range)} and ${rollupScope(scope)} group by r.staff_id) g
		join staff s on s.id = g.staff_id`.execute(db);
	return rows;
}

export async function salesByStore(db: DbOrTrx, range: DayRange, scope: Scope) {
	const { rows } = await sql<SalesTotals & { key: string; label: string; labelEn: string; storeId: string | null; staffCode: string | null }>`
		select st.id as key, st.name as label, st.name_en as "labelEn", st.id as "storeId", null as "staffCode",
			g.orders, g."grossYen", g."refundedYen"
		from (select r.store_id, ${SALES_SUMS} from report_daily_staff_sales r where ${days(range)} and ${rollupScope(scope)} group by r.store_id) g
		join stores st on st.id = g.store_id`.execute(db);
	return rows;
}

export async function salesByTime(db: DbOrTrx, range: DayRange, scope: Scope, bucket: Bucket) {
	const unit = sql.lit(bucket);
	const { rows } = await sql<SalesTotals & { key: string }>`
		select to_char(date_trunc(${unit}, r.day), 'YYYY-MM-DD') as key, ${SALES_SUMS}
		from report_daily_staff_sales r
		where ${days(range)} and ${rollupScope(scope)}
		group by 1 order by 1`.execute(db);
	return rows;
}

export interface FunnelSums {
	key: string;
	label: string;
	labelEn: string;
	created: number;
	sent: number;
	failed: number;
	clicked: number;
	ordered: number;
	orders: number;
	grossYen: number;
	refundedYen: number;
}

export async function funnel(db: DbOrTrx, range: DayRange, scope: Scope, groupBy: 'staff' | 'store' | 'total'): Promise<FunnelSums[]> {
	const key = groupBy === 'staff' ? sql`r.staff_id::text` : groupBy === 'store' ? sql`r.store_id` : sql`'total'::text`;
	const label =
		groupBy === 'staff' ? sql`(select display_name from staff where id = g.key::uuid)` : groupBy === 'store' ? sql`(select name from stores where id = g.key)` : sql`'total'`;
	const labelEn =
		groupBy === 'staff' ? sql`(select display_name from staff where id = g.key::uuid)` : groupBy === 'store' ? sql`(select name_en from stores where id = g.key)` : sql`'total'`;
	const { rows } = await sql<FunnelSums>`
		with g as (
			select ${key} as key, sum(r.created)::int8 as created, sum(r.sent)::int8 as sent, sum(r.failed)::int8 as failed,
				sum(r.clicked)::int8 as clicked, sum(r.ordered)::int8 as ordered, sum(r.orders)::int8 as orders,
				sum(r.gross_yen)::int8 as "grossYen", sum(r.refunded_yen)::int8 as "refundedYen"
			from report_daily_followups r
			where ${days(range)} and ${rollupScope(scope)}
			group by 1
		)
		select g.*, ${label} as label, ${labelEn} as "labelEn" from g`.execute(db);
	return rows;
}

/** The rollup's version of a range given as instants (reports use JST dates; tests compare both). */
export function dayRangeOf(range: Range): DayRange {
	return { from: jstDate(range.start), to: jstDate(new Date(range.end.getTime() - 1)) };
}
