/** Kysely queries for ec_orders, ec_order_lines and ec_refunds; no rules here. */
import { sql } from 'kysely';
import type { DbOrTrx, Trx } from '../../db/index.ts';
import type { NormalizedOrder, NormalizedOrderLine, NormalizedRefund } from './orders.types.ts';

/** Serialises every change to one order (its deliveries, refunds and hooks) across processes. */
export async function lockOrderKey(trx: Trx, platform: string, ecOrderId: string): Promise<void> {
	await sql`select pg_advisory_xact_lock(hashtext(${`ec_order:${platform}:${ecOrderId}`}))`.execute(trx);
}

export async function findOrderState(db: DbOrTrx, platform: string, ecOrderId: string) {
	return db
		.selectFrom('ec_orders')
		.select(['id', 'status', 'source_updated_at', 'customer_id'])
		.where('platform', '=', platform)
		.where('ec_order_id', '=', ecOrderId)
		.executeTakeFirst();
}

export async function upsertOrder(trx: Trx, order: NormalizedOrder, customerId: string | null): Promise<number> {
	const values = {
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
		source_updated_at: order.sourceUpdatedAt
	};
	const { platform: _p, ec_order_id: _e, ...changes } = values;
	const row = await trx
		.insertInto('ec_orders')
		.values(values)
		.onConflict((oc) => oc.columns(['platform', 'ec_order_id']).doUpdateSet({ ...changes, updated_at: sql<Date>`now()` }))
		.returning('id')
		.executeTakeFirstOrThrow();
	return row.id;
}

/**
 * Replaces an order's lines (no delete needed for an order that was just created). Each line's
 * product is matched in the same statement: by SKU first, then by the platform's product id.
 */
export async function replaceOrderLines(trx: Trx, orderId: number, lines: NormalizedOrderLine[], options: { fresh: boolean }): Promise<void> {
	if (!options.fresh) await trx.deleteFrom('ec_order_lines').where('order_id', '=', orderId).execute();
	if (lines.length === 0) return;
	await trx
		.insertInto('ec_order_lines')
		.values(
			lines.map((l, i) => ({
				order_id: orderId,
				line_no: i + 1,
				ec_line_id: l.ecLineId,
				product_id: productIdOf(l),
				sku: l.sku,
				name: l.name,
				quantity: l.quantity,
				unit_price_yen: l.unitPriceYen,
				amount_yen: l.amountYen
			}))
		)
		.execute();
}

function productIdOf(line: NormalizedOrderLine) {
	return sql<number | null>`coalesce(
		(select id from products where sku = ${line.sku}::text),
		(select id from products where ec_product_id = ${line.ecProductId}::text order by id limit 1)
	)`;
}

/** Inserts a refund once per (platform, refund id); false when it was already there. */
export async function insertRefund(db: DbOrTrx, refund: NormalizedRefund): Promise<boolean> {
	const row = await db
		.insertInto('ec_refunds')
		.values({
			platform: refund.platform,
			ec_refund_id: refund.ecRefundId,
			ec_order_id: refund.ecOrderId,
			amount_yen: refund.amountYen,
			refunded_at: refund.refundedAt
		})
		.onConflict((oc) => oc.columns(['platform', 'ec_refund_id']).doNothing())
		.returning('id')
		.executeTakeFirst();
	return row !== undefined;
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
