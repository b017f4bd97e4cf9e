/**
 * Staff tablet: product co-purchase affinities (precomputed so the profile stays cheap),
 * signed-out session ids, and prefix/store indexes for search and "today's customers".
 */
import type { Kysely } from 'kysely';
import { runStatements } from './2026-11-23T0900_schema_v1.ts';

const UP = `
	-- "bought together" counts, refreshed daily from the brand's own baskets; top N per product
	create table product_affinities (
		product_id bigint not null references products(id),
		other_product_id bigint not null references products(id),
		score integer not null,
		refreshed_at timestamptz not null default now(),
		primary key (product_id, other_product_id)
	);

	-- session tokens are stateless JWTs; sign-out records the token id until it would expire anyway
	create table staff_session_revocations (
		jti uuid primary key,
		expires_at timestamptz not null
	);
	create index staff_session_revocations_expires_idx on staff_session_revocations (expires_at);

	-- name prefix search (trigram is not available on PGlite: prefix indexes instead)
	create index customers_family_name_idx on customers (family_name text_pattern_ops);
	create index products_name_idx on products (name text_pattern_ops);
	create index products_sku_pattern_idx on products (sku text_pattern_ops);

	-- today's customers at a store: next actions due and recent consultations
	create index consultations_store_due_idx on consultations (store_id, next_action_due) where next_action_due is not null;
	create index consultations_store_time_idx on consultations (store_id, occurred_at desc);
	create index consultations_member_no_idx on consultations (member_no) where customer_id is null
`;

export async function up(db: Kysely<any>): Promise<void> {
	await runStatements(db, UP);
}

export async function down(db: Kysely<any>): Promise<void> {
	await runStatements(
		db,
		`drop index if exists consultations_member_no_idx;
		drop index if exists consultations_store_time_idx;
		drop index if exists consultations_store_due_idx;
		drop index if exists products_sku_pattern_idx;
		drop index if exists products_name_idx;
		drop index if exists customers_family_name_idx;
		drop table if exists staff_session_revocations;
		drop table if exists product_affinities`
	);
}
