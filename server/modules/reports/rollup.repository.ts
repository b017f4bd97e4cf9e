/**
 * The daily report rollups: refresh (dirty JST days only) and reads.
 *
 * A day is dirty for sales when an attribution of that order day changed (updated_at), and
 * for the funnel when one of its follow-ups was created / sent, is still pending (queued or
 * sending: it will settle later), got a click, or an attribution pointing at it changed.
 * A report request looks at changes since the last refresh only (cheap); the background
 * worker also looks back a margin, so a transaction that committed late with an earlier
 * timestamp (or click id) is picked up within a minute. Rebuilding a day is idempotent.
 */
import { sql } from 'kysely';
import type { DbOrTrx, Trx } from '../../db/index.ts';
import type { Range, Scope, SalesTotals } from './reports.repository.ts';
import { jstDate, type Bucket } from './period.ts';

const STATE = 'daily';
const LOOK_BACK_MS = 10 * 60_000;
/** Clicks are append-only with an identity id; ids are handed out before commit, so the worker looks back a little. */
const CLICK_ID_LOOK_BACK = 1_000;
export const JST_DAY = (col: string) => sql`(${sql.ref(col)} at time zone 'Asia/Tokyo')::date`;
const dayStart = sql`(d.day::timestamp at time zone 'Asia/Tokyo')`;
const dayEnd = sql`((d.day + 1)::timestamp at time zone 'Asia/Tokyo')`;

interface RefreshState {
	refreshed_until: Date;
	last_click_id: number;
}

/**
 * Brings both rollups up to date; serialised by an advisory lock so two refreshers never interleave.
 * `full` rebuilds every day: for writers of back-dated history (the demo seed), whose rows carry
 * past timestamps that a refresh already run by the worker would never see as changed.
 */
export async function refreshRollups(trx: Trx, options: { lookBack?: boolean; full?: boolean } = {}): Promise<{ salesDays: number; funnelDays: number }> {
	await sql`select pg_advisory_xact_lock(hashtext('tsunagu.report_rollups'))`.execute(trx);
	const { rows: clock } = await sql<{ now: Date; max_click: number }>`
		select clock_timestamp() as now, coalesce((select max(id) from link_clicks), 0)::int8 as max_click`.execute(trx);
	const { now, max_click: maxClick } = clock[0];
	const found = options.full
		? undefined
		: (await sql<RefreshState>`select refreshed_until, last_click_id from report_rollup_state where name = ${STATE}`.execute(trx)).rows[0];
	const state = found && options.lookBack
		? { refreshed_until: new Date(found.refreshed_until.getTime() - LOOK_BACK_MS), last_click_id: found.last_click_id - CLICK_ID_LOOK_BACK }
		: found;

	const salesDays = state ? await dirtySalesDays(trx, state) : await allDays(trx, sql`select ordered_at as at from attributions`);
	const funnelDays = state ? await dirtyFunnelDays(trx, state) : await allDays(trx, sql`select created_at as at from follow_ups`);
	if (salesDays.length > 0) await rebuildSalesDays(trx, salesDays);
	if (funnelDays.length > 0) await rebuildFunnelDays(trx, funnelDays);
	await sql`
		insert into report_rollup_state (name, refreshed_until, last_click_id) values (${STATE}, ${now}, ${maxClick})
		on conflict (name) do update set refreshed_until = excluded.refreshed_until, last_click_id = excluded.last_click_id`.execute(trx);
	return { salesDays: salesDays.length, funnelDays: funnelDays.length };
}

async function allDays(trx: Trx, source: ReturnType<typeof sql>): Promise<string[]> {
	const { rows } = await sql<{ day: string }>`select distinct ${JST_DAY('s.at')}::text as day from (${source}) s`.execute(trx);
	return rows.map((r) => r.day);
}

async function dirtySalesDays(trx: Trx, state: RefreshState): Promise<string[]> {
	const { rows } = await sql<{ day: string }>`
		select distinct ${JST_DAY('a.ordered_at')}::text as day
		from attributions a where a.updated_at >= ${state.refreshed_until}::timestamptz`.execute(trx);
	return rows.map((r) => r.day);
}

async function dirtyFunnelDays(trx: Trx, state: RefreshState): Promise<string[]> {
	const since = sql`${state.refreshed_until}::timestamptz`;
	const { rows } = await sql<{ day: string }>`
		select ${JST_DAY('f.created_at')}::text as day from follow_ups f where f.created_at >= ${since}
		union select ${JST_DAY('f.created_at')}::text from follow_ups f where f.sent_at >= ${since}
		union select ${JST_DAY('f.created_at')}::text from follow_ups f where f.status in ('queued', 'sending')
		union select day::text from report_daily_followups where pending > 0
		union select ${JST_DAY('f.created_at')}::text
			from link_clicks lc join tracked_links tl on tl.code = lc.code join follow_ups f on f.id = tl.follow_up_id
			where lc.id > ${state.last_click_id}
		union select ${JST_DAY('f.created_at')}::text
			from attributions a join follow_ups f on f.id = a.follow_up_id
			where a.updated_at >= ${since}`.execute(trx);
	return rows.map((r) => r.day);
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
