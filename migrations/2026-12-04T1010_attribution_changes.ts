/**
 * The attribution ledger: every change of an order's staff credit is appended here with its
 * cause, so credit is never replaced or removed without a trace (incentive pay reads it).
 * `net_yen` is the credit after the change (0 when void or no longer attributed),
 * `previous_net_yen` the credit before it (null for the first entry). The existing attributions
 * are backfilled as one 'backfill' entry each.
 * Frozen once shipped. Kysely<any> and raw SQL only.
 */
import type { Kysely } from 'kysely';
import { runStatements } from './2026-11-23T0900_schema_v1.ts';

export async function up(db: Kysely<any>): Promise<void> {
	await runStatements(
		db,
		`create table attribution_changes (
			id bigint generated always as identity primary key,
			platform text not null,
			ec_order_id text not null,
			staff_id uuid references staff(id),
			store_id text references stores(id),
			status text not null check (status in ('active', 'void', 'none')),
			gross_yen integer not null,
			refunded_yen integer not null,
			net_yen integer not null,
			previous_staff_id uuid references staff(id),
			previous_net_yen integer,
			cause text not null check (cause in ('created', 'updated', 'refunded', 'cancelled', 'reattributed', 'backfill')),
			via text not null check (via in ('webhook', 'csv', 'merge', 'backfill')),
			changed_at timestamptz not null default now()
		);
		create index attribution_changes_order_idx on attribution_changes (platform, ec_order_id, id);
		insert into attribution_changes (platform, ec_order_id, staff_id, store_id, status, gross_yen, refunded_yen, net_yen,
			previous_staff_id, previous_net_yen, cause, via, changed_at)
		select platform, ec_order_id, staff_id, store_id, status, gross_yen, refunded_yen,
			case when status = 'active' then greatest(0, gross_yen - refunded_yen) else 0 end,
			null, null, 'backfill', 'backfill', updated_at
		from attributions
		order by id`
	);
}

export async function down(db: Kysely<any>): Promise<void> {
	await runStatements(db, `drop table if exists attribution_changes`);
}
