/**
 * Two-way LINE conversations (issue 12):
 * - `conversations`: one per LINE user (member or not yet), routed to a staff member, a store
 *   queue (staff NULL, store set) or the brand queue (both NULL); 要対応 (open) / 対応済み (done).
 * - `conversation_messages`: every inbound LINE message (any type, with its reply token, the
 *   token's event time and whether it was used, and the mark-as-read token) and every staff
 *   answer (reply = free, push = counted through the follow-up outbox).
 * - `conversation_handovers`: who handed a conversation to whom, with a note.
 * - `line_quota_snapshots`: LINE's monthly quota and consumption, polled on a schedule.
 * - `follow_ups.kind`: a conversation push goes through the same outbox as a follow-up (same
 *   fixed X-Line-Retry-Key) but is a service reply: no marketing consent, no contact limits.
 * Frozen once shipped. Kysely<any> and raw SQL only.
 */
import type { Kysely } from 'kysely';
import { runStatements } from './2026-11-23T0900_schema_v1.ts';

export async function up(db: Kysely<any>): Promise<void> {
	await runStatements(
		db,
		`create table conversations (
			id uuid primary key default gen_random_uuid(),
			line_user_id text not null unique,
			customer_id uuid references customers(id),
			display_name text,
			assigned_staff_id uuid references staff(id),
			store_id text references stores(id),
			status text not null default 'open' check (status in ('open', 'done')),
			unread_count integer not null default 0,
			last_message_at timestamptz,
			last_message_preview text,
			last_inbound_at timestamptz,
			created_at timestamptz not null default now(),
			updated_at timestamptz not null default now()
		);
		create index conversations_staff_idx on conversations (assigned_staff_id, (unread_count > 0) desc, last_message_at desc nulls last) where assigned_staff_id is not null;
		create index conversations_store_idx on conversations (store_id, (unread_count > 0) desc, last_message_at desc nulls last);
		create index conversations_queue_idx on conversations (store_id, (unread_count > 0) desc, last_message_at desc nulls last) where assigned_staff_id is null;
		create index conversations_customer_idx on conversations (customer_id) where customer_id is not null;
		create table conversation_messages (
			id bigint generated always as identity primary key,
			conversation_id uuid not null references conversations(id),
			direction text not null check (direction in ('in', 'out')),
			kind text not null,
			text text not null,
			details jsonb,
			webhook_event_id text unique,
			reply_token text,
			reply_token_at timestamptz,
			reply_token_used_at timestamptz,
			mark_as_read_token text,
			read_marked_at timestamptz,
			client_id uuid unique,
			staff_id uuid references staff(id),
			store_id text references stores(id),
			delivery text check (delivery in ('reply', 'push')),
			state text check (state in ('sending', 'sent', 'queued', 'failed', 'refused')),
			follow_up_id uuid references follow_ups(id),
			failure_reason text,
			messages jsonb,
			occurred_at timestamptz not null,
			created_at timestamptz not null default now()
		);
		create index conversation_messages_conv_idx on conversation_messages (conversation_id, occurred_at desc, id desc);
		create index conversation_messages_staff_out_idx on conversation_messages (staff_id, occurred_at) where direction = 'out';
		create index conversation_messages_open_token_idx on conversation_messages (conversation_id, reply_token_at desc) where reply_token is not null and reply_token_used_at is null;
		create table conversation_handovers (
			id bigint generated always as identity primary key,
			conversation_id uuid not null references conversations(id),
			from_staff_id uuid not null references staff(id),
			to_staff_id uuid references staff(id),
			to_store_id text references stores(id),
			note text not null default '',
			created_at timestamptz not null default now()
		);
		create index conversation_handovers_conv_idx on conversation_handovers (conversation_id, created_at desc);
		create table line_quota_snapshots (
			id bigint generated always as identity primary key,
			taken_at timestamptz not null default now(),
			plan_type text not null,
			plan_limit integer,
			total_usage integer not null
		);
		alter table follow_ups add column kind text not null default 'followup' check (kind in ('followup', 'conversation'))`
	);
}

export async function down(db: Kysely<any>): Promise<void> {
	await runStatements(
		db,
		`alter table follow_ups drop column if exists kind;
		drop table if exists line_quota_snapshots;
		drop table if exists conversation_handovers;
		drop table if exists conversation_messages;
		drop table if exists conversations`
	);
}
