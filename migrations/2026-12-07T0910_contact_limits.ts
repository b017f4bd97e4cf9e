/**
 * Contact limits (issue 11 §3), owned by the `contact` module:
 * - `contact_log`: one row per personal LINE message a staff member sends a customer — a
 *   follow-up (`counted`, it is unsolicited contact) or an answer in a conversation the customer
 *   opened (not counted). `at` is when it goes out: the compose time, or the end of the quiet
 *   hours for a scheduled one. A follow-up LINE never accepted (failed / cancelled) is released
 *   and stops counting. A manager's override keeps who and why next to the row (and in audit_log).
 *   Follow-ups already stored (queued or sent) are recorded, so the limits hold from the first day.
 * - `follow_ups.scheduled_for`: a follow-up composed during quiet hours waits for this time
 *   (its `next_attempt_at` starts there); LINE's 24 h retry window counts from it.
 * Frozen once shipped. Kysely<any> and raw SQL only.
 */
import type { Kysely } from 'kysely';
import { runStatements } from './2026-11-23T0900_schema_v1.ts';

export async function up(db: Kysely<any>): Promise<void> {
	await runStatements(
		db,
		`create table contact_log (
			id bigint generated always as identity primary key,
			customer_id uuid not null references customers(id),
			staff_id uuid not null references staff(id),
			store_id text not null references stores(id),
			channel text not null default 'line' check (channel in ('line')),
			kind text not null check (kind in ('followup', 'conversation')),
			counted boolean not null,
			follow_up_id uuid references follow_ups(id),
			at timestamptz not null,
			composed_at timestamptz not null,
			override_by uuid references staff(id),
			override_reason text,
			released_at timestamptz,
			created_at timestamptz not null default now()
		);
		create index contact_log_customer_idx on contact_log (customer_id, at desc) where released_at is null;
		create unique index contact_log_follow_up_idx on contact_log (follow_up_id) where follow_up_id is not null;
		alter table follow_ups add column scheduled_for timestamptz;
		insert into contact_log (customer_id, staff_id, store_id, kind, counted, follow_up_id, at, composed_at)
			select customer_id, staff_id, store_id, kind, kind = 'followup', id, coalesce(sent_at, created_at), created_at
			from follow_ups where status in ('queued', 'sending', 'sent')`
	);
}

export async function down(db: Kysely<any>): Promise<void> {
	await runStatements(
		db,
		`alter table follow_ups drop column if exists scheduled_for;
		drop table if exists contact_log`
	);
}
