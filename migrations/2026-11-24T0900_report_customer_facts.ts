/**
 * Per-customer purchase facts for the OMO KPIs (measured: re-reading 2M purchases per request
 * took 7.7–25 s on the 1M-order benchmark). One row per customer that is not merged away, with
 * the sorted distinct JST purchase days (all / store / EC), so a customer's state at any JST
 * midnight is a binary search (width_bucket) instead of a history scan; and a histogram of the
 * gaps between consecutive purchase days for the median purchase interval.
 *
 * Changes are caught by triggers that write dirty customer ids (old and new owner of a changed
 * purchase, customers created / moved / merged); a refresh recomputes those customers only.
 * Statement-level triggers with transition tables for inserts keep bulk imports cheap (one
 * insert per statement); updates fire per row only when a column the KPIs read changed.
 */
import { sql, type Kysely } from 'kysely';
import { runStatements } from './2026-11-23T0900_schema_v1.ts';

const TABLES = `
	create table report_customer_facts (
		customer_id uuid primary key,
		home_store_id text,
		created_at timestamptz not null,
		-- scalar copies of the ends of the arrays below: most look-ups never open an array
		first_day date,
		second_day date,
		last_day date,
		first_store_day date,
		last_store_day date,
		first_ec_day date,
		last_ec_day date,
		days date[] not null default '{}',
		store_days date[] not null default '{}',
		ec_days date[] not null default '{}'
	);
	create index report_customer_facts_store_idx on report_customer_facts (home_store_id);
	-- n customers of store_id ('' = no home store) had consecutive purchase days (day - gap, day)
	create table report_purchase_gaps (
		day date not null,
		gap integer not null,
		store_id text not null,
		n integer not null,
		primary key (day, gap, store_id)
	);
	create index report_purchase_gaps_store_idx on report_purchase_gaps (store_id, day);
	create index report_purchase_gaps_zero_idx on report_purchase_gaps (day) where n = 0;
	-- customers whose facts are stale; duplicates allowed (no index: inserts stay cheap)
	create table report_customer_dirty (customer_id uuid not null)
`;

/** plpgsql bodies hold semicolons: each statement is run whole (runStatements splits on them). */
const FUNCTIONS = [
	`create function report_dirty_purchases_inserted() returns trigger language plpgsql as $$
	begin
		insert into report_customer_dirty (customer_id) select distinct customer_id from new_rows where customer_id is not null;
		return null;
	end $$`,
	`create function report_dirty_purchase_changed() returns trigger language plpgsql as $$
	begin
		if TG_OP <> 'INSERT' and old.customer_id is not null then
			insert into report_customer_dirty (customer_id) values (old.customer_id);
		end if;
		if TG_OP <> 'DELETE' and new.customer_id is not null then
			insert into report_customer_dirty (customer_id) values (new.customer_id);
		end if;
		return null;
	end $$`,
	`create function report_dirty_customers_inserted() returns trigger language plpgsql as $$
	begin
		insert into report_customer_dirty (customer_id) select id from new_rows;
		return null;
	end $$`,
	`create function report_dirty_customer_changed() returns trigger language plpgsql as $$
	begin
		insert into report_customer_dirty (customer_id) values (old.id);
		return null;
	end $$`
];

const TRIGGERS = `
	create trigger report_dirty_ins after insert on store_purchases
		referencing new table as new_rows for each statement execute function report_dirty_purchases_inserted();
	create trigger report_dirty_upd after update on store_purchases for each row
		when (old.kind is distinct from new.kind or old.customer_id is distinct from new.customer_id or old.purchased_at is distinct from new.purchased_at)
		execute function report_dirty_purchase_changed();
	create trigger report_dirty_del after delete on store_purchases for each row execute function report_dirty_purchase_changed();
	create trigger report_dirty_ins after insert on ec_orders
		referencing new table as new_rows for each statement execute function report_dirty_purchases_inserted();
	create trigger report_dirty_upd after update on ec_orders for each row
		when (old.status is distinct from new.status or old.customer_id is distinct from new.customer_id or old.ordered_at is distinct from new.ordered_at)
		execute function report_dirty_purchase_changed();
	create trigger report_dirty_del after delete on ec_orders for each row execute function report_dirty_purchase_changed();
	create trigger report_dirty_ins after insert on customers
		referencing new table as new_rows for each statement execute function report_dirty_customers_inserted();
	create trigger report_dirty_upd after update on customers for each row
		when (old.home_store_id is distinct from new.home_store_id or old.merged_into is distinct from new.merged_into or old.created_at is distinct from new.created_at)
		execute function report_dirty_customer_changed();
	create trigger report_dirty_del after delete on customers for each row execute function report_dirty_customer_changed()
`;

export async function up(db: Kysely<any>): Promise<void> {
	await runStatements(db, TABLES);
	for (const statement of FUNCTIONS) await sql.raw(statement).execute(db);
	await runStatements(db, TRIGGERS);
}

export async function down(db: Kysely<any>): Promise<void> {
	await runStatements(
		db,
		`drop trigger if exists report_dirty_ins on store_purchases;
		drop trigger if exists report_dirty_upd on store_purchases;
		drop trigger if exists report_dirty_del on store_purchases;
		drop trigger if exists report_dirty_ins on ec_orders;
		drop trigger if exists report_dirty_upd on ec_orders;
		drop trigger if exists report_dirty_del on ec_orders;
		drop trigger if exists report_dirty_ins on customers;
		drop trigger if exists report_dirty_upd on customers;
		drop trigger if exists report_dirty_del on customers;
		drop function if exists report_dirty_purchases_inserted(), report_dirty_purchase_changed(), report_dirty_customers_inserted(), report_dirty_customer_changed();
		drop table if exists report_customer_facts, report_purchase_gaps, report_customer_dirty;
		delete from report_rollup_state where name = 'customer_facts'`
	);
}
