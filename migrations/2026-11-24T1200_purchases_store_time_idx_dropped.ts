/**
 * store_purchases_store_time_idx (store_id, purchased_at) serves no query of the product: store
 * purchases are read by customer (profile, member card, KPI facts: store_purchases_customer_idx),
 * by id (lines, affinities) or in whole (facts rebuild); reports by store go through customer
 * facts and rollups. Checked at benchmark size: after `npm run bench:reports` its idx_scan was 0
 * (customer_idx 25,502), and the per-store "purchases before an end" query keeps the same plan
 * without it (nested loop over the store's customers into customer_idx). Its upkeep was ~90 ms
 * of each 20k-receipt insert of the POS import (random inserts into a fourth index, ~2 s of
 * database time per 1M lines), so it goes. Deleting a store now scans its purchases (rare).
 */
import type { Kysely } from 'kysely';
import { runStatements } from './2026-11-23T0900_schema_v1.ts';

export async function up(db: Kysely<any>): Promise<void> {
	await runStatements(db, `drop index if exists store_purchases_store_time_idx`);
}

export async function down(db: Kysely<any>): Promise<void> {
	await runStatements(db, `create index if not exists store_purchases_store_time_idx on store_purchases (store_id, purchased_at)`);
}
