/**
 * Table types for Kysely, one interface per table (mirrors migrations/). `Generated<>` marks
 * columns the database fills; `Selectable<>` aliases are the row shapes the repositories return.
 */
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type GeneratedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
/** DATE columns are returned as 'YYYY-MM-DD' strings (no time-zone shifts). */
type DateString = ColumnType<string, string, string>;
type Json<T = unknown> = ColumnType<T, string | T, string | T>;

export type Role = 'staff' | 'manager' | 'admin';
export type IdentityKind = 'line' | 'ec' | 'email' | 'phone' | 'pos';

export interface StoresTable {
	id: string;
	name: string;
	name_en: string;
	created_at: GeneratedTimestamp;
}

export interface StaffTable {
	id: Generated<string>;
	staff_code: string;
	display_name: string;
	sender_name: string;
	sender_icon_url: string | null;
	role: Role;
	home_store_id: string | null;
	pin_hash: string | null;
	failed_pin_attempts: Generated<number>;
	pin_locked_until: Timestamp | null;
	/** bumped by a PIN change/reset: sessions issued under an older generation are ended */
	session_generation: Generated<number>;
	active: Generated<boolean>;
	created_at: GeneratedTimestamp;
}

export interface DevicesTable {
	id: Generated<string>;
	store_id: string;
	name: string;
	secret_hash: string;
	enrolled_by: string | null;
	enrolled_at: GeneratedTimestamp;
	last_seen_at: Timestamp | null;
	revoked_at: Timestamp | null;
}

export interface CustomersTable {
	id: Generated<string>;
	member_no: string;
	family_name: string | null;
	given_name: string | null;
	family_kana: string | null;
	given_kana: string | null;
	birthday: DateString | null;
	email: string | null;
	phone: string | null;
	home_store_id: string | null;
	consent_terms_at: Timestamp | null;
	consent_messages: Generated<boolean>;
	consent_messages_at: Timestamp | null;
	line_user_id: string | null;
	line_friend: Generated<boolean>;
	line_blocked_at: Timestamp | null;
	/** Event time of the follow/unfollow applied last (older redeliveries are ignored). */
	line_status_changed_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
	merged_into: string | null;
	/** 担当: the customer's primary staff owner; NULL = the home store's book. */
	owner_staff_id: ColumnType<string | null, string | null | undefined, string | null>;
	created_at: GeneratedTimestamp;
	updated_at: GeneratedTimestamp;
}

export interface CustomerIdentitiesTable {
	id: Generated<number>;
	customer_id: string;
	kind: IdentityKind;
	value: string;
	created_at: GeneratedTimestamp;
}

export interface ProductsTable {
	id: Generated<number>;
	sku: string;
	jan: string | null;
	name: string;
	category: string;
	price_yen: number;
	ec_product_id: string | null;
	ec_url: string | null;
	image_url: string | null;
	active: Generated<boolean>;
	created_at: GeneratedTimestamp;
	updated_at: GeneratedTimestamp;
}

export interface StorePurchasesTable {
	id: Generated<number>;
	pos_txn_id: string;
	store_id: string;
	customer_id: string | null;
	staff_id: string | null;
	purchased_at: Timestamp;
	total_yen: number;
	kind: Generated<'sale' | 'return'>;
	source: Generated<string>;
	created_at: GeneratedTimestamp;
}

export interface StorePurchaseLinesTable {
	purchase_id: number;
	line_no: number;
	product_id: number | null;
	sku: string;
	quantity: number;
	unit_price_yen: number;
	amount_yen: number;
}

export interface EcOrdersTable {
	id: Generated<number>;
	platform: Generated<string>;
	ec_order_id: string;
	order_name: string | null;
	customer_id: string | null;
	ec_customer_id: string | null;
	ordered_at: Timestamp;
	subtotal_yen: Generated<number>;
	total_yen: number;
	status: Generated<'open' | 'cancelled'>;
	financial_status: string | null;
	cancelled_at: Timestamp | null;
	landing_site: string | null;
	ref_code: string | null;
	note_attributes: Json<Array<{ name: string; value: string }>>;
	source_updated_at: Timestamp;
	source: Generated<string>;
	/** The largest refunded total a CSV export stated (see migration 2026-12-04T1000). */
	stated_refunded_yen: number | null;
	stated_refunded_at: Timestamp | null;
	created_at: GeneratedTimestamp;
	updated_at: GeneratedTimestamp;
}

export interface EcOrderLinesTable {
	order_id: number;
	line_no: number;
	ec_line_id: string | null;
	product_id: number | null;
	sku: string | null;
	name: string;
	quantity: number;
	unit_price_yen: number;
	amount_yen: number;
}

export interface EcRefundsTable {
	id: Generated<number>;
	platform: Generated<string>;
	ec_refund_id: string;
	ec_order_id: string;
	amount_yen: number;
	refunded_at: Timestamp;
	created_at: GeneratedTimestamp;
}

export interface ConsultationItem {
	productId?: number | null;
	sku?: string | null;
	name: string;
	size?: string | null;
	color?: string | null;
	outcome: 'tried' | 'bought' | 'interested';
}

export interface ConsultationsTable {
	id: string;
	customer_id: string | null;
	member_no: string | null;
	store_id: string;
	staff_id: string;
	device_id: string | null;
	occurred_at: Timestamp;
	items: Json<ConsultationItem[]>;
	sizes: Json<Record<string, string>>;
	notes: Generated<string>;
	tags: ColumnType<string[], string[] | undefined, string[]>;
	next_action: string | null;
	next_action_due: DateString | null;
	created_at: GeneratedTimestamp;
}

export interface MessageTemplatesTable {
	id: Generated<string>;
	key: string;
	title: string;
	body: string;
	updated_by: string | null;
	updated_at: GeneratedTimestamp;
}

export type FollowUpStatus = 'queued' | 'sending' | 'sent' | 'failed' | 'cancelled';

export interface FollowUpsTable {
	id: Generated<string>;
	customer_id: string;
	staff_id: string;
	store_id: string;
	template_key: string | null;
	body: string;
	messages: Json<unknown[]>;
	status: Generated<FollowUpStatus>;
	retry_key: Generated<string>;
	attempts: Generated<number>;
	next_attempt_at: GeneratedTimestamp;
	locked_until: Timestamp | null;
	failure_reason: string | null;
	line_request_id: string | null;
	created_at: GeneratedTimestamp;
	sent_at: Timestamp | null;
	/** 'conversation': a staff answer to the customer's own message (service reply, no consent needed). */
	kind: ColumnType<'followup' | 'conversation', 'followup' | 'conversation' | undefined, 'followup' | 'conversation'>;
}

export interface TrackedLinksTable {
	code: string;
	follow_up_id: string | null;
	staff_id: string;
	store_id: string;
	customer_id: string | null;
	product_id: number | null;
	target_url: string;
	created_at: GeneratedTimestamp;
}

export interface LinkClicksTable {
	id: Generated<number>;
	click_id: string;
	code: string;
	customer_id: string | null;
	clicked_at: Timestamp;
	user_agent: string | null;
}

export interface AttributionsTable {
	id: Generated<number>;
	platform: Generated<string>;
	ec_order_id: string;
	staff_id: string;
	store_id: string;
	customer_id: string | null;
	rule: 'ref' | 'last_touch';
	link_code: string | null;
	click_id: string | null;
	follow_up_id: string | null;
	status: Generated<'active' | 'void'>;
	ordered_at: Timestamp;
	gross_yen: number;
	refunded_yen: Generated<number>;
	decided_at: GeneratedTimestamp;
	updated_at: GeneratedTimestamp;
}

export interface LineEventsTable {
	id: Generated<number>;
	webhook_event_id: string;
	line_user_id: string;
	customer_id: string | null;
	type: string;
	message_text: string | null;
	occurred_at: Timestamp;
	created_at: GeneratedTimestamp;
}

export interface WebhookInboxTable {
	id: Generated<number>;
	source: string;
	external_id: string;
	topic: string;
	payload: Json<unknown>;
	received_at: GeneratedTimestamp;
	attempts: Generated<number>;
	next_attempt_at: GeneratedTimestamp;
	locked_until: Timestamp | null;
	processed_at: Timestamp | null;
	last_error: string | null;
}

export interface AuditLogTable {
	id: Generated<number>;
	at: GeneratedTimestamp;
	actor_staff_id: string | null;
	device_id: string | null;
	action: string;
	customer_id: string | null;
	via: string | null;
	details: Json<Record<string, unknown>>;
}

export interface ImportRunsTable {
	id: Generated<number>;
	kind: string;
	file_name: string;
	started_at: GeneratedTimestamp;
	finished_at: Timestamp | null;
	rows_ok: Generated<number>;
	rows_bad: Generated<number>;
}

/** One row: how the demo data was generated (anchor date = the seed's "today"). */
export interface DemoSeedTable {
	id: ColumnType<number, number | undefined, number>;
	anchor_date: DateString;
	prng_seed: number;
	customers: number;
	generator: string;
	seeded_at: GeneratedTimestamp;
}

/** Co-purchase counts per product pair (staff tablet suggestions); refreshed daily. */
export interface ProductAffinitiesTable {
	product_id: number;
	other_product_id: number;
	score: number;
	refreshed_at: GeneratedTimestamp;
}

/** Signed-out staff session token ids, kept until the token would have expired. */
export interface StaffSessionRevocationsTable {
	jti: string;
	expires_at: Timestamp;
}

/** Channel-wide LINE push budget per wall-clock second, shared by all outbox workers. */
export interface FollowupPushBudgetTable {
	second: number;
	used: number;
	last_grant: number;
}

export interface BrandSettingsTable {
	key: string;
	value: Json;
	updated_at: GeneratedTimestamp;
	updated_by: string | null;
}

/** Shared token buckets with growing lockouts (owner: modules/ratelimit). */
export interface RateLimitsTable {
	key: string;
	tokens: number;
	updated_at: GeneratedTimestamp;
	locked_until: Timestamp | null;
	strikes: Generated<number>;
	last_allowed: Generated<boolean>;
	expires_at: Timestamp;
}

/** One-time tablet enrollment codes, stored as hashes (owner: modules/staff). */
export interface EnrollmentCodesTable {
	code_hash: string;
	store_id: string;
	issued_by: string;
	issued_at: GeneratedTimestamp;
	expires_at: Timestamp;
	used_at: Timestamp | null;
	used_by_device: string | null;
}

/**
 * Dirty markers of the daily report rollups, written by triggers in the writer's transaction
 * (one column set per row); consumed by the rollup refresh. See docs/report-freshness.md.
 */
export interface ReportRollupDirtyTable {
	sales_day: DateString | null;
	funnel_day: DateString | null;
	follow_up_id: string | null;
	link_code: string | null;
}

export interface ConversationsTable {
	id: Generated<string>;
	line_user_id: string;
	customer_id: string | null;
	display_name: string | null;
	assigned_staff_id: string | null;
	store_id: string | null;
	status: Generated<'open' | 'done'>;
	unread_count: Generated<number>;
	last_message_at: Timestamp | null;
	last_message_preview: string | null;
	last_inbound_at: Timestamp | null;
	created_at: GeneratedTimestamp;
	updated_at: GeneratedTimestamp;
}

export interface ConversationMessagesTable {
	id: Generated<number>;
	conversation_id: string;
	direction: 'in' | 'out';
	kind: string;
	text: string;
	details: Json<unknown> | null;
	webhook_event_id: string | null;
	reply_token: string | null;
	reply_token_at: Timestamp | null;
	reply_token_used_at: Timestamp | null;
	mark_as_read_token: string | null;
	read_marked_at: Timestamp | null;
	client_id: string | null;
	staff_id: string | null;
	store_id: string | null;
	delivery: 'reply' | 'push' | null;
	state: 'sending' | 'sent' | 'queued' | 'failed' | 'refused' | null;
	follow_up_id: string | null;
	failure_reason: string | null;
	messages: Json<unknown[]> | null;
	occurred_at: Timestamp;
	created_at: GeneratedTimestamp;
}

export interface ConversationHandoversTable {
	id: Generated<number>;
	conversation_id: string;
	from_staff_id: string;
	to_staff_id: string | null;
	to_store_id: string | null;
	note: Generated<string>;
	created_at: GeneratedTimestamp;
}

export interface LineQuotaSnapshotsTable {
	id: Generated<number>;
	taken_at: GeneratedTimestamp;
	plan_type: string;
	plan_limit: number | null;
	total_usage: number;
}

/** The attribution ledger (append-only): every change of an order's credit, with its cause. */
export interface AttributionChangesTable {
	id: Generated<number>;
	platform: string;
	ec_order_id: string;
	staff_id: string | null;
	store_id: string | null;
	status: 'active' | 'void' | 'none';
	gross_yen: number;
	refunded_yen: number;
	net_yen: number;
	previous_staff_id: string | null;
	previous_net_yen: number | null;
	cause: AttributionCause;
	via: 'webhook' | 'csv' | 'merge' | 'backfill';
	changed_at: GeneratedTimestamp;
}
export type AttributionCause = 'created' | 'updated' | 'refunded' | 'cancelled' | 'reattributed' | 'backfill';

export interface Database {
	stores: StoresTable;
	staff: StaffTable;
	devices: DevicesTable;
	customers: CustomersTable;
	customer_identities: CustomerIdentitiesTable;
	products: ProductsTable;
	store_purchases: StorePurchasesTable;
	store_purchase_lines: StorePurchaseLinesTable;
	ec_orders: EcOrdersTable;
	ec_order_lines: EcOrderLinesTable;
	ec_refunds: EcRefundsTable;
	consultations: ConsultationsTable;
	message_templates: MessageTemplatesTable;
	follow_ups: FollowUpsTable;
	tracked_links: TrackedLinksTable;
	link_clicks: LinkClicksTable;
	attributions: AttributionsTable;
	followup_push_budget: FollowupPushBudgetTable;
	line_events: LineEventsTable;
	webhook_inbox: WebhookInboxTable;
	audit_log: AuditLogTable;
	import_runs: ImportRunsTable;
	product_affinities: ProductAffinitiesTable;
	staff_session_revocations: StaffSessionRevocationsTable;
	demo_seed: DemoSeedTable;
	brand_settings: BrandSettingsTable;
	rate_limits: RateLimitsTable;
	enrollment_codes: EnrollmentCodesTable;
	report_rollup_dirty: ReportRollupDirtyTable;
	conversations: ConversationsTable;
	conversation_messages: ConversationMessagesTable;
	conversation_handovers: ConversationHandoversTable;
	line_quota_snapshots: LineQuotaSnapshotsTable;
	attribution_changes: AttributionChangesTable;
}

export type Store = Selectable<StoresTable>;
export type Staff = Selectable<StaffTable>;
export type Customer = Selectable<CustomersTable>;
export type NewCustomer = Insertable<CustomersTable>;
export type CustomerUpdate = Updateable<CustomersTable>;
export type Product = Selectable<ProductsTable>;
export type EcOrder = Selectable<EcOrdersTable>;
export type Consultation = Selectable<ConsultationsTable>;
export type FollowUp = Selectable<FollowUpsTable>;
