/**
 * The name, kana, phone and LINE id indexes of customers leave out rows where the column is
 * NULL. Most customers an import or a shop order creates have no name, kana or LINE id yet
 * (and many no phone), and every insert still wrote a NULL entry into each of those indexes:
 * four index inserts per new customer that no query reads. Every query that uses them filters
 * the column with a strict operator (kana/name prefix LIKE, right(phone, 4) = …, line_user_id
 * = …), which implies NOT NULL, so the planner keeps using them (checked with EXPLAIN). LINE
 * ids stay unique: NULLs never conflicted anyway.
 */
import type { Kysely } from 'kysely';
import { runStatements } from './2026-11-23T0900_schema_v1.ts';

export async function up(db: Kysely<any>): Promise<void> {
	await runStatements(
		db,
		`drop index if exists customers_kana_idx;
		create index customers_kana_idx on customers (family_kana text_pattern_ops, given_kana) where family_kana is not null;
		drop index if exists customers_family_name_idx;
		create index customers_family_name_idx on customers (family_name text_pattern_ops) where family_name is not null;
		drop index if exists customers_phone_last4_idx;
		create index customers_phone_last4_idx on customers (right(phone, 4)) where phone is not null;
		alter table customers drop constraint customers_line_user_id_key;
		create unique index customers_line_user_id_key on customers (line_user_id) where line_user_id is not null`
	);
}

export async function down(db: Kysely<any>): Promise<void> {
	await runStatements(
		db,
		`drop index if exists customers_kana_idx;
		create index customers_kana_idx on customers (family_kana text_pattern_ops, given_kana);
		drop index if exists customers_family_name_idx;
		create index customers_family_name_idx on customers (family_name text_pattern_ops);
		drop index if exists customers_phone_last4_idx;
		create index customers_phone_last4_idx on customers (right(phone, 4));
		drop index if exists customers_line_user_id_key;
		alter table customers add constraint customers_line_user_id_key unique (line_user_id)`
	);
}
