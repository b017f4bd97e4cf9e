/**
 * Merge suggestions with evidence (issue 16 §1):
 * - `customers.postcode`, `customers.address`: an imported home address (evidence only).
 * - `identity_match_keys`: blocking keys per customer (normalised phone, email, LINE user,
 *   name+kana+birthday, postcode+address; and `link` rows: this customer bought through a
 *   tracked link sent to the customer named in `key`). Candidates are customers sharing a key,
 *   so matching is never pairwise over all customers.
 * - `identity_match_dirty`: customers whose keys must be recomputed (written by triggers in the
 *   writer's transaction, consumed by the matcher; ALWAYS triggers, so bulk imports in replica
 *   mode mark too).
 * - `merge_suggestions`: one row per unordered pair (customer_a < customer_b), its score and
 *   evidence, and its decision (open / later / merged / rejected = not the same person, kept so
 *   the pair is never suggested again); a staff member's in-store confirmation.
 * - `customer_merges`: the merge ledger, with every moved row id and the profile fields changed,
 *   so that an admin can undo a merge within 30 days.
 * - `identity_match_runs`: the scheduled full runs.
 * Frozen once shipped. Kysely<any> and raw SQL only.
 */
import { sql, type Kysely } from 'kysely';
import { runStatements } from './2026-11-23T0900_schema_v1.ts';

const FUNCTIONS = [
	`create function identity_dirty_customers_inserted() returns trigger language plpgsql as $$
	begin
		insert into identity_match_dirty (customer_id) select id from new_rows;
		return null;
	end $$`,
	`create function identity_dirty_customer_changed() returns trigger language plpgsql as $$
	begin
		insert into identity_match_dirty (customer_id) values (new.id);
		return null;
	end $$`,
	`create function identity_dirty_identities_inserted() returns trigger language plpgsql as $$
	begin
		insert into identity_match_dirty (customer_id) select distinct customer_id from new_rows;
		return null;
	end $$`
];

export async function up(db: Kysely<any>): Promise<void> {
	await runStatements(
		db,
		`alter table customers add column postcode text, add column address text;
		create table identity_match_keys (
			customer_id uuid not null references customers(id) on delete cascade,
			kind text not null check (kind in ('phone', 'email', 'line', 'name_birthday', 'address', 'link')),
			key text not null,
			detail text,
			primary key (customer_id, kind, key)
		);
		create index identity_match_keys_key_idx on identity_match_keys (kind, key);
		create table identity_match_dirty (customer_id uuid not null);
		-- the orders hook takes the markers of its customers by id (the table can hold a bulk import's worth)
		create index identity_match_dirty_customer_idx on identity_match_dirty (customer_id);
		create table merge_suggestions (
			id uuid primary key default gen_random_uuid(),
			customer_a uuid not null references customers(id),
			customer_b uuid not null references customers(id),
			score integer not null,
			evidence jsonb not null,
			status text not null default 'open' check (status in ('open', 'later', 'merged', 'rejected')),
			staff_confirmed_by uuid references staff(id),
			staff_confirmed_at timestamptz,
			decided_by uuid references staff(id),
			decided_at timestamptz,
			created_at timestamptz not null default now(),
			updated_at timestamptz not null default now(),
			check (customer_a < customer_b),
			unique (customer_a, customer_b)
		);
		create index merge_suggestions_queue_idx on merge_suggestions (score desc, created_at) where status in ('open', 'later');
		create index merge_suggestions_b_idx on merge_suggestions (customer_b);
		create table customer_merges (
			id uuid primary key default gen_random_uuid(),
			survivor_id uuid not null references customers(id),
			merged_id uuid not null references customers(id),
			suggestion_id uuid references merge_suggestions(id),
			score integer,
			evidence jsonb not null default '[]',
			automatic boolean not null default false,
			merged_by uuid references staff(id),
			merged_at timestamptz not null default now(),
			moved jsonb not null,
			profile_changes jsonb not null,
			undone_at timestamptz,
			undone_by uuid references staff(id)
		);
		create index customer_merges_survivor_idx on customer_merges (survivor_id);
		create index customer_merges_merged_idx on customer_merges (merged_id);
		create index customer_merges_at_idx on customer_merges (merged_at desc);
		create table identity_match_runs (
			id bigint generated always as identity primary key,
			started_at timestamptz not null default now(),
			finished_at timestamptz,
			customers integer not null default 0,
			pairs integer not null default 0,
			suggestions integer not null default 0
		)`
	);
	for (const statement of FUNCTIONS) await sql.raw(statement).execute(db);
	await runStatements(
		db,
		`create trigger identity_dirty_ins after insert on customers
			referencing new table as new_rows for each statement execute function identity_dirty_customers_inserted();
		create trigger identity_dirty_upd after update on customers for each row
			when (old.family_name is distinct from new.family_name or old.given_name is distinct from new.given_name
				or old.family_kana is distinct from new.family_kana or old.given_kana is distinct from new.given_kana
				or old.birthday is distinct from new.birthday or old.email is distinct from new.email or old.phone is distinct from new.phone
				or old.line_user_id is distinct from new.line_user_id or old.postcode is distinct from new.postcode
				or old.address is distinct from new.address or old.merged_into is distinct from new.merged_into)
			execute function identity_dirty_customer_changed();
		create trigger identity_dirty_ins after insert on customer_identities
			referencing new table as new_rows for each statement execute function identity_dirty_identities_inserted();
		alter table customers enable always trigger identity_dirty_ins;
		alter table customers enable always trigger identity_dirty_upd;
		alter table customer_identities enable always trigger identity_dirty_ins`
	);
}

export async function down(db: Kysely<any>): Promise<void> {
	await runStatements(
		db,
		`drop trigger if exists identity_dirty_ins on customers;
		drop trigger if exists identity_dirty_upd on customers;
		drop trigger if exists identity_dirty_ins on customer_identities;
		drop function if exists identity_dirty_customers_inserted(), identity_dirty_customer_changed(), identity_dirty_identities_inserted();
		drop table if exists identity_match_runs, customer_merges, merge_suggestions, identity_match_dirty, identity_match_keys;
		alter table customers drop column if exists postcode, drop column if exists address`
	);
}
