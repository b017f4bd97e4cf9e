/** Kysely queries for attribution: the orders' facts, candidate links and clicks, the writes — each for a batch of orders. */
import { reassignCustomerRows, type ReassignOptions } from '../../shared/reassign-customer.ts';
import { sql, type Insertable } from 'kysely';
import type { AttributionChangesTable } from '../../db/types.ts';
import type { DbOrTrx } from '../../db/index.ts';
import type { OrderKey } from '../orders/orders.types.ts';
import type { AttributionDecision, ClickFacts, RefLink } from './rules.ts';

/**
 * Each order's facts for attribution and, in the same statement, its customer's newest clicks
 * inside [ordered_at − window, ordered_at] (the last-touch candidates; the rules pick among
 * them). One round trip for a whole batch of orders; orders not stored (yet) are left out.
 */
export async function findOrdersForAttribution(db: DbOrTrx, keys: OrderKey[], windowDays: number): Promise<OrderForAttribution[]> {
	if (keys.length === 0) return [];
	const { rows } = await sql<OrderRow>`
		select o.platform, o.ec_order_id, o.ordered_at, o.customer_id, o.status, o.total_yen, o.ref_code, o.landing_site, o.note_attributes,
			(select coalesce(sum(r.amount_yen), 0)::int from ec_refunds r
				where r.platform = o.platform and r.ec_order_id = o.ec_order_id) as refunded_yen,
			-- exact seconds, not calendar days: the window must not stretch across a DST change
			(select coalesce(json_agg(c order by c.clicked_at desc, c.click_id desc), '[]'::json) from (
				select k.click_id, k.code, k.clicked_at, t.staff_id, t.store_id, t.follow_up_id
				from link_clicks k join tracked_links t on t.code = k.code
				where k.customer_id = o.customer_id
					and k.clicked_at >= o.ordered_at - make_interval(secs => ${windowDays * 86_400})
					and k.clicked_at <= o.ordered_at
				order by k.clicked_at desc, k.click_id desc
				limit 5
			) c) as recent_clicks
		from unnest(${keys.map((k) => k.platform)}::text[], ${keys.map((k) => k.ecOrderId)}::text[]) as u(platform, ec_order_id)
		join ec_orders o on o.platform = u.platform and o.ec_order_id = u.ec_order_id`.execute(db);
	return rows.map(({ recent_clicks, ...order }) => ({ ...order, recentClicks: parseClicks(recent_clicks) }));
}

interface OrderRow {
	platform: string;
	ec_order_id: string;
	ordered_at: Date;
	customer_id: string | null;
	status: 'open' | 'cancelled';
	total_yen: number;
	ref_code: string | null;
	landing_site: string | null;
	note_attributes: unknown;
	refunded_yen: number | null;
	recent_clicks: RecentClickJson[] | string | null;
}

export type OrderForAttribution = Omit<OrderRow, 'recent_clicks'> & { recentClicks: ClickFacts[] };

interface RecentClickJson {
	click_id: string;
	code: string;
	clicked_at: string;
	staff_id: string;
	store_id: string;
	follow_up_id: string | null;
}

function parseClicks(value: RecentClickJson[] | string | null): ClickFacts[] {
	const list: RecentClickJson[] = typeof value === 'string' ? JSON.parse(value) : (value ?? []);
	return list.map((r) => ({
		clickId: r.click_id,
		code: r.code,
		clickedAt: new Date(r.clicked_at),
		staffId: r.staff_id,
		storeId: r.store_id,
		followUpId: r.follow_up_id
	}));
}

/**
 * For many (order, code) pairs at once: the tracked link of each code that exists, with its
 * latest click at or before that order. `order` is the caller's index, handed back.
 */
export async function findRefLinks(
	db: DbOrTrx,
	requests: Array<{ order: number; code: string; orderedAt: Date }>
): Promise<Array<RefLink & { order: number }>> {
	if (requests.length === 0) return [];
	const { rows } = await sql<{ ord: number; code: string; staff_id: string; store_id: string; follow_up_id: string | null; click_id: string | null }>`
		select u.ord, t.code, t.staff_id, t.store_id, t.follow_up_id,
			(select k.click_id from link_clicks k
				where k.code = t.code and k.clicked_at <= u.ordered_at
				order by k.clicked_at desc, k.click_id desc limit 1) as click_id
		from unnest(
			${requests.map((r) => r.order)}::int4[], ${requests.map((r) => r.code)}::text[], ${requests.map((r) => r.orderedAt.toISOString())}::timestamptz[]
		) as u(ord, code, ordered_at)
		join tracked_links t on t.code = u.code`.execute(db);
	return rows.map((r) => ({ order: r.ord, code: r.code, staffId: r.staff_id, storeId: r.store_id, followUpId: r.follow_up_id, clickId: r.click_id ?? null }));
}

export interface AttributionWrite {
	key: OrderKey;
	customerId: string | null;
	orderedAt: Date;
	decision: AttributionDecision;
}

/** Inserts or replaces many orders' attributions (one per order key) in one statement. */
export async function upsertAttributions(db: DbOrTrx, writes: AttributionWrite[]): Promise<void> {
	if (writes.length === 0) return;
	await db
		.insertInto('attributions')
		.values(
			writes.map(({ key, customerId, orderedAt, decision: d }) => ({
				platform: key.platform,
				ec_order_id: key.ecOrderId,
				staff_id: d.staffId,
				store_id: d.storeId,
				customer_id: customerId,
				rule: d.rule,
				link_code: d.linkCode,
				click_id: d.clickId,
				follow_up_id: d.followUpId,
				status: d.status,
				ordered_at: orderedAt,
				gross_yen: d.grossYen,
				refunded_yen: d.refundedYen
			}))
		)
		.onConflict((oc) =>
			oc.columns(['platform', 'ec_order_id']).doUpdateSet((eb) => ({
				staff_id: eb.ref('excluded.staff_id'),
				store_id: eb.ref('excluded.store_id'),
				customer_id: eb.ref('excluded.customer_id'),
				rule: eb.ref('excluded.rule'),
				link_code: eb.ref('excluded.link_code'),
				click_id: eb.ref('excluded.click_id'),
				follow_up_id: eb.ref('excluded.follow_up_id'),
				status: eb.ref('excluded.status'),
				ordered_at: eb.ref('excluded.ordered_at'),
				gross_yen: eb.ref('excluded.gross_yen'),
				refunded_yen: eb.ref('excluded.refunded_yen'),
				updated_at: sql<Date>`now()`
			}))
		)
		.execute();
}

export async function deleteAttributions(db: DbOrTrx, keys: OrderKey[]): Promise<void> {
	if (keys.length === 0) return;
	await sql`
		delete from attributions a
		using unnest(${keys.map((k) => k.platform)}::text[], ${keys.map((k) => k.ecOrderId)}::text[]) as u(platform, ec_order_id)
		where a.platform = u.platform and a.ec_order_id = u.ec_order_id`.execute(db);
}

export async function findAttribution(db: DbOrTrx, platform: string, ecOrderId: string) {
	return db
		.selectFrom('attributions')
		.selectAll()
		.where('platform', '=', platform)
		.where('ec_order_id', '=', ecOrderId)
		.executeTakeFirst();
}

export interface StoredCredit {
	platform: string;
	ec_order_id: string;
	staff_id: string;
	store_id: string;
	status: 'active' | 'void';
	gross_yen: number;
	refunded_yen: number;
}

/** The stored credit of each of the given orders that has one (before a recompute changes it). */
export async function findCredits(db: DbOrTrx, keys: OrderKey[]): Promise<StoredCredit[]> {
	if (keys.length === 0) return [];
	const { rows } = await sql<StoredCredit>`
		select a.platform, a.ec_order_id, a.staff_id, a.store_id, a.status, a.gross_yen, a.refunded_yen
		from unnest(${keys.map((k) => k.platform)}::text[], ${keys.map((k) => k.ecOrderId)}::text[]) as u(platform, ec_order_id)
		join attributions a on a.platform = u.platform and a.ec_order_id = u.ec_order_id`.execute(db);
	return rows;
}

export type CreditChangeInsert = Omit<Insertable<AttributionChangesTable>, 'id' | 'changed_at'>;

/** Appends entries to the attribution ledger (never updated, never deleted). */
export async function appendCreditChanges(db: DbOrTrx, changes: CreditChangeInsert[]): Promise<void> {
	if (changes.length === 0) return;
	await db.insertInto('attribution_changes').values(changes).execute();
}

export interface CreditHistoryRow {
	ecOrderId: string;
	changedAt: Date;
	cause: AttributionChangesTable['cause'];
	via: AttributionChangesTable['via'];
	status: AttributionChangesTable['status'];
	staffId: string | null;
	netYen: number;
	previousNetYen: number | null;
}

/** Every ledger entry of the given orders (of one platform), oldest first. */
export async function findCreditHistory(db: DbOrTrx, platform: string, ecOrderIds: string[]): Promise<CreditHistoryRow[]> {
	if (ecOrderIds.length === 0) return [];
	const { rows } = await sql<CreditHistoryRow>`
		select c.ec_order_id as "ecOrderId", c.changed_at as "changedAt", c.cause, c.via, c.status,
			c.staff_id::text as "staffId", c.net_yen as "netYen", c.previous_net_yen as "previousNetYen"
		from unnest(${ecOrderIds}::text[]) as u(ec_order_id)
		join attribution_changes c on c.platform = ${platform} and c.ec_order_id = u.ec_order_id
		order by c.ec_order_id, c.id`.execute(db);
	return rows;
}

/** Merge (and its undo): moves a customer's staff credits (attributions; the credit ledger names orders, not customers) to another customer; returns the moved ids. */
export function reassignAttributions(trx: DbOrTrx, from: string, to: string, options?: ReassignOptions): Promise<string[]> {
	return reassignCustomerRows(trx, 'attributions', 'id', from, to, options);
}
