/**
 * The POS import now also creates customers and their identities with
 * `session_replication_role = replica` when it may (resolveCustomersBatch's skipFkTriggers:
 * the batch checks and locks the stores and existing customers it points at, once, instead of
 * a foreign-key trigger per row). Replica mode skips ordinary triggers too, so the KPI
 * dirty-marker triggers on customers become ALWAYS triggers, as those on store_purchases did
 * (2026-11-24T1100): new customers still mark the KPI facts dirty.
 */
import type { Kysely } from 'kysely';
import { runStatements } from './2026-11-23T0900_schema_v1.ts';

export async function up(db: Kysely<any>): Promise<void> {
	await runStatements(
		db,
		`alter table customers enable always trigger report_dirty_ins;
		alter table customers enable always trigger report_dirty_upd;
		alter table customers enable always trigger report_dirty_del`
	);
}

export async function down(db: Kysely<any>): Promise<void> {
	await runStatements(
		db,
		`alter table customers enable trigger report_dirty_ins;
		alter table customers enable trigger report_dirty_upd;
		alter table customers enable trigger report_dirty_del`
	);
}
