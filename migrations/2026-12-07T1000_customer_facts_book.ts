/**
 * The client book's page read every book customer's purchases per request (248 ms p95 for
 * books of 500 at 100k customers): the per-customer facts of the reports now also carry what a
 * book row shows and filters on — sale counts per channel, LTV in yen (store receipts of every
 * kind + EC orders not cancelled − EC refunds) and the last purchase instants per channel —
 * maintained by the same refresh as the rest of the facts.
 *
 * LTV also moves with amounts, so the update triggers now fire when total_yen changes, and EC
 * refunds mark their order's customer dirty. Existing rows are recomputed on the next refresh:
 * the facts are marked unbuilt (report_rollup_state), which makes it a full rebuild.
 */
import { sql, type Kysely } from 'kysely';
import { runStatements } from './2026-11-23T0900_schema_v1.ts';

const REFUND_FUNCTION = `create function report_dirty_refunds_changed() returns trigger language plpgsql as $$
	begin
		if TG_OP <> 'INSERT' then
			insert into report_customer_dirty (customer_id)
			select o.customer_id from ec_orders o where o.platform = old.platform and o.ec_order_id = old.ec_order_id and o.customer_id is not null;
		end if;
		if TG_OP <> 'DELETE' then
			insert into report_customer_dirty (customer_id)
			select o.customer_id from ec_orders o where o.platform = new.platform and o.ec_order_id = new.ec_order_id and o.customer_id is not null;
		end if;
		return null;
	end $$`;

export async function up(db: Kysely<any>): Promise<void> {
	await runStatements(
		db,
		`alter table report_customer_facts
			add column store_sales integer not null default 0,
			add column ec_orders integer not null default 0,
			add column ltv_yen bigint not null default 0,
			add column last_store_at timestamptz,
			add column last_ec_at timestamptz;
		drop trigger report_dirty_upd on store_purchases;
		create trigger report_dirty_upd after update on store_purchases for each row
			when (old.kind is distinct from new.kind or old.customer_id is distinct from new.customer_id
				or old.purchased_at is distinct from new.purchased_at or old.total_yen is distinct from new.total_yen)
			execute function report_dirty_purchase_changed();
		alter table store_purchases enable always trigger report_dirty_upd;
		drop trigger report_dirty_upd on ec_orders;
		create trigger report_dirty_upd after update on ec_orders for each row
			when (old.status is distinct from new.status or old.customer_id is distinct from new.customer_id
				or old.ordered_at is distinct from new.ordered_at or old.total_yen is distinct from new.total_yen)
			execute function report_dirty_purchase_changed();
		delete from report_rollup_state where name = 'customer_facts'`
	);
	await sql.raw(REFUND_FUNCTION).execute(db);
	await runStatements(
		db,
		`create trigger report_dirty_refunds after insert or update or delete on ec_refunds for each row execute function report_dirty_refunds_changed();
		alter table ec_refunds enable always trigger report_dirty_refunds`
	);
}

export async function down(db: Kysely<any>): Promise<void> {
	await runStatements(
		db,
		`drop trigger if exists report_dirty_refunds on ec_refunds;
		drop function if exists report_dirty_refunds_changed();
		drop trigger report_dirty_upd on store_purchases;
		create trigger report_dirty_upd after update on store_purchases for each row
			when (old.kind is distinct from new.kind or old.customer_id is distinct from new.customer_id or old.purchased_at is distinct from new.purchased_at)
			execute function report_dirty_purchase_changed();
		alter table store_purchases enable always trigger report_dirty_upd;
		drop trigger report_dirty_upd on ec_orders;
		create trigger report_dirty_upd after update on ec_orders for each row
			when (old.status is distinct from new.status or old.customer_id is distinct from new.customer_id or old.ordered_at is distinct from new.ordered_at)
			execute function report_dirty_purchase_changed();
		alter table report_customer_facts drop column store_sales, drop column ec_orders, drop column ltv_yen,
			drop column last_store_at, drop column last_ec_at`
	);
}
