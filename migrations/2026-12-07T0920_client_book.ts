/**
 * Client book (担当顧客, issue 11 §1):
 * - `customer_owner_changes`: every change of `customers.owner_staff_id` — who (actor, NULL = the
 *   system: first contact, store sale, demo seed), when, from, to and why. Append-only: a trigger
 *   refuses UPDATE and DELETE.
 * - `customer_owner_proposals`: "this staff member served this unowned customer first" when the
 *   brand setting `clientBook.firstContactOwner` is 'propose'; accepted by claiming.
 * - the book's indexes: a staff member's book (owner, id) and a store book (home store, id) over
 *   customers that are not merged away, so a book is read without touching other customers.
 * Frozen once shipped. Kysely<any> and raw SQL only.
 */
import { sql, type Kysely } from 'kysely';
import { runStatements } from './2026-11-23T0900_schema_v1.ts';

export async function up(db: Kysely<any>): Promise<void> {
	await runStatements(
		db,
		`create table customer_owner_changes (
			id bigint generated always as identity primary key,
			at timestamptz not null default now(),
			customer_id uuid not null references customers(id),
			from_staff_id uuid references staff(id),
			to_staff_id uuid references staff(id),
			actor_staff_id uuid references staff(id),
			reason text not null check (reason in ('claim', 'assign', 'handover', 'deactivation', 'first_contact', 'store_sale', 'seed')),
			note text check (char_length(note) <= 500),
			batch_id uuid
		);
		create index customer_owner_changes_customer_idx on customer_owner_changes (customer_id, at desc);
		create index customer_owner_changes_from_idx on customer_owner_changes (from_staff_id, at desc) where from_staff_id is not null;
		create index customer_owner_changes_to_idx on customer_owner_changes (to_staff_id, at desc) where to_staff_id is not null;
		create table customer_owner_proposals (
			customer_id uuid not null references customers(id),
			staff_id uuid not null references staff(id),
			source text not null check (source in ('consultation', 'store_sale')),
			created_at timestamptz not null default now(),
			primary key (customer_id, staff_id)
		);
		create index customer_owner_proposals_staff_idx on customer_owner_proposals (staff_id, created_at desc);
		create index customers_owner_book_idx on customers (owner_staff_id, id) where owner_staff_id is not null and merged_into is null;
		create index customers_store_book_idx on customers (home_store_id, id) where owner_staff_id is null and merged_into is null`
	);
	await sql
		.raw(
			`create function customer_owner_changes_append_only() returns trigger language plpgsql as $$
			begin
				raise exception 'customer_owner_changes is append-only';
			end $$`
		)
		.execute(db);
	await runStatements(
		db,
		`create trigger customer_owner_changes_append_only before update or delete on customer_owner_changes
			for each row execute function customer_owner_changes_append_only()`
	);
}

export async function down(db: Kysely<any>): Promise<void> {
	await runStatements(
		db,
		`drop table if exists customer_owner_proposals;
		drop table if exists customer_owner_changes;
		drop function if exists customer_owner_changes_append_only();
		drop index if exists customers_owner_book_idx;
		drop index if exists customers_store_book_idx`
	);
}
