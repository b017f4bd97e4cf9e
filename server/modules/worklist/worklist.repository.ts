/**
 * SQL of today's list. Writes only the worklist_* tables (this module owns them); reads
 * customers, purchases, orders and consultations to find the candidates the rules decide on.
 */
import { sql } from 'kysely';
import type { DbOrTrx } from '../../db/index.ts';
import { textArray, uuidArray } from '../../db/pg-array.ts';
import { jstDate } from '../../shared/jst.ts';
import { ELIGIBLE_SQL, type Candidate, type CustomerSummary, type NextActionInput, type Reason, type StoreSaleInput } from './rules.ts';

const ELIGIBLE = sql.raw(ELIGIBLE_SQL);

export async function allStoreIds(db: DbOrTrx): Promise<string[]> {
	return (await db.selectFrom('stores').select('id').orderBy('id').execute()).map((r) => r.id);
}

export interface SummaryWindow {
	birthdayKeys: string[];
	/** first purchase in [firstFrom, firstTo) */
	firstFrom: Date;
	firstTo: Date;
	/** last purchase in [lastFrom, lastTo) */
	lastFrom: Date;
	lastTo: Date;
}

/**
 * Purchase summaries of the customers of these stores' books who could match a customer rule
 * (birthday in the window, first-purchase-only in its window, last purchase in the dormancy
 * window, or EC-only) and may be contacted. The rules make the exact decision.
 *
 * The figures come from the reports' per-customer facts (one row per customer, kept by the
 * reports worker), not from every purchase of the stores (70 s for all stores at 1M customers and
 * 5M receipts and orders). A customer whose facts are not current — a purchase, refund or record
 * change not refreshed yet, or the facts never built — is summed from the purchases themselves,
 * so a build never acts on a stale figure. Days are JST days; LTV is net of EC refunds.
 */
export async function customerSummaries(db: DbOrTrx, storeIds: string[], w: SummaryWindow): Promise<CustomerSummary[]> {
	const day = (d: Date) => sql`${jstDate(d)}::date`;
	const jst = (col: string) => sql`(${sql.ref(col)} at time zone 'Asia/Tokyo')::date`;
	const rows = await sql<{
		id: string; birthday: string | null; home_store_id: string | null; owner_staff_id: string | null;
		store_n: number; ec_n: number; ltv: string | number; first_day: string | null; last_day: string | null; ec_last: string | null;
	}>`
		with scope as materialized (
			select c.id, c.birthday, c.home_store_id, os.id as owner_staff_id,
				(fa.customer_id is null or c.id in (select d.customer_id from report_customer_dirty d)
					or not exists (select 1 from report_rollup_state r where r.name = 'customer_facts')) as live,
				fa.store_sales, fa.ec_orders, fa.ltv_yen, fa.first_day, fa.last_day, fa.last_ec_day
			from customers c
			left join staff os on os.id = c.owner_staff_id and os.active
			left join report_customer_facts fa on fa.customer_id = c.id
			where c.home_store_id = any(${textArray(storeIds)}::text[]) and ${ELIGIBLE}
		), m as (
			select scope.id, scope.birthday, scope.home_store_id, scope.owner_staff_id,
				case when scope.live then s.n else scope.store_sales end as store_n,
				case when scope.live then e.n else scope.ec_orders end as ec_n,
				case when scope.live then coalesce(s.yen, 0) + coalesce(e.yen, 0) else scope.ltv_yen end as ltv,
				case when scope.live then least(s.first, e.first) else scope.first_day end as first_day,
				case when scope.live then greatest(s.last, e.last) else scope.last_day end as last_day,
				case when scope.live then e.last else scope.last_ec_day end as ec_last
			from scope
			-- purchases are read only for the customers whose facts are not current (index probes)
			left join lateral (
				select count(*) filter (where p.kind = 'sale')::int as n, sum(p.total_yen)::bigint as yen,
					min(${jst('p.purchased_at')}) filter (where p.kind = 'sale') as first, max(${jst('p.purchased_at')}) filter (where p.kind = 'sale') as last
				from store_purchases p where scope.live and p.customer_id = scope.id
			) s on true
			left join lateral (
				select count(*)::int as n,
					sum(o.total_yen - coalesce((select sum(r.amount_yen) from ec_refunds r where r.platform = o.platform and r.ec_order_id = o.ec_order_id), 0))::bigint as yen,
					min(${jst('o.ordered_at')}) as first, max(${jst('o.ordered_at')}) as last
				from ec_orders o where scope.live and o.customer_id = scope.id and o.status <> 'cancelled'
			) e on true
		)
		select m.id, to_char(m.birthday, 'YYYY-MM-DD') as birthday, m.home_store_id, m.owner_staff_id, m.store_n, m.ec_n, m.ltv,
			m.first_day::text as first_day, m.last_day::text as last_day, m.ec_last::text as ec_last
		from m
		where to_char(m.birthday, 'MM-DD') = any(${textArray(w.birthdayKeys)}::text[])
			or (m.store_n + m.ec_n = 1 and m.first_day >= ${day(w.firstFrom)} and m.first_day < ${day(w.firstTo)})
			or (m.last_day >= ${day(w.lastFrom)} and m.last_day < ${day(w.lastTo)})
			or (m.store_n = 0 and m.ec_n > 0)`.execute(db);
	return rows.rows.map((r) => ({
		customerId: r.id,
		birthday: r.birthday,
		homeStoreId: r.home_store_id,
		ownerStaffId: r.owner_staff_id,
		storeOrders: Number(r.store_n),
		ecOrders: Number(r.ec_n),
		ltvYen: Number(r.ltv),
		firstPurchaseDay: r.first_day,
		lastPurchaseDay: r.last_day,
		lastEcDay: r.ec_last
	}));
}

/**
 * Median LTV (store receipts + EC orders not cancelled, net of refunds) of each store book's
 * buying customers, from the reports' per-customer facts when they are built (a store-wide
 * figure: a purchase not refreshed yet for a minute does not move it), from the purchases
 * otherwise.
 */
export async function storeMedians(db: DbOrTrx, storeIds: string[]): Promise<Map<string, number>> {
	const built = (await sql`select 1 from report_rollup_state where name = 'customer_facts'`.execute(db)).rows.length > 0;
	const rows = built
		? await sql<{ store_id: string; median: string | number }>`
			select c.home_store_id as store_id, percentile_cont(0.5) within group (order by f.ltv_yen) as median
			from report_customer_facts f join customers c on c.id = f.customer_id
			where c.home_store_id = any(${textArray(storeIds)}::text[]) and c.merged_into is null and f.store_sales + f.ec_orders > 0
			group by c.home_store_id`.execute(db)
		: await sql<{ store_id: string; median: string | number }>`
			with s as (select customer_id, sum(total_yen) as y, count(*) filter (where kind = 'sale') as n from store_purchases where customer_id is not null group by customer_id),
			e as (select o.customer_id, sum(o.total_yen - coalesce((select sum(r.amount_yen) from ec_refunds r where r.platform = o.platform and r.ec_order_id = o.ec_order_id), 0)) as y
				from ec_orders o where o.customer_id is not null and o.status <> 'cancelled' group by o.customer_id)
			select c.home_store_id as store_id, percentile_cont(0.5) within group (order by coalesce(s.y, 0) + coalesce(e.y, 0)) as median
			from customers c left join s on s.customer_id = c.id left join e on e.customer_id = c.id
			where c.home_store_id = any(${textArray(storeIds)}::text[]) and c.merged_into is null and (s.n > 0 or e.y is not null)
			group by c.home_store_id`.execute(db);
	return new Map(rows.rows.map((r) => [r.store_id, Math.round(Number(r.median))]));
}

/**
 * Next actions due by `until` that have no item yet, however old: one item per consultation.
 * An author who left hands the item to the customer's owner or store book (author null).
 */
export async function nextActionCandidates(db: DbOrTrx, storeIds: string[], until: string, customerIds?: string[]): Promise<Array<NextActionInput & { authorActive: boolean; ownerStaffId: string | null; homeStoreId: string | null }>> {
	const rows = await sql<{
		id: string; customer_id: string; staff_id: string; store_id: string; store_name: string; staff_name: string; staff_active: boolean;
		next_action: string | null; due: string | null; occurred_at: Date; owner_staff_id: string | null; home_store_id: string | null;
	}>`
		select k.id, k.customer_id, k.staff_id, k.store_id, st.name as store_name, sf.display_name as staff_name, sf.active as staff_active,
			k.next_action, to_char(k.next_action_due, 'YYYY-MM-DD') as due, k.occurred_at, c.owner_staff_id, c.home_store_id
		from consultations k
		join customers c on c.id = k.customer_id
		join stores st on st.id = k.store_id
		join staff sf on sf.id = k.staff_id
		where k.next_action is not null and k.next_action_due <= ${until}::date
			and k.store_id = any(${textArray(storeIds)}::text[])
			${customerIds ? sql`and k.customer_id = any(${uuidArray(customerIds)}::uuid[])` : sql``}
			and not exists (select 1 from worklist_items w where w.source_consultation_id = k.id and w.reason = 'next_action')
			and ${ELIGIBLE}`.execute(db);
	return rows.rows.map((r) => ({
		consultationId: r.id,
		customerId: r.customer_id,
		staffId: r.staff_id,
		storeId: r.store_id,
		storeName: r.store_name,
		staffName: r.staff_name,
		action: r.next_action,
		dueOn: r.due,
		occurredOn: jstDate(r.occurred_at),
		authorActive: r.staff_active,
		ownerStaffId: r.owner_staff_id,
		homeStoreId: r.home_store_id
	}));
}

/** Store sales of [from, to) at these stores, with one product name each. */
export async function storeSales(db: DbOrTrx, storeIds: string[], from: Date, to: Date): Promise<StoreSaleInput[]> {
	const rows = await sql<{ id: string | number; customer_id: string; staff_id: string | null; store_id: string; store_name: string; purchased_at: Date; total_yen: number; product: string | null }>`
		select p.id, p.customer_id, p.staff_id, p.store_id, st.name as store_name, p.purchased_at, p.total_yen,
			(select pr.name from store_purchase_lines l join products pr on pr.id = l.product_id where l.purchase_id = p.id order by l.amount_yen desc, l.line_no limit 1) as product
		from store_purchases p join customers c on c.id = p.customer_id join stores st on st.id = p.store_id
		join staff sf on sf.id = p.staff_id and sf.active
		where p.store_id = any(${textArray(storeIds)}::text[]) and p.kind = 'sale' and p.purchased_at >= ${from} and p.purchased_at < ${to}
			and ${ELIGIBLE}`.execute(db);
	return rows.rows.map((r) => ({
		purchaseId: Number(r.id),
		customerId: r.customer_id,
		staffId: r.staff_id,
		storeId: r.store_id,
		storeName: r.store_name,
		purchaseDay: jstDate(r.purchased_at),
		totalYen: r.total_yen,
		product: r.product
	}));
}

/** The (customer, reason, occasion) keys that already have an item, among these customers. */
export async function existingOccasions(db: DbOrTrx, customerIds: string[]): Promise<Set<string>> {
	if (customerIds.length === 0) return new Set();
	const rows = await sql<{ k: string }>`
		select customer_id || '|' || reason || '|' || occasion as k from worklist_items
		where customer_id = any(${uuidArray(customerIds)}::uuid[])`.execute(db);
	return new Set(rows.rows.map((r) => r.k));
}

/** Open items per list and reason: 'staffId|reason' or 'book:storeId|reason'. */
export async function openCounts(db: DbOrTrx, storeIds: string[], today: string): Promise<Map<string, number>> {
	const rows = await sql<{ k: string; n: number }>`
		select coalesce(staff_id::text, 'book:' || store_id) || '|' || reason as k, count(*)::int as n from worklist_items
		where store_id = any(${textArray(storeIds)}::text[]) and state in ('open', 'snoozed') and (expires_on is null or expires_on >= ${today}::date)
		group by 1`.execute(db);
	return new Map(rows.rows.map((r) => [r.k, Number(r.n)]));
}

/** A product of each customer's first and of their last purchase (store line or EC line), and where the first was bought. */
export async function productFacts(db: DbOrTrx, customerIds: string[]): Promise<Map<string, { first: string | null; firstChannel: string | null; last: string | null }>> {
	if (customerIds.length === 0) return new Map();
	const rows = await sql<{ id: string; first: string | null; first_channel: string | null; last: string | null }>`
		with ids as (select unnest(${uuidArray(customerIds)}::uuid[]) as id),
		buys as (
			select i.id, x.at, x.name, x.channel from ids i
			cross join lateral (
				(select p.purchased_at as at, pr.name, st.name as channel from store_purchases p
					join store_purchase_lines l on l.purchase_id = p.id left join products pr on pr.id = l.product_id join stores st on st.id = p.store_id
					where p.customer_id = i.id and p.kind = 'sale' order by p.purchased_at, l.line_no limit 1)
				union all
				(select p.purchased_at, pr.name, st.name from store_purchases p
					join store_purchase_lines l on l.purchase_id = p.id left join products pr on pr.id = l.product_id join stores st on st.id = p.store_id
					where p.customer_id = i.id and p.kind = 'sale' order by p.purchased_at desc, l.line_no limit 1)
				union all
				(select o.ordered_at, l.name, 'EC' from ec_orders o join ec_order_lines l on l.order_id = o.id
					where o.customer_id = i.id and o.status <> 'cancelled' order by o.ordered_at, l.line_no limit 1)
				union all
				(select o.ordered_at, l.name, 'EC' from ec_orders o join ec_order_lines l on l.order_id = o.id
					where o.customer_id = i.id and o.status <> 'cancelled' order by o.ordered_at desc, l.line_no limit 1)
			) x
		)
		select id,
			(array_agg(name order by at asc))[1] as first,
			(array_agg(channel order by at asc))[1] as first_channel,
			(array_agg(name order by at desc))[1] as last
		from buys group by id`.execute(db);
	return new Map(rows.rows.map((r) => [r.id, { first: r.first, firstChannel: r.first_channel, last: r.last }]));
}

/** Inserts new items; an existing (customer, reason, occasion) is left alone. Returns how many were new. */
export async function insertItems(db: DbOrTrx, items: Candidate[]): Promise<number> {
	let created = 0;
	for (let i = 0; i < items.length; i += 500) {
		const chunk = items.slice(i, i + 500);
		const result = await db
			.insertInto('worklist_items')
			.values(
				chunk.map((c) => ({
					customer_id: c.customerId,
					store_id: c.storeId,
					staff_id: c.staffId,
					reason: c.reason,
					occasion: c.occasion,
					facts: JSON.stringify(c.facts),
					visible_from: c.visibleFrom,
					due_on: c.dueOn,
					expires_on: c.expiresOn,
					source_consultation_id: c.sourceConsultationId ?? null,
					source_purchase_id: c.sourcePurchaseId ?? null,
					campaign_id: c.campaignId ?? null
				}))
			)
			.onConflict((oc) => oc.columns(['customer_id', 'reason', 'occasion']).doNothing())
			.executeTakeFirst();
		created += Number(result.numInsertedOrUpdatedRows ?? 0n);
	}
	return created;
}

export async function markBuilt(db: DbOrTrx, storeId: string, today: string, created: number): Promise<void> {
	await db
		.insertInto('worklist_builds')
		.values({ store_id: storeId, built_on: today, built_at: new Date(), items_created: created })
		.onConflict((oc) => oc.column('store_id').doUpdateSet({ built_on: today, built_at: new Date(), items_created: created }))
		.execute();
}

export async function builds(db: DbOrTrx): Promise<Map<string, { builtOn: string; builtAt: Date }>> {
	const rows = await db.selectFrom('worklist_builds').select(['store_id', 'built_on', 'built_at']).execute();
	return new Map(rows.map((r) => [r.store_id, { builtOn: r.built_on, builtAt: new Date(r.built_at) }]));
}

// --- the list -------------------------------------------------------------------------------

export interface ListRow {
	id: string;
	customer_id: string;
	store_id: string;
	staff_id: string | null;
	reason: Reason;
	facts: Record<string, string | number | null>;
	visible_from: string;
	due_on: string;
	expires_on: string | null;
	state: 'open' | 'done' | 'snoozed' | 'dismissed';
	snoozed_until: string | null;
	dismiss_reason: string | null;
	done_at: Date | null;
	done_via: string | null;
	done_by_name: string | null;
	campaign_template: string | null;
	member_no: string;
	family_name: string | null;
	given_name: string | null;
	family_kana: string | null;
	given_kana: string | null;
}

/**
 * A staff member's list: their own items and their store book's, open or snoozed until today,
 * visible and not expired, for customers who may still be contacted; plus what was done today.
 */
export async function listFor(db: DbOrTrx, staffId: string, storeId: string, today: string, doneSince: Date, limit: number): Promise<ListRow[]> {
	const rows = await sql<ListRow>`
		select w.id, w.customer_id, w.store_id, w.staff_id, w.reason, w.facts,
			to_char(w.visible_from, 'YYYY-MM-DD') as visible_from, to_char(w.due_on, 'YYYY-MM-DD') as due_on,
			to_char(w.expires_on, 'YYYY-MM-DD') as expires_on, w.state, to_char(w.snoozed_until, 'YYYY-MM-DD') as snoozed_until,
			w.dismiss_reason, w.done_at, w.done_via, d.display_name as done_by_name, k.template_key as campaign_template,
			c.member_no, c.family_name, c.given_name, c.family_kana, c.given_kana
		from worklist_items w
		join customers c on c.id = w.customer_id
		left join staff d on d.id = w.done_by
		left join worklist_campaigns k on k.id = w.campaign_id
		where (w.staff_id = ${staffId}::uuid or (w.staff_id is null and w.store_id = ${storeId}))
			and (
				(w.state = 'open' or (w.state = 'snoozed' and w.snoozed_until <= ${today}::date))
				and w.visible_from <= ${today}::date and (w.expires_on is null or w.expires_on >= ${today}::date)
				and ${ELIGIBLE}
				or (w.state in ('done', 'dismissed') and w.state_changed_at >= ${doneSince})
			)
		order by w.due_on, w.created_at
		limit ${limit}`.execute(db);
	return rows.rows;
}

export async function findItem(db: DbOrTrx, id: string, forUpdate = false) {
	let q = db.selectFrom('worklist_items').selectAll().where('id', '=', id);
	if (forUpdate) q = q.forUpdate();
	return q.executeTakeFirst();
}

export async function findStateChange(db: DbOrTrx, clientId: string) {
	return db.selectFrom('worklist_state_changes').selectAll().where('client_id', '=', clientId).executeTakeFirst();
}

export async function recordStateChange(
	db: DbOrTrx,
	row: { client_id: string; item_id: string; staff_id: string; state: string; snoozed_until: string | null; dismiss_reason: string | null; applied: boolean }
): Promise<boolean> {
	const r = await db.insertInto('worklist_state_changes').values(row).onConflict((oc) => oc.column('client_id').doNothing()).executeTakeFirst();
	return Number(r.numInsertedOrUpdatedRows ?? 0n) > 0;
}

export async function setItemState(
	db: DbOrTrx,
	id: string,
	change: { state: 'open' | 'done' | 'snoozed' | 'dismissed'; snoozedUntil: string | null; dismissReason: string | null; staffId: string; via: 'manual' | null; at: Date }
): Promise<void> {
	await db
		.updateTable('worklist_items')
		.set({
			state: change.state,
			snoozed_until: change.snoozedUntil,
			dismiss_reason: change.dismissReason,
			done_by: change.state === 'done' ? change.staffId : null,
			done_at: change.state === 'done' ? change.at : null,
			done_via: change.state === 'done' ? change.via : null,
			done_source_id: null,
			state_changed_by: change.staffId,
			state_changed_at: change.at
		})
		.where('id', '=', id)
		.execute();
}

/**
 * Auto-done: the staff member contacted the customer. Completes the open/snoozed items about
 * that customer on their list or their store book (next actions only by a follow-up).
 */
export async function completeForContact(
	db: DbOrTrx,
	c: { customerId: string; staffId: string; storeId: string; via: 'followup' | 'consultation'; sourceId: string; at: Date; reasons: Reason[] | null }
): Promise<number> {
	let q = db
		.updateTable('worklist_items')
		.set({ state: 'done', done_by: c.staffId, done_at: c.at, done_via: c.via, done_source_id: c.sourceId, snoozed_until: null, state_changed_by: c.staffId, state_changed_at: c.at })
		.where('customer_id', '=', c.customerId)
		.where('state', 'in', ['open', 'snoozed'])
		.where((eb) => eb.or([eb('staff_id', '=', c.staffId), eb.and([eb('staff_id', 'is', null), eb('store_id', '=', c.storeId)])]));
	if (c.via === 'consultation') q = q.where('reason', '<>', 'next_action');
	if (c.reasons) q = q.where('reason', 'in', c.reasons);
	const r = await q.executeTakeFirst();
	return Number(r.numUpdatedRows ?? 0n);
}

/** Reasons of the open items about a customer on a staff member's list (to match a follow-up's template). */
export async function openReasonsFor(db: DbOrTrx, customerId: string, staffId: string, storeId: string): Promise<Reason[]> {
	const rows = await db
		.selectFrom('worklist_items')
		.select('reason')
		.distinct()
		.where('customer_id', '=', customerId)
		.where('state', 'in', ['open', 'snoozed'])
		.where((eb) => eb.or([eb('staff_id', '=', staffId), eb.and([eb('staff_id', 'is', null), eb('store_id', '=', storeId)])]))
		.execute();
	return rows.map((r) => r.reason);
}
