/**
 * EC CSV exports state an order's refunded total, not refund events. The order keeps the largest
 * total stated (`stated_refunded_yen`, when it was stated in `stated_refunded_at`), and the
 * `csv-<order id>` refund row carries only what the webhook refunds do not already cover, so a
 * refund reported by both the webhook and the export counts once. Existing `csv-` refund rows
 * were the stated totals themselves: they become the orders' stated totals.
 * Frozen once shipped. Kysely<any> and raw SQL only.
 */
import type { Kysely } from 'kysely';
import { runStatements } from './2026-11-23T0900_schema_v1.ts';

export async function up(db: Kysely<any>): Promise<void> {
	await runStatements(
		db,
		`alter table ec_orders add column stated_refunded_yen integer check (stated_refunded_yen >= 0);
		alter table ec_orders add column stated_refunded_at timestamptz;
		update ec_orders o set stated_refunded_yen = r.amount_yen, stated_refunded_at = r.refunded_at
		from ec_refunds r
		where r.platform = o.platform and r.ec_refund_id = 'csv-' || o.ec_order_id`
	);
}

export async function down(db: Kysely<any>): Promise<void> {
	await runStatements(
		db,
		`alter table ec_orders drop column if exists stated_refunded_at;
		alter table ec_orders drop column if exists stated_refunded_yen`
	);
}
