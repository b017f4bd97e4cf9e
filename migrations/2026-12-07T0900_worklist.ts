/**
 * Today's list (今日の連絡): worklist items, the idempotency record of their state changes,
 * manager campaigns and the build bookkeeping (which store was built when).
 *
 * - One item per occasion: (customer_id, reason, occasion) is unique, so a rebuild never doubles
 *   an item and a done/dismissed item is not re-created for the same occasion.
 * - staff_id NULL = the store book of store_id (every staff member of that store sees it).
 * - worklist_state_changes keeps the client id of every state change: a replay from the outbox,
 *   or the same item completed from two tablets, gives one result.
 * Frozen once shipped. Kysely<any> and raw SQL only.
 */
import type { Kysely } from 'kysely';
import { runStatements } from './2026-11-23T0900_schema_v1.ts';

export async function up(db: Kysely<any>): Promise<void> {
	await runStatements(
		db,
		`create table worklist_campaigns (
			id uuid primary key default gen_random_uuid(),
			store_id text references stores(id),
			name text not null check (char_length(name) between 1 and 80),
			template_key text,
			message text not null default '',
			segment jsonb not null default '{}'::jsonb,
			starts_on date not null,
			due_on date not null check (due_on >= starts_on),
			items integer not null default 0,
			created_by uuid not null references staff(id),
			created_at timestamptz not null default now(),
			updated_at timestamptz not null default now(),
			archived_at timestamptz
		);
		create table worklist_items (
			id uuid primary key default gen_random_uuid(),
			customer_id uuid not null references customers(id),
			store_id text not null references stores(id),
			staff_id uuid references staff(id),
			reason text not null check (reason in ('next_action', 'birthday', 'second_purchase', 'thank_you', 'dormancy_risk', 'cross_channel', 'campaign')),
			occasion text not null,
			facts jsonb not null default '{}'::jsonb,
			visible_from date not null,
			due_on date not null,
			expires_on date,
			state text not null default 'open' check (state in ('open', 'done', 'snoozed', 'dismissed')),
			snoozed_until date,
			dismiss_reason text,
			source_consultation_id uuid,
			source_purchase_id bigint,
			campaign_id uuid references worklist_campaigns(id),
			done_by uuid references staff(id),
			done_at timestamptz,
			done_via text check (done_via in ('manual', 'followup', 'consultation')),
			done_source_id text,
			state_changed_by uuid references staff(id),
			state_changed_at timestamptz,
			created_at timestamptz not null default now(),
			unique (customer_id, reason, occasion)
		);
		create index worklist_items_staff_open_idx on worklist_items (staff_id, due_on) where state in ('open', 'snoozed') and staff_id is not null;
		create index worklist_items_book_open_idx on worklist_items (store_id, due_on) where state in ('open', 'snoozed') and staff_id is null;
		create index worklist_items_customer_open_idx on worklist_items (customer_id) where state in ('open', 'snoozed');
		create index worklist_items_due_idx on worklist_items (store_id, due_on);
		create index worklist_items_campaign_idx on worklist_items (campaign_id) where campaign_id is not null;
		create index worklist_items_consultation_idx on worklist_items (source_consultation_id) where source_consultation_id is not null;
		create table worklist_state_changes (
			client_id uuid primary key,
			item_id uuid not null references worklist_items(id),
			staff_id uuid not null references staff(id),
			state text not null,
			snoozed_until date,
			dismiss_reason text,
			applied boolean not null,
			created_at timestamptz not null default now()
		);
		create table worklist_builds (
			store_id text primary key references stores(id),
			built_on date not null,
			built_at timestamptz not null default now(),
			items_created integer not null default 0
		);
		-- read by the next-action rule (an index on the consultations table, no writer)
		create index consultations_next_action_idx on consultations (next_action_due) where next_action is not null`
	);
}

export async function down(db: Kysely<any>): Promise<void> {
	await runStatements(
		db,
		`drop index if exists consultations_next_action_idx;
		drop table if exists worklist_builds;
		drop table if exists worklist_state_changes;
		drop table if exists worklist_items;
		drop table if exists worklist_campaigns`
	);
}
