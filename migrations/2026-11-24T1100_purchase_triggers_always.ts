/**
 * The POS import writes store purchases with `session_replication_role = replica` when it may,
 * to skip the per-row foreign-key triggers (it checks and locks the referenced rows set-based
 * instead; see server/modules/ingest/pos-copy.ts): on the 1M-line benchmark those triggers
 * were about a third of the write time. Replica mode skips ordinary triggers too, so the
 * KPI dirty-marker triggers on store_purchases are made ALWAYS triggers: they fire in every
 * mode, and the import only uses replica mode when every trigger on the purchase tables does.
 */
import type { Kysely } from 'kysely';
import { runStatements } from './2026-11-23T0900_schema_v1.ts';

export async function up(db: Kysely<any>): Promise<void> {
	await runStatements(
		db,
		`alter table store_purchases enable always trigger report_dirty_ins;
		alter table store_purchases enable always trigger report_dirty_upd;
		alter table store_purchases enable always trigger report_dirty_del`
	);
}

export async function down(db: Kysely<any>): Promise<void> {
	await runStatements(
		db,
		`alter table store_purchases enable trigger report_dirty_ins;
		alter table store_purchases enable trigger report_dirty_upd;
		alter table store_purchases enable trigger report_dirty_del`
	);
}
