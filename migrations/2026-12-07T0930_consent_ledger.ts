/**
 * Consent and the customer's own controls (issue 16 §2, §3):
 * - `consent_events`: the append-only consent ledger. One row per decision: which purpose
 *   (membership, purchase-history linking, personal messages from staff), granted or withdrawn,
 *   under which terms version, through which channel (the LIFF card, a staff tablet with the
 *   staff member's id, or the system when a member leaves). UPDATE and DELETE are refused by a
 *   trigger; the current consent is the latest row per (customer, purpose).
 * - `privacy_requests`: disclosure (開示) and erasure (消去) requests with their due dates; an
 *   erasure is carried out by the privacy worker once `due_at` (the brand's grace period) passes.
 *   `client_id` makes a request sent twice (an offline withdrawal replayed) count once.
 * - `customers.birth_month_day`: 'MM-DD' when a member gives month and day without the year.
 * - `customers.erased_at`: set when the person's data was erased (the row stays, without identity,
 *   so sales and attribution stay true).
 * No backfill: a customer without ledger rows keeps what the brand imported
 * (customers.consent_messages; history linked) until they decide on the card or in the store.
 * Frozen once shipped. Kysely<any> and raw SQL only.
 */
import type { Kysely } from 'kysely';
import { runStatements } from './2026-11-23T0900_schema_v1.ts';

export async function up(db: Kysely<any>): Promise<void> {
	await runStatements(
		db,
		`create table consent_events (
			id bigint generated always as identity primary key,
			customer_id uuid not null references customers(id),
			purpose text not null check (purpose in ('membership', 'purchase_linking', 'staff_messages')),
			granted boolean not null,
			terms_version text not null,
			channel text not null check (channel in ('liff', 'tablet', 'system', 'import')),
			staff_id uuid references staff(id),
			client_id uuid,
			at timestamptz not null default now(),
			check (channel <> 'tablet' or staff_id is not null)
		);
		create index consent_events_current_idx on consent_events (customer_id, purpose, id desc);
		create unique index consent_events_client_idx on consent_events (customer_id, client_id, purpose) where client_id is not null;
		create function consent_events_append_only() returns trigger language plpgsql as $$ begin raise exception 'consent_events is append-only'; end $$;
		create trigger consent_events_no_change before update or delete on consent_events
			for each row execute function consent_events_append_only();
		create table privacy_requests (
			id uuid primary key default gen_random_uuid(),
			customer_id uuid not null references customers(id),
			kind text not null check (kind in ('disclosure', 'erasure')),
			channel text not null check (channel in ('liff', 'tablet')),
			staff_id uuid references staff(id),
			client_id uuid unique,
			requested_at timestamptz not null default now(),
			due_at timestamptz not null,
			status text not null default 'pending' check (status in ('pending', 'done', 'cancelled')),
			completed_at timestamptz,
			attempts integer not null default 0,
			next_attempt_at timestamptz not null default now(),
			last_error text
		);
		create index privacy_requests_due_idx on privacy_requests (due_at) where status = 'pending';
		create unique index privacy_requests_one_erasure_idx on privacy_requests (customer_id) where kind = 'erasure' and status = 'pending';
		alter table customers add column birth_month_day text check (birth_month_day ~ '^[01][0-9]-[0-3][0-9]$');
		alter table customers add column erased_at timestamptz`
	);
}
