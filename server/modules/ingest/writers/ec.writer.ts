/**
 * EC order lines → ec_orders (one per order_id, shared with the EC webhook) + ec_order_lines,
 * and the stated refunded amount as a `csv-<order id>` refund. The order's header fields come
 * from its first line in the batch.
 */
import type { Trx } from '../../../db/index.ts';
import { resolveCustomersBatch } from '../../customers/customers.service.ts';
import { refreshEcSubtotals, upsertCsvRefunds, upsertEcOrderLines, upsertEcOrders } from '../ingest.repository.ts';
import type { EcRow } from '../row-schemas.ts';
import { emptyOutcome, type BatchOutcome, type NumberedRow, type WriterContext } from './types.ts';

export async function writeEcBatch(trx: Trx, rows: Array<NumberedRow<EcRow>>, ctx: WriterContext): Promise<BatchOutcome> {
	const outcome = emptyOutcome();
	const orders = new Map<string, EcRow>();
	for (const { row } of rows) if (!orders.has(row.order_id)) orders.set(row.order_id, row);
	const heads = [...orders.values()];
	const updatedAt = (r: EcRow) => r.updated_at ?? r.ordered_at;

	const customers = await resolveCustomersBatch(
		trx,
		heads.map((o) => ({
			identities: { ec: o.ec_customer_id, email: o.email, phone: o.phone },
			profile: { email: o.email, phone: o.phone }
		}))
	);
	const ordersWritten = await upsertEcOrders(
		trx,
		ctx.platform,
		heads.map((o, i) => ({
			ec_order_id: o.order_id,
			order_name: o.order_name,
			customer_id: customers[i]?.customerId ?? null,
			ec_customer_id: o.ec_customer_id,
			ordered_at: o.ordered_at,
			source_updated_at: updatedAt(o),
			status: o.status,
			total_yen: o.total_yen
		}))
	);
	const lines = await upsertEcOrderLines(
		trx,
		ctx.platform,
		rows.map(({ row }) => ({
			ec_order_id: row.order_id,
			source_updated_at: updatedAt(orders.get(row.order_id)!),
			line_no: row.line_no,
			sku: row.sku,
			name: row.name,
			quantity: row.quantity,
			unit_price_yen: row.unit_price_yen,
			amount_yen: row.amount_yen
		}))
	);
	await refreshEcSubtotals(trx, ctx.platform, heads.map((o) => o.order_id));
	await upsertCsvRefunds(
		trx,
		ctx.platform,
		heads.filter((o) => o.refunded_yen > 0).map((o) => ({ ec_order_id: o.order_id, amount_yen: o.refunded_yen, refunded_at: updatedAt(o) }))
	);

	outcome.counts = {
		orders_written: ordersWritten,
		lines_written: lines.written,
		customers_new: customers.filter((c) => c?.created).length
	};
	outcome.warnings = { unknown_sku: lines.unknownSku, order_without_customer_ids: customers.filter((c) => !c).length };
	return outcome;
}
