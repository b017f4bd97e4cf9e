/**
 * The hand-kept half of the database types: shared column aliases, and the columns whose
 * TypeScript type is narrower than their SQL type (a CHECK-ed text as a union, a jsonb's shape).
 * scripts/db-types.ts reads `columnOverrides` when it generates server/db/types.ts; everything
 * else there (tables, columns, nullability, defaults) comes from the migrated database.
 * Values are TypeScript type expressions; names from this file are written `O.Name`.
 */
import type { ColumnType } from 'kysely';

export type Timestamp = ColumnType<Date, Date | string, Date | string>;
export type GeneratedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
/** DATE columns are returned as 'YYYY-MM-DD' strings (no time-zone shifts). */
export type DateString = ColumnType<string, string, string>;
export type Json<T = unknown> = ColumnType<T, string | T, string | T>;

export type Role = 'staff' | 'manager' | 'admin';
export type IdentityKind = 'line' | 'ec' | 'email' | 'phone' | 'pos';
/** Why an order's staff credit changed (the attribution ledger). */
export type AttributionCause = 'created' | 'updated' | 'refunded' | 'cancelled' | 'reattributed' | 'backfill';
export type OwnerChangeReason = 'claim' | 'assign' | 'handover' | 'deactivation' | 'first_contact' | 'store_sale' | 'seed';
export type FollowUpStatus = 'queued' | 'sending' | 'sent' | 'failed' | 'cancelled';

export interface ConsultationItem {
	productId?: number | null;
	sku?: string | null;
	name: string;
	size?: string | null;
	color?: string | null;
	outcome: 'tried' | 'bought' | 'interested';
}

/** A kind of evidence that two customer records are one person (server/modules/identity/matcher.ts). */
export type EvidenceKind = 'phone' | 'email' | 'line' | 'name_birthday' | 'address' | 'link';
export type SuggestionStatus = 'open' | 'later' | 'merged' | 'rejected';
/** One piece of evidence behind a merge suggestion: what matched, its weight, and the value. */
export interface MatchEvidence {
	kind: EvidenceKind;
	weight: number;
	value: string;
	/** `link`: the tracked link's code. */
	detail?: string | null;
}
/** The rows a merge moved, per owning table (ids as text), so an undo moves exactly these back. */
export type MergeMoved = Record<string, string[]>;
/** Profile fields a merge changed: per record, field → [before, after]. */
export interface MergeProfileChanges {
	survivor: Record<string, [unknown, unknown]>;
	merged: Record<string, [unknown, unknown]>;
	/** Records that had been merged into the merged record and now forward to the survivor. */
	forwarded: string[];
}

/** `table.column` → the TypeScript type of its value (nullability and defaults come from SQL). */
export const columnOverrides: Record<string, string> = {
	'worklist_items.reason': "'next_action' | 'birthday' | 'second_purchase' | 'thank_you' | 'dormancy_risk' | 'cross_channel' | 'campaign'",
	'worklist_items.state': "'open' | 'done' | 'snoozed' | 'dismissed'",
	'worklist_items.done_via': "'manual' | 'followup' | 'consultation'",
	'worklist_items.facts': 'Record<string, string | number | null>',
	'worklist_campaigns.segment': 'Record<string, unknown>',
	'attribution_changes.cause': 'O.AttributionCause',
	'attribution_changes.status': "'active' | 'void' | 'none'",
	'attribution_changes.via': "'webhook' | 'csv' | 'merge' | 'backfill'",
	'conversations.status': "'open' | 'done'",
	'conversation_messages.direction': "'in' | 'out'",
	'conversation_messages.delivery': "'reply' | 'push'",
	'conversation_messages.state': "'sending' | 'sent' | 'queued' | 'failed' | 'refused'",
	'conversation_messages.details': 'unknown',
	'conversation_messages.messages': 'unknown[]',
	'attributions.rule': "'ref' | 'last_touch'",
	'attributions.status': "'active' | 'void'",
	'audit_log.details': 'Record<string, unknown>',
	'consultations.items': 'O.ConsultationItem[]',
	'consultations.sizes': 'Record<string, string>',
	'consultations.legacy_sizes': 'Record<string, string>',
	'customer_identities.kind': 'O.IdentityKind',
	'customer_owner_changes.reason': 'O.OwnerChangeReason',
	'customer_owner_proposals.source': "'consultation' | 'store_sale'",
	'customer_merges.evidence': 'O.MatchEvidence[]',
	'customer_merges.moved': 'O.MergeMoved',
	'customer_merges.profile_changes': 'O.MergeProfileChanges',
	'identity_match_keys.kind': 'O.EvidenceKind',
	'merge_suggestions.evidence': 'O.MatchEvidence[]',
	'merge_suggestions.status': 'O.SuggestionStatus',
	'ec_orders.note_attributes': 'Array<{ name: string; value: string }>',
	'ec_orders.status': "'open' | 'cancelled'",
	'follow_ups.messages': 'unknown[]',
	'follow_ups.status': 'O.FollowUpStatus',
	'staff.role': 'O.Role',
	'store_purchases.kind': "'sale' | 'return'"
};

/**
 * Documentation printed above a table or column (`table` or `table.column`). A migration can
 * say the same with COMMENT ON; the database's comment is used when there is no entry here.
 */
export const docs: Record<string, string> = {
	demo_seed: 'One row: how the demo data was generated (anchor date = the seed\'s "today").',
	product_affinities: 'Co-purchase counts per product pair (staff tablet suggestions); refreshed daily.',
	staff_session_revocations: 'Signed-out staff session token ids, kept until the token would have expired.',
	followup_push_budget: 'Channel-wide LINE push budget per wall-clock second, shared by all outbox workers.',
	'customers.line_status_changed_at': 'Event time of the follow/unfollow applied last (older redeliveries are ignored).',
	customer_owner_changes: 'Every change of a customer\'s 担当 (append-only): who, when, from, to, why.',
	customer_owner_proposals: 'A staff member proposed as 担当 of an unowned customer (first consultation or store sale).',
	'customers.owner_staff_id': '担当: the customer\'s primary staff owner; NULL = the home store\'s book.'
};
