/**
 * Kysely queries for ec_orders, ec_order_lines and ec_refunds; no rules here. Every write takes
 * a whole batch of orders in one statement (the inbox applies up to a batch of deliveries per
 * transaction; a single delivery is a batch of one).
 */
import { reassignCustomerRows, type ReassignOptions } from '../../shared/reassign-customer.ts';
import { sql } from 'kysely';
import type { DbOrTrx, Trx } from '../../db/index.ts';
import type { NormalizedOrder, NormalizedOrderLine, NormalizedRefund, OrderKey } from './orders.types.ts';

/**
 * Serialises every change to one order (its deliveries, refunds and hooks) across processes.
 * Many keys are locked in one statement in a fixed (hash) order, so two batches never deadlock.
 */
export async function lockOrderKeys(trx: Trx, keys: OrderKey[]): Promise<void> {
	if (keys.length === 0) return;
	await sql`
		select count(pg_advisory_xact_lock(h)) from (
			select distinct hashtext(k) as h from unnest(${keys.map((k) => `ec_order:${k.platform}:${k.ecOrderId}`)}::text[]) as k order by 1
		) as ordered`.execute(trx);
}

export interface StoredOrderState {
	id: number;
	platform: string;
	ec_order_id: string;
	status: 'open' | 'cancelled';
	source_updated_at: Date;
	customer_id: string | null;
	source: 'webhook' | 'csv';
}

/** The stored state of each of the given orders that exists. */
export async function findOrderStates(db: DbOrTrx, keys: OrderKey[]): Promise<StoredOrderState[]> {
	if (keys.length === 0) return [];
	const { rows } = await sql<StoredOrderState>`
		select o.id, o.platform, o.ec_order_id, o.status, o.source_updated_at, o.customer_id, o.source
		from unnest(${keys.map((k) => k.platform)}::text[], ${keys.map((k) => k.ecOrderId)}::text[]) as u(platform, ec_order_id)
		join ec_orders o on o.platform = u.platform and o.ec_order_id = u.ec_order_id`.execute(db);
	return rows;
}

/**
 * Inserts or replaces the given orders (one row per order key); returns their ids. A CSV state
 * carries no ref, landing site, notes or financial status, and maybe no name or EC customer id:
 * it keeps the stored ones.
 */
export async function upsertOrders(
	trx: Trx,
	orders: Array<{ order: NormalizedOrder; customerId: string | null }>
): Promise<Array<{ id: number; platform: string; ec_order_id: string }>> {
	if (orders.length === 0) return [];
	return trx
		.insertInto('ec_orders')
		.values(
			orders.map(({ order, customerId }) => ({
				platform: order.platform,
				ec_order_id: order.ecOrderId,
				order_name: order.orderName,
				customer_id: customerId,
				ec_customer_id: order.customer.ecCustomerId,
				ordered_at: order.orderedAt,
				subtotal_yen: order.subtotalYen,
				total_yen: order.totalYen,
				status: order.status,
				financial_status: order.financialStatus,
				cancelled_at: order.cancelledAt,
				landing_site: order.landingSite,
				ref_code: order.refCode,
				note_attributes: JSON.stringify(order.noteAttributes),
				source_updated_at: order.sourceUpdatedAt,
				source: order.source ?? 'webhook'
			}))
		)
		.onConflict((oc) =>
			oc.columns(['platform', 'ec_order_id']).doUpdateSet((eb) => ({
				order_name: sql<string | null>`coalesce(excluded.order_name, ec_orders.order_name)`,
				customer_id: eb.ref('excluded.customer_id'),
				ec_customer_id: sql<string | null>`coalesce(excluded.ec_customer_id, ec_orders.ec_customer_id)`,
				ordered_at: eb.ref('excluded.ordered_at'),
				subtotal_yen: eb.ref('excluded.subtotal_yen'),
				total_yen: eb.ref('excluded.total_yen'),
				status: eb.ref('excluded.status'),
				financial_status: keptForCsv('financial_status'),
				cancelled_at: eb.ref('excluded.cancelled_at'),
				landing_site: keptForCsv('landing_site'),
				ref_code: keptForCsv('ref_code'),
				note_attributes: keptForCsv('note_attributes'),
				source_updated_at: eb.ref('excluded.source_updated_at'),
				source: eb.ref('excluded.source'),
				updated_at: sql<Date>`now()`
			}))
		)
		.returning(['id', 'platform', 'ec_order_id'])
		.execute();
}

/** A column only webhooks carry: a CSV state keeps the stored value. */
const keptForCsv = (column: 'financial_status' | 'landing_site' | 'ref_code' | 'note_attributes') =>
	sql<never>`case when excluded.source = 'csv' then ${sql.ref(`ec_orders.${column}`)} else ${sql.ref(`excluded.${column}`)} end`;

/**
 * Webhook-only fields from webhook states that lost to a newer CSV state (a CSV export may land
 * before the order's webhooks): fills in what the CSV could not carry, never overwrites it.
 * Returns the orders whose fields changed.
 */
export async function fillOrderDetails(trx: Trx, orders: NormalizedOrder[]): Promise<OrderKey[]> {
	if (orders.length === 0) return [];
	const column = <T>(pick: (o: NormalizedOrder) => T) => orders.map(pick);
	const { rows } = await sql<{ platform: string; ec_order_id: string }>`
		update ec_orders o set
			ref_code = coalesce(o.ref_code, u.ref_code),
			landing_site = coalesce(o.landing_site, u.landing_site),
			note_attributes = case when o.note_attributes = '[]'::jsonb then u.note_attributes else o.note_attributes end,
			financial_status = coalesce(o.financial_status, u.financial_status),
			updated_at = now()
		from unnest(
			${column((o) => o.platform)}::text[], ${column((o) => o.ecOrderId)}::text[], ${column((o) => o.refCode)}::text[],
			${column((o) => o.landingSite)}::text[], ${column((o) => JSON.stringify(o.noteAttributes))}::jsonb[], ${column((o) => o.financialStatus)}::text[]
		) as u(platform, ec_order_id, ref_code, landing_site, note_attributes, financial_status)
		where o.platform = u.platform and o.ec_order_id = u.ec_order_id and o.source = 'csv'
			and (o.ref_code, o.landing_site, o.note_attributes, o.financial_status) is distinct from (
				coalesce(o.ref_code, u.ref_code), coalesce(o.landing_site, u.landing_site),
				case when o.note_attributes = '[]'::jsonb then u.note_attributes else o.note_attributes end,
				coalesce(o.financial_status, u.financial_status))
		returning o.platform, o.ec_order_id`.execute(trx);
	return rows.map((r) => ({ platform: r.platform, ecOrderId: r.ec_order_id }));
}

/** The refunded total CSV exports stated per order: the largest one seen (refunds only grow). */
export async function recordStatedRefunds(trx: Trx, rows: Array<{ key: OrderKey; amountYen: number; at: Date }>): Promise<void> {
	if (rows.length === 0) return;
	await sql`
		update ec_orders o set stated_refunded_yen = u.amount, stated_refunded_at = u.at
		from unnest(
			${rows.map((r) => r.key.platform)}::text[], ${rows.map((r) => r.key.ecOrderId)}::text[],
			${rows.map((r) => r.amountYen)}::int4[], ${rows.map((r) => r.at.toISOString())}::timestamptz[]
		) as u(platform, ec_order_id, amount, at)
		where o.platform = u.platform and o.ec_order_id = u.ec_order_id
			and (o.stated_refunded_yen is null or o.stated_refunded_yen < u.amount)`.execute(trx);
}

/**
 * Keeps each order's `csv-<order id>` refund equal to what its stated total adds to the refunds
 * stored by webhook (never below 0; no row when 0), so a refund reported both ways counts once.
 * Returns the orders whose refunds changed.
 */
export async function reconcileStatedRefunds(trx: Trx, keys: OrderKey[]): Promise<OrderKey[]> {
	if (keys.length === 0) return [];
	const { rows } = await sql<{ platform: string; ec_order_id: string }>`
		with wanted as (
			select o.platform, o.ec_order_id, o.stated_refunded_at as at, 'csv-' || o.ec_order_id as refund_id,
				greatest(0, o.stated_refunded_yen - coalesce((
					select sum(r.amount_yen) from ec_refunds r
					where r.platform = o.platform and r.ec_order_id = o.ec_order_id and r.ec_refund_id <> 'csv-' || o.ec_order_id
				), 0))::int as amount
			from unnest(${keys.map((k) => k.platform)}::text[], ${keys.map((k) => k.ecOrderId)}::text[]) as u(platform, ec_order_id)
			join ec_orders o on o.platform = u.platform and o.ec_order_id = u.ec_order_id
			where o.stated_refunded_yen is not null
		), upserted as (
			insert into ec_refunds (platform, ec_refund_id, ec_order_id, amount_yen, refunded_at)
			select platform, refund_id, ec_order_id, amount, at from wanted where amount > 0
			on conflict (platform, ec_refund_id) do update set amount_yen = excluded.amount_yen
			where ec_refunds.amount_yen <> excluded.amount_yen
			returning platform, ec_order_id
		), deleted as (
			delete from ec_refunds r using wanted w
			where w.amount = 0 and r.platform = w.platform and r.ec_refund_id = w.refund_id
			returning r.platform, r.ec_order_id
		)
		select * from upserted union all select * from deleted`.execute(trx);
	return rows.map((r) => ({ platform: r.platform, ecOrderId: r.ec_order_id }));
}

/** Drops the lines of orders whose state is about to be replaced. */
export async function deleteOrderLines(trx: Trx, orderIds: number[]): Promise<void> {
	if (orderIds.length === 0) return;
	await sql`delete from ec_order_lines where order_id = any(${orderIds}::int8[])`.execute(trx);
}

/**
 * Inserts the lines of many orders as one set of arrays. Each line's product is matched in the
 * same statement: by SKU first, then by the platform's product id.
 */
export async function insertOrderLines(
	trx: Trx,
	orders: Array<{ orderId: number; lines: NormalizedOrderLine[] }>
): Promise<{ inserted: number; unknownSku: number }> {
	const rows = orders.flatMap(({ orderId, lines }) => lines.map((line, i) => ({ orderId, lineNo: line.lineNo ?? i + 1, line })));
	if (rows.length === 0) return { inserted: 0, unknownSku: 0 };
	const column = <T>(pick: (r: (typeof rows)[number]) => T) => rows.map(pick);
	const { rows: counts } = await sql<{ inserted: number; unknown_sku: number }>`
		with ins as (
		insert into ec_order_lines (order_id, line_no, ec_line_id, product_id, sku, name, quantity, unit_price_yen, amount_yen)
		select u.order_id, u.line_no, u.ec_line_id,
			coalesce(
				(select p.id from products p where p.sku = u.sku),
				(select p.id from products p where p.ec_product_id = u.ec_product_id order by p.id limit 1)
			),
			u.sku, u.name, u.quantity, u.unit_price_yen, u.amount_yen
		from unnest(
			${column((r) => r.orderId)}::int8[], ${column((r) => r.lineNo)}::int4[], ${column((r) => r.line.ecLineId)}::text[],
			${column((r) => r.line.sku)}::text[], ${column((r) => r.line.ecProductId)}::text[], ${column((r) => r.line.name)}::text[],
			${column((r) => r.line.quantity)}::int4[], ${column((r) => r.line.unitPriceYen)}::int4[], ${column((r) => r.line.amountYen)}::int4[]
		) as u(order_id, line_no, ec_line_id, sku, ec_product_id, name, quantity, unit_price_yen, amount_yen)
		returning product_id, sku
		)
		select count(*)::int as inserted, count(*) filter (where product_id is null and sku is not null)::int as unknown_sku from ins`.execute(trx);
	return { inserted: counts[0].inserted, unknownSku: counts[0].unknown_sku };
}

/**
 * Inserts refunds once per (platform, refund id); returns the refund ids that were new. The
 * caller passes each refund once (a statement must not carry the same key twice).
 */
export async function insertRefunds(db: DbOrTrx, refunds: NormalizedRefund[]): Promise<Array<{ platform: string; ec_refund_id: string }>> {
	if (refunds.length === 0) return [];
	return db
		.insertInto('ec_refunds')
		.values(
			refunds.map((refund) => ({
				platform: refund.platform,
				ec_refund_id: refund.ecRefundId,
				ec_order_id: refund.ecOrderId,
				amount_yen: refund.amountYen,
				refunded_at: refund.refundedAt
			}))
		)
		.onConflict((oc) => oc.columns(['platform', 'ec_refund_id']).doNothing())
		.returning(['platform', 'ec_refund_id'])
		.execute();
}

export async function findOrderTotals(db: DbOrTrx, platform: string, ecOrderId: string) {
	return db
		.selectFrom('ec_orders')
		.select((eb) => [
			'ec_orders.total_yen',
			'ec_orders.status',
			eb
				.selectFrom('ec_refunds')
				.select(sql<number>`coalesce(sum(ec_refunds.amount_yen), 0)::int`.as('refunded'))
				.whereRef('ec_refunds.platform', '=', 'ec_orders.platform')
				.whereRef('ec_refunds.ec_order_id', '=', 'ec_orders.ec_order_id')
				.as('refunded_yen')
		])
		.where('ec_orders.platform', '=', platform)
		.where('ec_orders.ec_order_id', '=', ecOrderId)
		.executeTakeFirst();
}

/**
 * Erasure: orders keep their amounts, lines and staff credit (and the ref code notes attribution
 * reads); the platform's customer id and every other note go.
 */
export async function eraseOrdersOf(trx: Trx, customerId: string): Promise<void> {
	await trx
		.updateTable('ec_orders')
		.set({
			ec_customer_id: null,
			note_attributes: sql`coalesce((select jsonb_agg(e) from jsonb_array_elements(note_attributes) e where e->>'name' ilike '%ref%'), '[]'::jsonb)`
		})
		.where('customer_id', '=', customerId)
		.execute();
}

/** Merge (and its undo): moves a customer's EC orders (ec_orders) to another customer; returns the moved ids. */
export function reassignEcOrders(trx: DbOrTrx, from: string, to: string, options?: ReassignOptions): Promise<string[]> {
	return reassignCustomerRows(trx, 'ec_orders', 'id', from, to, options);
}
