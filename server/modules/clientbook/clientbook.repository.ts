/**
 * The client book's tables — `customer_owner_changes` (append-only audit) and
 * `customer_owner_proposals` — and its reads. The book page reads customers with their
 * purchase figures and contacts (a report-style read of other modules' tables, never a write):
 * per customer of the book, one primary-key probe of the reports' customer facts (counts, LTV,
 * last purchases; the purchases themselves only for customers whose facts are not current), and
 * index probes on (customer_id, time desc) of consultations and follow_ups for the last contact,
 * so a page costs what its book holds, not what the brand holds.
 */
import { sql, type RawBuilder } from 'kysely';
import type { DbOrTrx, Trx } from '../../db/index.ts';
import type { OwnerChangeReason } from '../../db/types.ts';
import type { CustomerState } from '../customers/state.ts';
import { uuidArray } from '../../db/pg-array.ts';

export interface OwnerChange {
	customerId: string;
	from: string | null;
	to: string | null;
}

export async function insertOwnerChanges(
	db: DbOrTrx,
	changes: OwnerChange[],
	meta: { actorStaffId: string | null; reason: OwnerChangeReason; note: string | null; batchId: string | null }
): Promise<void> {
	for (let i = 0; i < changes.length; i += 5_000) {
		const chunk = changes.slice(i, i + 5_000);
		await sql`
			insert into customer_owner_changes (customer_id, from_staff_id, to_staff_id, actor_staff_id, reason, note, batch_id)
			select u.c, u.f, u.t, ${meta.actorStaffId}::uuid, ${meta.reason}, ${meta.note}, ${meta.batchId}::uuid
			from unnest(${uuidArray(chunk.map((c) => c.customerId))}::uuid[], ${uuidArray(chunk.map((c) => c.from))}::uuid[],
				${uuidArray(chunk.map((c) => c.to))}::uuid[]) as u(c, f, t)`.execute(db);
	}
}

export async function listOwnerChanges(
	db: DbOrTrx,
	filter: { customerId?: string; staffId?: string; storeId?: string | null; beforeId?: number; limit: number }
) {
	let q = db
		.selectFrom('customer_owner_changes as h')
		.innerJoin('customers as c', 'c.id', 'h.customer_id')
		.leftJoin('staff as f', 'f.id', 'h.from_staff_id')
		.leftJoin('staff as t', 't.id', 'h.to_staff_id')
		.leftJoin('staff as a', 'a.id', 'h.actor_staff_id')
		.select([
			'h.id',
			'h.at',
			'h.customer_id',
			'c.family_name',
			'c.given_name',
			'h.from_staff_id',
			'f.display_name as from_name',
			'h.to_staff_id',
			't.display_name as to_name',
			'h.actor_staff_id',
			'a.display_name as actor_name',
			'h.reason',
			'h.note',
			'h.batch_id'
		])
		.orderBy('h.id', 'desc')
		.limit(filter.limit);
	if (filter.customerId) q = q.where('h.customer_id', '=', filter.customerId);
	if (filter.staffId) {
		const staffId = filter.staffId;
		q = q.where((eb) => eb.or([eb('h.from_staff_id', '=', staffId), eb('h.to_staff_id', '=', staffId)]));
	}
	if (filter.storeId) q = q.where('c.home_store_id', '=', filter.storeId);
	if (filter.beforeId) q = q.where('h.id', '<', filter.beforeId);
	return q.execute();
}

/** Many proposals in one statement (a store-sale import can propose tens of thousands at once). */
export async function insertProposals(db: DbOrTrx, rows: Array<{ customer_id: string; staff_id: string }>, source: 'consultation' | 'store_sale'): Promise<number> {
	if (rows.length === 0) return 0;
	const result = await sql`
		insert into customer_owner_proposals (customer_id, staff_id, source)
		select u.customer_id, u.staff_id, ${source}
		from unnest(${uuidArray(rows.map((r) => r.customer_id))}::uuid[], ${uuidArray(rows.map((r) => r.staff_id))}::uuid[]) as u(customer_id, staff_id)
		on conflict (customer_id, staff_id) do nothing`.execute(db);
	return Number(result.numAffectedRows ?? 0);
}

/** Proposals end when the customer gets an owner (whoever it is). */
export async function deleteProposalsFor(trx: Trx, customerIds: string[]): Promise<void> {
	if (customerIds.length === 0) return;
	await sql`delete from customer_owner_proposals where customer_id = any(${uuidArray(customerIds)}::uuid[])`.execute(trx);
}

export async function deleteProposalsOf(trx: Trx, staffId: string): Promise<void> {
	await trx.deleteFrom('customer_owner_proposals').where('staff_id', '=', staffId).execute();
}

export async function deleteProposal(db: DbOrTrx, customerId: string, staffId: string): Promise<number> {
	const r = await db.deleteFrom('customer_owner_proposals').where('customer_id', '=', customerId).where('staff_id', '=', staffId).executeTakeFirst();
	return Number(r.numDeletedRows);
}

/** Sale receipts since `afterPurchaseId` of unowned customers that may propose their staff member. */
const salesOfUnowned = (afterPurchaseId: number) => sql`
	from store_purchases p
	join customers c on c.id = p.customer_id
	join staff s on s.id = p.staff_id
	where p.id > ${afterPurchaseId} and p.kind = 'sale'
		and c.owner_staff_id is null and c.merged_into is null
		and s.active and s.home_store_id = p.store_id
		and (c.home_store_id is null or c.home_store_id = p.store_id)`;

/**
 * First sale receipts by a staff member since `afterPurchaseId`, one per unowned customer (the
 * earliest), where the staff member is active and works at the receipt's store and the customer
 * belongs to that store (or to none): the candidates of a store-sale ownership rule.
 */
export async function firstSalesOfUnowned(db: DbOrTrx, afterPurchaseId: number) {
	const { rows } = await sql<{ customer_id: string; staff_id: string }>`
		select distinct on (p.customer_id) p.customer_id, p.staff_id ${salesOfUnowned(afterPurchaseId)}
		order by p.customer_id, p.purchased_at, p.id`.execute(db);
	return rows;
}

/**
 * The candidates of firstSalesOfUnowned proposed to their staff member in the database, one
 * statement: an import of 1M lines has ~40k of them, which need not travel to the server and back.
 * With `skipFkTriggers` (the caller set replica mode, see db/bulk.ts canSkipFkTriggers) the
 * customers and staff the proposals point at are locked FOR KEY SHARE by the query that reads
 * them — what the two FK triggers per row would do (0.4 s of 0.9 s at 40k proposals).
 */
export async function proposeFirstSalesOfUnowned(db: DbOrTrx, afterPurchaseId: number, options: { skipFkTriggers?: boolean } = {}): Promise<number> {
	const result = await sql`
		with sales as (
			select p.customer_id, p.staff_id, p.purchased_at, p.id ${salesOfUnowned(afterPurchaseId)}
			${options.skipFkTriggers ? sql`for key share of c, s` : sql``}
		)
		insert into customer_owner_proposals (customer_id, staff_id, source)
		select distinct on (customer_id) customer_id, staff_id, 'store_sale' from sales
		order by customer_id, purchased_at, id
		on conflict (customer_id, staff_id) do nothing`.execute(db);
	return Number(result.numAffectedRows ?? 0);
}

/** Owned-customer counts per staff member of some stores (all when null). */
export async function ownedCounts(db: DbOrTrx, staffIds: string[]): Promise<Map<string, number>> {
	if (staffIds.length === 0) return new Map();
	const { rows } = await sql<{ owner_staff_id: string; n: number }>`
		select owner_staff_id, count(*)::int as n from customers
		where owner_staff_id = any(${uuidArray(staffIds)}::uuid[]) and merged_into is null
		group by owner_staff_id`.execute(db);
	return new Map(rows.map((r) => [r.owner_staff_id, r.n]));
}

export async function storeBookCount(db: DbOrTrx, storeId: string): Promise<number> {
	const { rows } = await sql<{ n: number }>`
		select count(*)::int as n from customers where home_store_id = ${storeId} and owner_staff_id is null and merged_into is null`.execute(db);
	return rows[0].n;
}

// ── the book page ───────────────────────────────────────────────────────────────────────────

export type BookScope = { kind: 'owner'; staffId: string } | { kind: 'store'; storeId: string } | { kind: 'proposed'; staffId: string };
export type BookSort = 'last_contact' | 'ltv' | 'last_purchase';

export interface BookQuery {
	scope: BookScope;
	states?: CustomerState[];
	/** last purchase at or after / before (exclusive) */
	lastPurchaseFrom?: Date;
	lastPurchaseBefore?: Date;
	ltvMin?: number;
	ltvMax?: number;
	birthdayMonth?: number;
	lineReachable?: boolean;
	sort: BookSort;
	dir: 'asc' | 'desc';
	/** keyset: the sort key (as text) and id of the last row of the previous page */
	after?: { key: string; id: string };
	limit: number;
	dormantBefore: Date;
	/** customers handed to their owner by a manager after this, not yet written to by them, offer an introduction */
	introSince: Date;
}

export interface BookRow {
	id: string;
	member_no: string;
	family_name: string | null;
	given_name: string | null;
	family_kana: string | null;
	given_kana: string | null;
	birthday: string | null;
	home_store_id: string | null;
	owner_staff_id: string | null;
	owner_name: string | null;
	line_linked: boolean;
	reachable: boolean;
	ltv: string;
	last_purchase_at: Date | null;
	last_store_at: Date | null;
	last_ec_at: Date | null;
	state: CustomerState;
	contact_at: Date | null;
	contact_kind: 'consultation' | 'follow_up' | null;
	contact_staff_name: string | null;
	intro_since: Date | null;
	intro_from_name: string | null;
	sort_key: string;
}

const SORT_EXPR: Record<BookSort, { expr: RawBuilder<unknown>; cast: string }> = {
	ltv: { expr: sql`g.ltv`, cast: 'bigint' },
	last_purchase: { expr: sql`coalesce(g.last_purchase_at, '-infinity'::timestamptz)`, cast: 'timestamptz' },
	last_contact: { expr: sql`coalesce(g.contact_at, '-infinity'::timestamptz)`, cast: 'timestamptz' }
};

export async function bookPage(db: DbOrTrx, q: BookQuery): Promise<BookRow[]> {
	const scope =
		q.scope.kind === 'owner'
			? sql`c.owner_staff_id = ${q.scope.staffId}`
			: q.scope.kind === 'store'
				? sql`c.home_store_id = ${q.scope.storeId} and c.owner_staff_id is null`
				: sql`c.owner_staff_id is null and c.id in (select customer_id from customer_owner_proposals where staff_id = ${q.scope.staffId})`;
	const reachable = sql`(c.consent_messages and c.line_user_id is not null and c.line_blocked_at is null and c.line_friend)`;
	const bookWhere: RawBuilder<unknown>[] = [scope, sql`c.merged_into is null`];
	if (q.birthdayMonth) bookWhere.push(sql`extract(month from c.birthday) = ${q.birthdayMonth}`);
	if (q.lineReachable !== undefined) bookWhere.push(q.lineReachable ? reachable : sql`not ${reachable}`);

	const sort = SORT_EXPR[q.sort];
	const where: RawBuilder<unknown>[] = [sql`true`];
	if (q.states && q.states.length > 0) where.push(sql`g.state in (${sql.join(q.states)})`);
	if (q.ltvMin !== undefined) where.push(sql`g.ltv >= ${q.ltvMin}`);
	if (q.ltvMax !== undefined) where.push(sql`g.ltv < ${q.ltvMax}`);
	if (q.lastPurchaseFrom) where.push(sql`g.last_purchase_at >= ${q.lastPurchaseFrom}`);
	if (q.lastPurchaseBefore) where.push(sql`g.last_purchase_at < ${q.lastPurchaseBefore}`);
	const cmp = sql.raw(q.dir === 'desc' ? '<' : '>');
	const dir = sql.raw(q.dir);
	if (q.after) where.push(sql`(${sort.expr}, g.id) ${cmp} (${q.after.key}::${sql.raw(sort.cast)}, ${q.after.id}::uuid)`);

	// the last contact is looked up for every customer of the book only when the page sorts by it;
	// otherwise for the rows of the page alone
	const early = q.sort === 'last_contact';
	const contact = (id: RawBuilder<unknown>) => sql`
			left join lateral (
				select x.at, x.kind, x.staff_id from (
					(select k.occurred_at as at, 'consultation' as kind, k.staff_id from consultations k
						where k.customer_id = ${id} order by k.occurred_at desc limit 1)
					union all
					(select coalesce(u.sent_at, u.created_at), 'follow_up', u.staff_id from follow_ups u
						where u.customer_id = ${id} and u.status <> 'cancelled' and u.status <> 'failed' order by u.created_at desc limit 1)
				) as x order by x.at desc limit 1
			) lc on true`;
	// purchase figures come from the reports' per-customer facts; a customer whose facts are not
	// current (a purchase, refund or the customer changed since the last refresh, or the facts
	// not built yet) is read from the purchases themselves, so the page is never stale
	const { rows } = await sql<BookRow>`
		with book as materialized (
			select c.id, c.member_no, c.family_name, c.given_name, c.family_kana, c.given_kana, c.birthday::text as birthday,
				c.home_store_id, c.owner_staff_id, c.line_user_id is not null as line_linked, ${reachable} as reachable,
				(fa.customer_id is null or c.id in (select d.customer_id from report_customer_dirty d)
					or not exists (select 1 from report_rollup_state r where r.name = 'customer_facts')) as live,
				fa.store_sales, fa.ec_orders, fa.ltv_yen, fa.last_store_at, fa.last_ec_at
			from customers c
			-- a probe per book customer, never a scan of the facts of the whole brand (the limit
			-- keeps the planner from turning it into a hash join)
			left join lateral (select * from report_customer_facts x where x.customer_id = c.id limit 1) fa on true
			where ${sql.join(bookWhere, sql` and `)}
		),
		f as (
			select b.id, b.member_no, b.family_name, b.given_name, b.family_kana, b.given_kana, b.birthday,
				b.home_store_id, b.owner_staff_id, b.line_linked, b.reachable,
				case when b.live then coalesce(sp.n, 0) else b.store_sales end as store_n,
				case when b.live then coalesce(eo.n, 0) else b.ec_orders end as ec_n,
				case when b.live then coalesce(sp.yen, 0) + coalesce(eo.yen, 0) else b.ltv_yen end as ltv,
				case when b.live then sp.last_at else b.last_store_at end as last_store_at,
				case when b.live then eo.last_at else b.last_ec_at end as last_ec_at,
				${early ? sql`lc.at as contact_at, lc.kind as contact_kind, lc.staff_id as contact_staff_id` : sql`null::timestamptz as contact_at, null::text as contact_kind, null::uuid as contact_staff_id`}
			from book b
			left join lateral (
				select count(*) filter (where p.kind = 'sale')::int as n, sum(p.total_yen)::bigint as yen,
					max(p.purchased_at) filter (where p.kind = 'sale') as last_at
				from store_purchases p where b.live and p.customer_id = b.id
			) sp on true
			left join lateral (
				select count(*)::int as n,
					(sum(o.total_yen) - coalesce(sum((select sum(r.amount_yen) from ec_refunds r
						where r.platform = o.platform and r.ec_order_id = o.ec_order_id)), 0))::bigint as yen,
					max(o.ordered_at) as last_at
				from ec_orders o where b.live and o.customer_id = b.id and o.status = 'open'
			) eo on true
			${early ? contact(sql`b.id`) : sql``}
		),
		g as (
			select f.*, greatest(f.last_store_at, f.last_ec_at) as last_purchase_at,
				case
					when f.store_n + f.ec_n = 0 then 'none'
					when greatest(f.last_store_at, f.last_ec_at) < ${q.dormantBefore} then 'dormant'
					when f.store_n > 0 and f.ec_n > 0 then 'cross_channel'
					when f.store_n + f.ec_n = 1 then 'first_purchase_only'
					when f.store_n > 0 then 'store_only'
					else 'ec_only'
				end as state
			from f
		),
		page as (
			select g.*, (${sort.expr})::text as sort_key, ${sort.expr} as sort_value
			from g
			where ${sql.join(where, sql` and `)}
			order by ${sort.expr} ${dir}, g.id ${dir}
			limit ${q.limit}
		)
		-- names only for the rows of the page
		select p.id, p.member_no, p.family_name, p.given_name, p.family_kana, p.given_kana, p.birthday, p.home_store_id,
			p.owner_staff_id, (select o.display_name from staff o where o.id = p.owner_staff_id) as owner_name,
			p.line_linked, p.reachable, p.ltv::text as ltv, p.last_purchase_at, p.last_store_at, p.last_ec_at, p.state,
			${early ? sql`p.contact_at, p.contact_kind` : sql`lc.at as contact_at, lc.kind as contact_kind`},
			(select s.display_name from staff s where s.id = ${early ? sql`p.contact_staff_id` : sql`lc.staff_id`}) as contact_staff_name,
			p.sort_key, intro.at as intro_since, (select s.display_name from staff s where s.id = intro.from_staff_id) as intro_from_name
		from page p
		${early ? sql`` : contact(sql`p.id`)}
		-- an introduction is offered to the new owner of a customer a manager reassigned, until
		-- they have written to the customer (reachable customers only)
		left join lateral (
			select h.at, h.from_staff_id from customer_owner_changes h
			where p.reachable and h.customer_id = p.id and h.to_staff_id = p.owner_staff_id
				and h.reason in ('assign', 'handover', 'deactivation') and h.at >= ${q.introSince}
				and not exists (select 1 from follow_ups u where u.customer_id = p.id and u.staff_id = p.owner_staff_id
					and u.created_at >= h.at and u.status <> 'cancelled' and u.status <> 'failed')
			order by h.at desc limit 1
		) intro on true
		order by p.sort_value ${dir}, p.id ${dir}`.execute(db);
	return rows;
}
