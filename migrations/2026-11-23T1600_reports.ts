/**
 * Manager reports: indexes for the report queries (measured first: direct queries over
 * attributions/follow-ups meet the budget, so no rollup table yet — see README "Manager reports").
 */
import type { Kysely } from 'kysely';
import { runStatements } from './2026-11-23T0900_schema_v1.ts';

const UP = `
	-- brand-wide sales over a period (admins); per-staff and per-store use the v1 indexes
	create index attributions_ordered_at_idx on attributions (ordered_at) include (staff_id, store_id, gross_yen, refunded_yen) where status = 'active';
	-- funnel: follow-ups of a cohort, the orders they led to
	create index follow_ups_created_idx on follow_ups (created_at);
	create index follow_ups_store_created_idx on follow_ups (store_id, created_at);
	create index attributions_follow_up_idx on attributions (follow_up_id) where follow_up_id is not null;
	-- KPIs scan purchases up to the period end
	create index store_purchases_time_idx on store_purchases (purchased_at)
`;

export async function up(db: Kysely<any>): Promise<void> {
	await runStatements(db, UP);
}

export async function down(db: Kysely<any>): Promise<void> {
	await runStatements(
		db,
		`drop index if exists attributions_ordered_at_idx;
		drop index if exists follow_ups_created_idx;
		drop index if exists follow_ups_store_created_idx;
		drop index if exists attributions_follow_up_idx;
		drop index if exists store_purchases_time_idx`
	);
}
