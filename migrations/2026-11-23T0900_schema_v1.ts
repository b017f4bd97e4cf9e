/**
 * Schema v1. Frozen: never edit after it has shipped; add a new migration instead.
 * Migrations use Kysely<any> and raw SQL only — they must not import application code.
 *
 * Conventions: money is integer yen (`*_yen integer`); vendor ids are text; timestamps are
 * timestamptz; our own high-volume rows use bigint identities, records that clients create
 * offline use client-generated uuids.
 */
import { sql, type Kysely } from 'kysely';

const SCHEMA = `
	create table stores (
		id text primary key,
		name text not null,
		name_en text not null,
		created_at timestamptz not null default now()
	);

	create table staff (
		id uuid primary key default gen_random_uuid(),
		staff_code text not null unique,
		display_name text not null,
		-- LINE sender name (<= 20 chars by LINE's rule) and icon (HTTPS PNG)
		sender_name text not null check (char_length(sender_name) between 1 and 20),
		sender_icon_url text,
		role text not null check (role in ('staff', 'manager', 'admin')),
		home_store_id text references stores(id),
		pin_hash text,
		failed_pin_attempts integer not null default 0,
		pin_locked_until timestamptz,
		active boolean not null default true,
		created_at timestamptz not null default now()
	);

	create table devices (
		id uuid primary key default gen_random_uuid(),
		store_id text not null references stores(id),
		name text not null,
		secret_hash text not null,
		enrolled_by uuid references staff(id),
		enrolled_at timestamptz not null default now(),
		last_seen_at timestamptz,
		revoked_at timestamptz
	);

	-- member numbers: 10 digits, handed out in order (imports may bring their own)
	create sequence member_no_seq start with 1000000001;

	create table customers (
		id uuid primary key default gen_random_uuid(),
		member_no text not null unique,
		family_name text,
		given_name text,
		family_kana text,
		given_kana text,
		birthday date,
		email text,
		phone text,
		home_store_id text references stores(id),
		consent_terms_at timestamptz,
		consent_messages boolean not null default false,
		consent_messages_at timestamptz,
		line_user_id text unique,
		-- LINE reachability: friend of the official account and not blocked
		line_friend boolean not null default false,
		line_blocked_at timestamptz,
		-- when two records are merged the loser points at the survivor and keeps its history
		merged_into uuid references customers(id),
		created_at timestamptz not null default now(),
		updated_at timestamptz not null default now()
	);
	create index customers_kana_idx on customers (family_kana text_pattern_ops, given_kana);
	create index customers_phone_last4_idx on customers (right(phone, 4));
	create index customers_merged_into_idx on customers (merged_into) where merged_into is not null;

	-- one customer, many ids: LINE user id, EC customer id, email, phone, POS customer code
	create table customer_identities (
		id bigint generated always as identity primary key,
		customer_id uuid not null references customers(id),
		kind text not null check (kind in ('line', 'ec', 'email', 'phone', 'pos')),
		value text not null,
		created_at timestamptz not null default now(),
		unique (kind, value)
	);
	create index customer_identities_customer_idx on customer_identities (customer_id);

	create table products (
		id bigint generated always as identity primary key,
		sku text not null unique,
		jan text,
		name text not null,
		category text not null,
		price_yen integer not null check (price_yen >= 0),
		ec_product_id text,
		ec_url text,
		image_url text,
		active boolean not null default true,
		created_at timestamptz not null default now(),
		updated_at timestamptz not null default now()
	);
	create index products_jan_idx on products (jan) where jan is not null;
	create index products_category_idx on products (category);

	-- store purchases (POS): one row per receipt, lines below
	create table store_purchases (
		id bigint generated always as identity primary key,
		pos_txn_id text not null unique,
		store_id text not null references stores(id),
		customer_id uuid references customers(id),
		staff_id uuid references staff(id),
		purchased_at timestamptz not null,
		total_yen integer not null,
		-- negative lines / returns are kept as their own receipts with kind 'return'
		kind text not null default 'sale' check (kind in ('sale', 'return')),
		source text not null default 'csv',
		created_at timestamptz not null default now()
	);
	create index store_purchases_customer_idx on store_purchases (customer_id, purchased_at desc);
	create index store_purchases_store_time_idx on store_purchases (store_id, purchased_at);

	create table store_purchase_lines (
		purchase_id bigint not null references store_purchases(id),
		line_no integer not null,
		product_id bigint references products(id),
		sku text not null,
		quantity integer not null,
		unit_price_yen integer not null,
		amount_yen integer not null,
		primary key (purchase_id, line_no)
	);
	create index store_purchase_lines_product_idx on store_purchase_lines (product_id);

	-- EC orders, keyed by the platform's id (text: Shopify ids exceed 2^53)
	create table ec_orders (
		id bigint generated always as identity primary key,
		platform text not null default 'shopify',
		ec_order_id text not null,
		order_name text,
		customer_id uuid references customers(id),
		ec_customer_id text,
		ordered_at timestamptz not null,
		subtotal_yen integer not null default 0,
		total_yen integer not null,
		status text not null default 'open' check (status in ('open', 'cancelled')),
		financial_status text,
		cancelled_at timestamptz,
		landing_site text,
		ref_code text,
		note_attributes jsonb not null default '[]'::jsonb,
		-- the platform's updated_at of the payload applied last: older deliveries are ignored
		source_updated_at timestamptz not null,
		source text not null default 'webhook',
		created_at timestamptz not null default now(),
		updated_at timestamptz not null default now(),
		unique (platform, ec_order_id)
	);
	create index ec_orders_customer_idx on ec_orders (customer_id, ordered_at desc);
	create index ec_orders_ordered_at_idx on ec_orders (ordered_at);

	create table ec_order_lines (
		order_id bigint not null references ec_orders(id) on delete cascade,
		line_no integer not null,
		ec_line_id text,
		product_id bigint references products(id),
		sku text,
		name text not null,
		quantity integer not null,
		unit_price_yen integer not null,
		amount_yen integer not null,
		primary key (order_id, line_no)
	);
	create index ec_order_lines_product_idx on ec_order_lines (product_id);

	-- refunds are keyed by the platform's order id, not a foreign key: a refund may arrive
	-- before its order, and the order's net is computed from whatever refunds exist
	create table ec_refunds (
		id bigint generated always as identity primary key,
		platform text not null default 'shopify',
		ec_refund_id text not null,
		ec_order_id text not null,
		amount_yen integer not null check (amount_yen >= 0),
		refunded_at timestamptz not null,
		created_at timestamptz not null default now(),
		unique (platform, ec_refund_id)
	);
	create index ec_refunds_order_idx on ec_refunds (platform, ec_order_id);

	-- 接客記録; ids are generated on the tablet so offline replays are idempotent
	create table consultations (
		id uuid primary key,
		customer_id uuid references customers(id),
		-- set when recorded offline for a member the tablet did not know; resolved on sync
		member_no text,
		store_id text not null references stores(id),
		staff_id uuid not null references staff(id),
		device_id uuid references devices(id),
		occurred_at timestamptz not null,
		items jsonb not null default '[]'::jsonb,
		sizes jsonb not null default '{}'::jsonb,
		notes text not null default '',
		tags text[] not null default '{}',
		next_action text,
		next_action_due date,
		created_at timestamptz not null default now()
	);
	create index consultations_customer_idx on consultations (customer_id, occurred_at desc);

	create table message_templates (
		id uuid primary key default gen_random_uuid(),
		key text not null unique,
		title text not null,
		body text not null,
		updated_by uuid references staff(id),
		updated_at timestamptz not null default now()
	);

	-- personal LINE follow-ups and their delivery state (the outbox)
	create table follow_ups (
		id uuid primary key default gen_random_uuid(),
		customer_id uuid not null references customers(id),
		staff_id uuid not null references staff(id),
		store_id text not null references stores(id),
		template_key text,
		body text not null,
		messages jsonb not null,
		status text not null default 'queued'
			check (status in ('queued', 'sending', 'sent', 'failed', 'cancelled')),
		-- X-Line-Retry-Key: fixed per message so retries never double-send
		retry_key uuid not null default gen_random_uuid(),
		attempts integer not null default 0,
		next_attempt_at timestamptz not null default now(),
		locked_until timestamptz,
		failure_reason text,
		line_request_id text,
		created_at timestamptz not null default now(),
		sent_at timestamptz
	);
	create index follow_ups_due_idx on follow_ups (next_attempt_at) where status in ('queued', 'sending');
	create index follow_ups_customer_idx on follow_ups (customer_id, created_at desc);
	create index follow_ups_staff_idx on follow_ups (staff_id, created_at);

	create table tracked_links (
		code text primary key,
		follow_up_id uuid references follow_ups(id),
		staff_id uuid not null references staff(id),
		store_id text not null references stores(id),
		customer_id uuid references customers(id),
		product_id bigint references products(id),
		target_url text not null,
		created_at timestamptz not null default now()
	);
	create index tracked_links_customer_idx on tracked_links (customer_id);

	-- append-only; no raw IP is ever stored
	create table link_clicks (
		id bigint generated always as identity primary key,
		click_id text not null unique,
		code text not null references tracked_links(code),
		customer_id uuid references customers(id),
		clicked_at timestamptz not null,
		user_agent text
	);
	create index link_clicks_customer_idx on link_clicks (customer_id, clicked_at desc);
	create index link_clicks_code_idx on link_clicks (code);

	-- at most one staff member per order
	create table attributions (
		id bigint generated always as identity primary key,
		platform text not null default 'shopify',
		ec_order_id text not null,
		staff_id uuid not null references staff(id),
		store_id text not null references stores(id),
		customer_id uuid references customers(id),
		rule text not null check (rule in ('ref', 'last_touch')),
		link_code text references tracked_links(code),
		click_id text,
		follow_up_id uuid references follow_ups(id),
		status text not null default 'active' check (status in ('active', 'void')),
		ordered_at timestamptz not null,
		gross_yen integer not null,
		refunded_yen integer not null default 0,
		decided_at timestamptz not null default now(),
		updated_at timestamptz not null default now(),
		unique (platform, ec_order_id)
	);
	create index attributions_staff_time_idx on attributions (staff_id, ordered_at);
	create index attributions_store_time_idx on attributions (store_id, ordered_at);

	-- LINE messages and events in the customer's timeline
	create table line_events (
		id bigint generated always as identity primary key,
		webhook_event_id text not null unique,
		line_user_id text not null,
		customer_id uuid references customers(id),
		type text not null,
		message_text text,
		occurred_at timestamptz not null,
		created_at timestamptz not null default now()
	);
	create index line_events_customer_idx on line_events (customer_id, occurred_at desc);

	-- durable inbox for webhooks: stored before answering, processed after (at least once;
	-- processing is idempotent). Duplicates collapse on (source, external_id).
	create table webhook_inbox (
		id bigint generated always as identity primary key,
		source text not null,
		external_id text not null,
		topic text not null,
		payload jsonb not null,
		received_at timestamptz not null default now(),
		attempts integer not null default 0,
		next_attempt_at timestamptz not null default now(),
		locked_until timestamptz,
		processed_at timestamptz,
		last_error text,
		unique (source, external_id)
	);
	create index webhook_inbox_pending_idx on webhook_inbox (next_attempt_at) where processed_at is null;

	create table audit_log (
		id bigint generated always as identity primary key,
		at timestamptz not null default now(),
		actor_staff_id uuid references staff(id),
		device_id uuid references devices(id),
		action text not null,
		customer_id uuid references customers(id),
		via text,
		details jsonb not null default '{}'::jsonb
	);
	create index audit_log_customer_idx on audit_log (customer_id, at desc);
	create index audit_log_actor_idx on audit_log (actor_staff_id, at desc);

	-- what the import command has loaded, for the summary and re-import checks
	create table import_runs (
		id bigint generated always as identity primary key,
		kind text not null,
		file_name text not null,
		started_at timestamptz not null default now(),
		finished_at timestamptz,
		rows_ok integer not null default 0,
		rows_bad integer not null default 0
	);
`;

/** Runs statements one at a time: prepared statements (PGlite, pg with params) take one command each. */
export async function runStatements(db: Kysely<any>, script: string): Promise<void> {
	for (const statement of script.split(/;\s*\n/)) {
		if (statement.replace(/--.*$/gm, '').trim()) await sql.raw(statement).execute(db);
	}
}

export async function up(db: Kysely<any>): Promise<void> {
	await runStatements(db, SCHEMA);
}

export async function down(db: Kysely<any>): Promise<void> {
	await runStatements(
		db,
		`drop table if exists import_runs, audit_log, webhook_inbox, line_events, attributions, link_clicks,
			tracked_links, follow_ups, message_templates, consultations, ec_refunds, ec_order_lines, ec_orders,
			store_purchase_lines, store_purchases, products, customer_identities, customers, devices, staff, stores
			cascade;
		drop sequence if exists member_no_seq;`
	);
}
