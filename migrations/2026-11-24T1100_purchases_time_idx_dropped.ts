/**
 * store_purchases_time_idx (purchased_at) was added for KPIs that scanned purchases up to a
 * period end; the KPIs now read per-customer facts (2026-11-24T0900), and what still filters
 * store purchases by time alone reads most of the table, where a sequential scan wins (checked
 * with EXPLAIN: "purchases before an end" 16 ms seq scan vs 164 ms bitmap scan on 400k
 * receipts; the affinity refresh reads a year of baskets). Its upkeep was a quarter of the
 * POS import's receipt-insert time (random inserts into a fifth index), so it goes.
 */
import type { Kysely } from 'kysely';
import { runStatements } from './2026-11-23T0900_schema_v1.ts';

export async function up(db: Kysely<any>): Promise<void> {
	await runStatements(db, `drop index if exists store_purchases_time_idx`);
}

export async function down(db: Kysely<any>): Promise<void> {
	await runStatements(db, `create index if not exists store_purchases_time_idx on store_purchases (purchased_at)`);
}
