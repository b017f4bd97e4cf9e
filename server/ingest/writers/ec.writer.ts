/**
 * EC order lines → order deliveries through the orders module (`orders.applyDeliveries`), the
 * same decisions and change hooks as the EC webhook: a row's order is applied only when it is new
 * or its `updated_at` is newer than what is stored, and attribution hears about every change (a
 * CSV cancel or refund voids or nets the staff credit exactly as the webhook would). The order's
 * header fields come from its first line in the batch; the stated refunded amount is a refunded
 * total, not a refund event (see NormalizedOrder.statedRefund).
 */
import type { Trx } from '../../db/index.ts';
import type { NormalizedOrder, OrderDelivery } from '../../modules/orders/orders.service.ts';
import type { EcRow } from '../row-schemas.ts';
import { emptyOutcome, type BatchOutcome, type NumberedRow, type WriterContext } from './types.ts';

export async function writeEcBatch(trx: Trx, rows: Array<NumberedRow<EcRow>>, ctx: WriterContext): Promise<BatchOutcome> {
	const outcome = emptyOutcome();
	const done = await ctx.orders.applyDeliveries(trx, ecDeliveries(rows.map((r) => r.row), ctx.platform));
	outcome.counts = { orders_written: done.ordersWritten, lines_written: done.linesWritten, customers_new: done.customersCreated };
	outcome.warnings = { unknown_sku: done.linesUnknownSku, order_without_customer_ids: done.ordersWithoutCustomer };
	return outcome;
}

/** One order delivery per order id (rows of one order are consecutive within a batch). */
export function ecDeliveries(rows: EcRow[], platform: string): OrderDelivery[] {
	const byOrder = new Map<string, EcRow[]>();
	for (const row of rows) {
		const list = byOrder.get(row.order_id);
		if (list) list.push(row);
		else byOrder.set(row.order_id, [row]);
	}
	return [...byOrder.values()].map((lines) => ({ kind: 'order', order: ecOrderOf(lines, platform) }));
}

function ecOrderOf(lines: EcRow[], platform: string): NormalizedOrder {
	const head = lines[0];
	const updatedAt = new Date(head.updated_at ?? head.ordered_at);
	return {
		platform,
		ecOrderId: head.order_id,
		orderName: head.order_name,
		customer: { ecCustomerId: head.ec_customer_id, email: head.email, phone: head.phone, familyName: null, givenName: null },
		orderedAt: new Date(head.ordered_at),
		sourceUpdatedAt: updatedAt,
		subtotalYen: lines.reduce((sum, l) => sum + l.amount_yen, 0),
		totalYen: head.total_yen,
		status: head.status,
		cancelledAt: head.status === 'cancelled' ? updatedAt : null,
		financialStatus: null,
		landingSite: null,
		refCode: null,
		noteAttributes: [],
		lines: lines.map((l) => ({
			lineNo: l.line_no,
			ecLineId: null,
			ecProductId: null,
			sku: l.sku,
			name: l.name,
			quantity: l.quantity,
			unitPriceYen: l.unit_price_yen,
			amountYen: l.amount_yen
		})),
		refunds: [],
		source: 'csv',
		statedRefund: head.refunded_yen > 0 ? { amountYen: head.refunded_yen, at: updatedAt } : null
	};
}
