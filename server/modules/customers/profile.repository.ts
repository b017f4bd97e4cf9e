/**
 * Reads behind the staff tablet's customer profile and search. Every query is per customer and
 * walks an index of schema v1 ((customer_id, time desc) on each history table), newest first,
 * with a LIMIT — no scans, whatever the brand's size. Kysely only.
 */
import { escapeLike } from '../../db/like.ts';
import { sql, type ExpressionBuilder } from 'kysely';
import type { Database } from '../../db/types.ts';
import { jsonArrayFrom, jsonObjectFrom } from 'kysely/helpers/postgres';
import type { DbOrTrx } from '../../db/index.ts';

export async function findCustomerForProfile(db: DbOrTrx, customerId: string) {
	return db
		.selectFrom('customers as c')
		.leftJoin('stores as s', 's.id', 'c.home_store_id')
		.select((eb) => [
			'c.id',
			'c.member_no',
			'c.family_name',
			'c.given_name',
			'c.family_kana',
			'c.given_kana',
			'c.birthday',
			'c.birth_month_day',
			'c.phone',
			'c.created_at',
			'c.home_store_id',
			's.name as home_store_name',
			's.name_en as home_store_name_en',
			'c.line_user_id',
			'c.line_friend',
			'c.line_blocked_at',
			'c.consent_messages',
			'c.merged_into',
			// records merged into this one keep their history under their own id
			eb
				.selectFrom('customers as m')
				.select(sql<string[]>`coalesce(array_agg(m.id), '{}')`.as('ids'))
				.whereRef('m.merged_into', '=', 'c.id')
				.as('merged_ids')
		])
		.where('c.id', '=', customerId)
		.executeTakeFirst();
}

export type ProfileCustomerRow = NonNullable<Awaited<ReturnType<typeof findCustomerForProfile>>>;

export async function findCustomerIdByMemberNo(db: DbOrTrx, memberNo: string) {
	return db
		.selectFrom('customers')
		.select(sql<string>`coalesce(merged_into, id)`.as('id'))
		.where('member_no', '=', memberNo)
		.executeTakeFirst();
}

/**
 * A product column of a purchase line as a primary-key lookup: a join would let the planner hash
 * the whole catalog once per receipt, which costs more than the few lines a receipt has.
 */
function productColumn<C extends 'name' | 'category'>(
	eb: ExpressionBuilder<Database & { l: { product_id: number | null } }, 'l'>,
	column: C
) {
	return eb.selectFrom('products as pr').select(`pr.${column}` as `pr.${C}`).whereRef('pr.id', '=', 'l.product_id').as(column);
}

export interface Page {
	limit: number;
	before?: Date;
}

/** Store totals: sales count, LTV net of returns, first/last sale. */
function storeTotalsQuery(db: DbOrTrx, customerIds: string[]) {
	return db
		.selectFrom('store_purchases')
		.select([
			sql<number>`count(*) filter (where kind = 'sale')::int`.as('count'),
			sql<number>`coalesce(sum(total_yen), 0)::bigint`.as('yen'),
			sql<string | null>`max(purchased_at) filter (where kind = 'sale')`.as('last_at'),
			sql<string | null>`min(purchased_at) filter (where kind = 'sale')`.as('first_at')
		])
		.where('customer_id', 'in', customerIds);
}

/** EC totals over open orders, with what was refunded on them. */
function ecTotalsQuery(db: DbOrTrx, customerIds: string[]) {
	return db
		.selectFrom('ec_orders as o')
		.select([
			sql<number>`count(*)::int`.as('count'),
			sql<number>`coalesce(sum(o.total_yen), 0)::bigint`.as('yen'),
			sql<string | null>`max(o.ordered_at)`.as('last_at'),
			sql<string | null>`min(o.ordered_at)`.as('first_at'),
			sql<number>`coalesce(sum((select coalesce(sum(r.amount_yen), 0) from ec_refunds r
				where r.platform = o.platform and r.ec_order_id = o.ec_order_id)), 0)::bigint`.as('refunded')
		])
		.where('o.customer_id', 'in', customerIds)
		.where('o.status', '=', 'open');
}

function storePurchasesQuery(db: DbOrTrx, customerIds: string[], page: Page) {
	let q = db
		.selectFrom('store_purchases as p')
		.innerJoin('stores as s', 's.id', 'p.store_id')
		.leftJoin('staff as st', 'st.id', 'p.staff_id')
		.select((eb) => [
			'p.id',
			'p.purchased_at',
			'p.total_yen',
			'p.kind',
			's.name as store_name',
			'st.display_name as staff_name',
			jsonArrayFrom(
				eb
					.selectFrom('store_purchase_lines as l')
					.select((lb) => ['l.product_id', 'l.sku', 'l.quantity', productColumn(lb, 'name'), productColumn(lb, 'category')])
					.whereRef('l.purchase_id', '=', 'p.id')
					.orderBy('l.line_no')
			).as('lines')
		])
		.where('p.customer_id', 'in', customerIds)
		.orderBy('p.purchased_at', 'desc')
		.limit(page.limit);
	if (page.before) q = q.where('p.purchased_at', '<', page.before);
	return q;
}

function ecOrdersQuery(db: DbOrTrx, customerIds: string[], page: Page) {
	let q = db
		.selectFrom('ec_orders as o')
		.select((eb) => [
			'o.id',
			'o.ordered_at',
			'o.total_yen',
			'o.status',
			'o.order_name',
			jsonArrayFrom(
				eb
					.selectFrom('ec_order_lines as l')
					.select((lb) => ['l.product_id', 'l.sku', 'l.quantity', 'l.name', productColumn(lb, 'category')])
					.whereRef('l.order_id', '=', 'o.id')
					.orderBy('l.line_no')
			).as('lines')
		])
		.where('o.customer_id', 'in', customerIds)
		.orderBy('o.ordered_at', 'desc')
		.limit(page.limit);
	if (page.before) q = q.where('o.ordered_at', '<', page.before);
	return q;
}

function consultationsQuery(db: DbOrTrx, customerIds: string[], page: Page) {
	let q = db
		.selectFrom('consultations as c')
		.innerJoin('staff as st', 'st.id', 'c.staff_id')
		.innerJoin('stores as s', 's.id', 'c.store_id')
		.select([
			'c.id',
			'c.occurred_at',
			'c.items',
			'c.sizes',
			'c.legacy_sizes',
			'c.notes',
			'c.next_action',
			'c.next_action_due',
			'st.display_name as staff_name',
			's.name as store_name'
		])
		.where('c.customer_id', 'in', customerIds)
		.orderBy('c.occurred_at', 'desc')
		.orderBy('c.created_at', 'desc')
		.limit(page.limit);
	if (page.before) q = q.where('c.occurred_at', '<', page.before);
	return q;
}

function followUpsQuery(db: DbOrTrx, customerIds: string[], page: Page) {
	let q = db
		.selectFrom('follow_ups as f')
		.innerJoin('staff as st', 'st.id', 'f.staff_id')
		.innerJoin('stores as s', 's.id', 'f.store_id')
		.select(['f.id', 'f.created_at', 'f.sent_at', 'f.status', 'f.failure_reason', 'f.body', 'st.display_name as staff_name', 's.name as store_name'])
		.where('f.customer_id', 'in', customerIds)
		.orderBy('f.created_at', 'desc')
		.limit(page.limit);
	if (page.before) q = q.where('f.created_at', '<', page.before);
	return q;
}

function linkClicksQuery(db: DbOrTrx, customerIds: string[], page: Page) {
	let q = db
		.selectFrom('link_clicks as k')
		.innerJoin('tracked_links as t', 't.code', 'k.code')
		.leftJoin('products as pr', 'pr.id', 't.product_id')
		.leftJoin('staff as st', 'st.id', 't.staff_id')
		.select(['k.id', 'k.clicked_at', 'pr.name as product_name', 'pr.sku', 'st.display_name as staff_name'])
		.where('k.customer_id', 'in', customerIds)
		.orderBy('k.clicked_at', 'desc')
		.limit(page.limit);
	if (page.before) q = q.where('k.clicked_at', '<', page.before);
	return q;
}

function lineEventsQuery(db: DbOrTrx, customerIds: string[], page: Page) {
	let q = db
		.selectFrom('line_events as e')
		.select(['e.id', 'e.occurred_at', 'e.type', 'e.message_text'])
		.where('e.customer_id', 'in', customerIds)
		.orderBy('e.occurred_at', 'desc')
		.limit(page.limit);
	if (page.before) q = q.where('e.occurred_at', '<', page.before);
	return q;
}

/** The newest consultation that set a next action (drives the "next action due" point). */
function lastNextActionQuery(db: DbOrTrx, customerIds: string[]) {
	return db
		.selectFrom('consultations as c')
		.leftJoin('staff as st', 'st.id', 'c.staff_id')
		.select(['c.next_action', 'c.next_action_due', 'c.occurred_at', 'st.display_name as staff_name'])
		.where('c.customer_id', 'in', customerIds)
		.where('c.next_action_due', 'is not', null)
		.orderBy('c.occurred_at', 'desc')
		.limit(1);
}

/**
 * Everything the profile shows, in one statement: one parse/plan/round trip instead of eight
 * (on a busy 2-core server the per-query overhead dominates these small index reads). Each part
 * is an index-ordered, limited per-customer subquery aggregated to JSON, so timestamps arrive as
 * ISO strings rather than Dates.
 */
export async function profileHistory(db: DbOrTrx, customerIds: string[], page: Page) {
	return profileHistoryQuery(db, customerIds, page).executeTakeFirstOrThrow();
}

export function profileHistoryQuery(db: DbOrTrx, customerIds: string[], page: Page) {
	return db
		.selectNoFrom([
			jsonObjectFrom(storeTotalsQuery(db, customerIds)).as('store_totals'),
			jsonObjectFrom(ecTotalsQuery(db, customerIds)).as('ec_totals'),
			jsonArrayFrom(storePurchasesQuery(db, customerIds, page)).as('store'),
			jsonArrayFrom(ecOrdersQuery(db, customerIds, page)).as('ec'),
			jsonArrayFrom(consultationsQuery(db, customerIds, page)).as('consultations'),
			jsonArrayFrom(followUpsQuery(db, customerIds, page)).as('follow_ups'),
			jsonArrayFrom(linkClicksQuery(db, customerIds, page)).as('clicks'),
			jsonArrayFrom(lineEventsQuery(db, customerIds, page)).as('line'),
			jsonObjectFrom(lastNextActionQuery(db, customerIds)).as('next_action')
		]);
}

/** Kysely types JSON-aggregated rows with their column types; timestamps are really strings there. */
export type Jsonified<T> = { [K in keyof T]: T[K] extends Date ? string : T[K] extends Date | null ? string | null : T[K] };

// ---------------------------------------------------------------------------------------------
// Search
// ---------------------------------------------------------------------------------------------

const SEARCH_COLUMNS = [
	'c.id',
	'c.member_no',
	'c.family_name',
	'c.given_name',
	'c.family_kana',
	'c.given_kana',
	'c.phone',
	'c.birthday',
	'c.home_store_id'
] as const;

export async function searchByMemberNo(db: DbOrTrx, memberNo: string, limit: number) {
	return db
		.selectFrom('customers as c')
		.select(SEARCH_COLUMNS)
		.where('c.member_no', '=', memberNo)
		.where('c.merged_into', 'is', null)
		.limit(limit)
		.execute();
}

export async function searchByPhoneLast4(db: DbOrTrx, last4: string, limit: number) {
	return db
		.selectFrom('customers as c')
		.select(SEARCH_COLUMNS)
		// matches the expression index customers_phone_last4_idx
		.where(sql<string>`right(c.phone, 4)`, '=', last4)
		.where('c.merged_into', 'is', null)
		.orderBy('c.family_kana')
		.limit(limit)
		.execute();
}

/** A whole phone number (digits only, as stored): found through the last-4 index, then compared. */
export async function searchByPhone(db: DbOrTrx, phone: string, limit: number) {
	return db
		.selectFrom('customers as c')
		.select(SEARCH_COLUMNS)
		.where(sql<string>`right(c.phone, 4)`, '=', phone.slice(-4))
		.where('c.phone', '=', phone)
		.where('c.merged_into', 'is', null)
		.limit(limit)
		.execute();
}

/** Prefix on family kana or family name (index-backed), optionally narrowed by a given-name prefix. */
export async function searchByName(db: DbOrTrx, family: string, given: string | null, limit: number) {
	const prefix = `${escapeLike(family)}%`;
	const byColumn = (column: 'c.family_kana' | 'c.family_name') => {
		let q = db
			.selectFrom('customers as c')
			.select(SEARCH_COLUMNS)
			.where(column, 'like', prefix)
			.where('c.merged_into', 'is', null);
		if (given) {
			const g = `${escapeLike(given)}%`;
			q = q.where((eb) => eb.or([eb('c.given_kana', 'like', g), eb('c.given_name', 'like', g)]));
		}
		return q.orderBy(column).limit(limit);
	};
	const [kana, kanji] = await Promise.all([byColumn('c.family_kana').execute(), byColumn('c.family_name').execute()]);
	return dedupe([...kana, ...kanji]);
}

/**
 * A full name typed without a space (「山田花子」, 「ヤマダハナコ」): the family name is one of the
 * text's shorter prefixes (an index probe per prefix on the family-name indexes) and family +
 * given name starts with the whole text.
 */
export async function searchByCompactName(db: DbOrTrx, compact: string, limit: number) {
	const chars = [...compact];
	const prefixes = chars.slice(1).map((_, i) => chars.slice(0, i + 1).join(''));
	if (prefixes.length === 0) return [];
	const whole = `${escapeLike(compact)}%`;
	const byColumns = (family: 'c.family_kana' | 'c.family_name', given: 'c.given_kana' | 'c.given_name') =>
		db
			.selectFrom('customers as c')
			.select(SEARCH_COLUMNS)
			.where(family, 'in', prefixes)
			.where(sql<string>`${sql.ref(family)} || coalesce(${sql.ref(given)}, '')`, 'like', whole)
			.where('c.merged_into', 'is', null)
			.orderBy(family)
			.limit(limit)
			.execute();
	const [kana, kanji] = await Promise.all([byColumns('c.family_kana', 'c.given_kana'), byColumns('c.family_name', 'c.given_name')]);
	return dedupe([...kana, ...kanji]);
}

function dedupe<T extends { id: string }>(rows: T[]): T[] {
	const seen = new Set<string>();
	return rows.filter((r) => (seen.has(r.id) ? false : (seen.add(r.id), true)));
}

export type SearchRow = Awaited<ReturnType<typeof searchByMemberNo>>[number];

/** Last store visit and EC order of the search candidates (index probes per customer), for ranking. */
export async function lastActivityFor(db: DbOrTrx, customerIds: string[]) {
	if (customerIds.length === 0) return [];
	return db
		.selectFrom('customers as c')
		.select([
			'c.id',
			sql<Date | null>`(select max(p.purchased_at) from store_purchases p where p.customer_id = c.id and p.kind = 'sale')`.as('last_store_at'),
			sql<Date | null>`(select max(o.ordered_at) from ec_orders o where o.customer_id = c.id and o.status = 'open')`.as('last_ec_at')
		])
		.where('c.id', 'in', customerIds)
		.execute();
}

/** Names of stores by id (home stores of search results). */
export async function storeNames(db: DbOrTrx, ids: string[]) {
	if (ids.length === 0) return [];
	return db.selectFrom('stores').select(['id', 'name', 'name_en']).where('id', 'in', ids).execute();
}

/** Purchase summary (for the state badge) and last visit of a handful of customers at once. */
export async function summariesFor(db: DbOrTrx, customerIds: string[]) {
	if (customerIds.length === 0) return [];
	return db
		.selectFrom('customers as c')
		.select([
			'c.id',
			sql<number>`(select count(*)::int from store_purchases p where p.customer_id = c.id and p.kind = 'sale')`.as('store_count'),
			sql<number>`(select count(*)::int from ec_orders o where o.customer_id = c.id and o.status = 'open')`.as('ec_count'),
			sql<Date | null>`(select max(p.purchased_at) from store_purchases p where p.customer_id = c.id and p.kind = 'sale')`.as('last_store_at'),
			sql<Date | null>`(select max(o.ordered_at) from ec_orders o where o.customer_id = c.id and o.status = 'open')`.as('last_ec_at'),
			sql<Date | null>`(select min(p.purchased_at) from store_purchases p where p.customer_id = c.id and p.kind = 'sale')`.as('first_store_at'),
			sql<Date | null>`(select min(o.ordered_at) from ec_orders o where o.customer_id = c.id and o.status = 'open')`.as('first_ec_at')
		])
		.where('c.id', 'in', customerIds)
		.execute();
}

// ---------------------------------------------------------------------------------------------
// Today's customers at a store
// ---------------------------------------------------------------------------------------------

/** Customers with a next action due by `today` (not older than `oldestDue`) or consulted since `since`, at one store. */
export async function todaysCustomerIds(
	db: DbOrTrx,
	storeId: string,
	today: string,
	oldestDue: string,
	since: Date,
	limit: number
): Promise<string[]> {
	const due = db
		.selectFrom('consultations')
		.select(['customer_id', 'next_action_due as due', 'occurred_at'])
		.where('store_id', '=', storeId)
		.where('customer_id', 'is not', null)
		.where('next_action_due', '<=', today)
		.where('next_action_due', '>=', oldestDue)
		.orderBy('next_action_due', 'desc')
		.limit(limit)
		.execute();
	const recent = db
		.selectFrom('consultations')
		.select(['customer_id', 'occurred_at'])
		.where('store_id', '=', storeId)
		.where('customer_id', 'is not', null)
		.where('occurred_at', '>=', since)
		.orderBy('occurred_at', 'desc')
		.limit(limit * 4)
		.execute();
	const [dueRows, recentRows] = await Promise.all([due, recent]);
	const ids: string[] = [];
	for (const row of [...dueRows, ...recentRows]) {
		if (row.customer_id && !ids.includes(row.customer_id)) ids.push(row.customer_id);
		if (ids.length >= limit) break;
	}
	return ids;
}
