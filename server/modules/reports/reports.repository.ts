/**
 * Report queries (Kysely / SQL only). Every query takes a half-open period [start, end) of
 * instants and an optional store/staff scope the service has already checked. Day, week and
 * month buckets are JST calendar buckets (`at time zone 'Asia/Tokyo'`).
 */
import { sql, type RawBuilder } from 'kysely';
import type { DbOrTrx } from '../../db/index.ts';
import type { CustomerState } from '../customers/state.ts';

export interface Scope {
	storeId?: string;
	staffId?: string;
}

export interface Range {
	start: Date;
	end: Date;
}

const ts = (at: Date) => sql`${at.toISOString()}::timestamptz`;

export function attributionScope(scope: Scope, alias = 'a'): RawBuilder<unknown> {
	const parts = [sql`true`];
	if (scope.storeId) parts.push(sql`${sql.ref(`${alias}.store_id`)} = ${scope.storeId}`);
	if (scope.staffId) parts.push(sql`${sql.ref(`${alias}.staff_id`)} = ${scope.staffId}::uuid`);
	return sql.join(parts, sql` and `);
}

export interface SalesTotals {
	orders: number;
	grossYen: number;
	refundedYen: number;
}

export interface SalesGroupRow extends SalesTotals {
	key: string;
	label: string;
	labelEn: string;
	storeId: string | null;
	staffCode: string | null;
}

export interface AttributedOrderRow {
	platform: string;
	ecOrderId: string;
	orderName: string | null;
	orderedAt: Date;
	staffId: string;
	staffName: string | null;
	staffCode: string | null;
	storeId: string;
	storeName: string | null;
	rule: 'ref' | 'last_touch';
	linkCode: string | null;
	clickId: string | null;
	clickedAt: Date | null;
	followUpId: string | null;
	followUpExcerpt: string | null;
	followUpSentAt: Date | null;
	grossYen: number;
	refundedYen: number;
}

/** The orders behind a staff member's figures, newest first, with the click and message that led to each. */
export async function attributedOrders(db: DbOrTrx, range: Range, scope: Scope, limit: number): Promise<AttributedOrderRow[]> {
	const { rows } = await sql<AttributedOrderRow>`
		select a.platform, a.ec_order_id as "ecOrderId", o.order_name as "orderName", a.ordered_at as "orderedAt",
			a.staff_id::text as "staffId", sf.display_name as "staffName", sf.staff_code as "staffCode",
			a.store_id as "storeId", st.name as "storeName", a.rule, a.link_code as "linkCode", a.click_id as "clickId",
			lc.clicked_at as "clickedAt", a.follow_up_id::text as "followUpId", left(f.body, 60) as "followUpExcerpt",
			f.sent_at as "followUpSentAt", a.gross_yen as "grossYen", a.refunded_yen as "refundedYen"
		from attributions a
		left join ec_orders o on o.platform = a.platform and o.ec_order_id = a.ec_order_id
		left join link_clicks lc on lc.click_id = a.click_id
		left join follow_ups f on f.id = a.follow_up_id
		left join staff sf on sf.id = a.staff_id
		left join stores st on st.id = a.store_id
		where a.status = 'active' and a.ordered_at >= ${ts(range.start)} and a.ordered_at < ${ts(range.end)}
			and ${attributionScope(scope)}
		order by a.ordered_at desc, a.id desc
		limit ${limit}
	`.execute(db);
	return rows;
}

/** Clicks in the period on a staff member's tracked links (the "me" page). */
export async function clicksOfStaff(db: DbOrTrx, range: Range, staffId: string): Promise<number> {
	const { rows } = await sql<{ n: number }>`
		select count(*)::int8 as n
		from link_clicks lc
		join tracked_links tl on tl.code = lc.code
		where tl.staff_id = ${staffId}::uuid and lc.clicked_at >= ${ts(range.start)} and lc.clicked_at < ${ts(range.end)}
	`.execute(db);
	return rows[0]?.n ?? 0;
}

export interface KpiCell {
	stateAtStart: CustomerState;
	stateAtEnd: CustomerState;
	customers: number;
	/** First purchase ever fell in the period. */
	firstInPeriod: number;
	/** …and a second purchase followed before the period ended. */
	secondInPeriod: number;
	/** Bought at least once in the period. */
	purchasers: number;
	/** Bought in the store and on EC in the period. */
	crossChannel: number;
}

/** Active staff in a report's scope (home store / the one staff member): the leaderboard's ¥0 rows. */
export async function activeStaffInScope(db: DbOrTrx, scope: Scope) {
	let q = db
		.selectFrom('staff')
		.select(['id', 'display_name', 'home_store_id', 'staff_code'])
		.where('active', '=', true);
	if (scope.storeId) q = q.where('home_store_id', '=', scope.storeId);
	if (scope.staffId) q = q.where('id', '=', scope.staffId);
	return q.execute();
}

export async function findStaff(db: DbOrTrx, staffId: string) {
	return db
		.selectFrom('staff')
		.select(['id', 'role', 'home_store_id', 'display_name', 'staff_code'])
		.where('id', '=', staffId)
		.executeTakeFirst();
}

export interface CreditSplitRow {
	staffId: string;
	confirmedOrders: number;
	confirmedNetYen: number;
	pendingOrders: number;
	pendingNetYen: number;
}

/**
 * Active credit per staff member split at the holding period: orders placed before
 * `confirmedBefore` are 確定 (past the return window), later ones 未確定.
 */
export async function creditSplitByStaff(db: DbOrTrx, range: Range, scope: Scope, confirmedBefore: Date): Promise<CreditSplitRow[]> {
	const { rows } = await sql<CreditSplitRow>`
		select a.staff_id::text as "staffId",
			count(*) filter (where a.ordered_at < ${ts(confirmedBefore)})::int as "confirmedOrders",
			coalesce(sum(greatest(0, a.gross_yen - a.refunded_yen)) filter (where a.ordered_at < ${ts(confirmedBefore)}), 0)::int as "confirmedNetYen",
			count(*) filter (where a.ordered_at >= ${ts(confirmedBefore)})::int as "pendingOrders",
			coalesce(sum(greatest(0, a.gross_yen - a.refunded_yen)) filter (where a.ordered_at >= ${ts(confirmedBefore)}), 0)::int as "pendingNetYen"
		from attributions a
		where a.status = 'active' and a.ordered_at >= ${ts(range.start)} and a.ordered_at < ${ts(range.end)}
			and ${attributionScope(scope)}
		group by a.staff_id`.execute(db);
	return rows;
}
