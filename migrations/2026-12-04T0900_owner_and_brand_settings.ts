/**
 * Two things several features build on, added together so they share one definition:
 * - `customers.owner_staff_id`: the customer's 担当 (primary staff owner); NULL means the
 *   customer is in the store book of `home_store_id`.
 * - `brand_settings`: one row per setting key, JSON value, who changed it last. Typed defaults
 *   live in the settings module; a missing row means "the default".
 * Frozen once shipped. Kysely<any> and raw SQL only.
 */
import type { Kysely } from 'kysely';
import { runStatements } from './2026-11-23T0900_schema_v1.ts';

export async function up(db: Kysely<any>): Promise<void> {
	await runStatements(
		db,
		`alter table customers add column owner_staff_id uuid references staff(id);
		create index customers_owner_idx on customers (owner_staff_id) where owner_staff_id is not null;
		create table brand_settings (
			key text primary key,
			value jsonb not null,
			updated_at timestamptz not null default now(),
			updated_by uuid references staff(id)
		)`
	);
}

export async function down(db: Kysely<any>): Promise<void> {
	await runStatements(
		db,
		`drop table if exists brand_settings;
		drop index if exists customers_owner_idx;
		alter table customers drop column if exists owner_staff_id`
	);
}
