/**
 * Bulk writes for the seed: rows go to the database as one JSON parameter per chunk and are
 * expanded server-side with jsonb_to_recordset — one statement per few thousand rows, which is
 * what keeps PGlite (slow per statement) fast, and avoids the 65,535 bind-parameter limit.
 */
import { sql } from 'kysely';
import type { DbOrTrx } from '../db/index.ts';

/** Column → PostgreSQL type, in insert order. */
export type ColumnSpec = Record<string, string>;

export const COLUMNS = {
	stores: { id: 'text', name: 'text', name_en: 'text', created_at: 'timestamptz' },
	staff: {
		id: 'uuid', staff_code: 'text', display_name: 'text', sender_name: 'text', sender_icon_url: 'text', role: 'text',
		home_store_id: 'text', pin_hash: 'text', active: 'boolean', created_at: 'timestamptz'
	},
	products: {
		id: 'bigint', sku: 'text', jan: 'text', name: 'text', category: 'text', price_yen: 'integer', ec_product_id: 'text',
		ec_url: 'text', image_url: 'text', active: 'boolean', created_at: 'timestamptz', updated_at: 'timestamptz'
	},
	customers: {
		id: 'uuid', member_no: 'text', family_name: 'text', given_name: 'text', family_kana: 'text', given_kana: 'text',
		birthday: 'date', email: 'text', phone: 'text', home_store_id: 'text', consent_terms_at: 'timestamptz',
		consent_messages: 'boolean', consent_messages_at: 'timestamptz', line_user_id: 'text', line_friend: 'boolean',
		line_blocked_at: 'timestamptz', created_at: 'timestamptz', updated_at: 'timestamptz', postcode: 'text', address: 'text'
	},
	customer_identities: { customer_id: 'uuid', kind: 'text', value: 'text', created_at: 'timestamptz' },
	store_purchases: {
		id: 'bigint', pos_txn_id: 'text', store_id: 'text', customer_id: 'uuid', staff_id: 'uuid', purchased_at: 'timestamptz',
		total_yen: 'integer', kind: 'text', source: 'text', created_at: 'timestamptz'
	},
	store_purchase_lines: {
		purchase_id: 'bigint', line_no: 'integer', product_id: 'bigint', sku: 'text', quantity: 'integer',
		unit_price_yen: 'integer', amount_yen: 'integer'
	},
	ec_orders: {
		id: 'bigint', platform: 'text', ec_order_id: 'text', order_name: 'text', customer_id: 'uuid', ec_customer_id: 'text',
		ordered_at: 'timestamptz', subtotal_yen: 'integer', total_yen: 'integer', status: 'text', financial_status: 'text',
		cancelled_at: 'timestamptz', landing_site: 'text', ref_code: 'text', note_attributes: 'jsonb',
		source_updated_at: 'timestamptz', source: 'text', created_at: 'timestamptz', updated_at: 'timestamptz'
	},
	ec_order_lines: {
		order_id: 'bigint', line_no: 'integer', ec_line_id: 'text', product_id: 'bigint', sku: 'text', name: 'text',
		quantity: 'integer', unit_price_yen: 'integer', amount_yen: 'integer'
	},
	ec_refunds: {
		platform: 'text', ec_refund_id: 'text', ec_order_id: 'text', amount_yen: 'integer', refunded_at: 'timestamptz',
		created_at: 'timestamptz'
	},
	consultations: {
		id: 'uuid', customer_id: 'uuid', member_no: 'text', store_id: 'text', staff_id: 'uuid', device_id: 'uuid',
		occurred_at: 'timestamptz', items: 'jsonb', sizes: 'jsonb', notes: 'text', tags: 'text[]', next_action: 'text',
		next_action_due: 'date', created_at: 'timestamptz'
	},
	line_events: {
		webhook_event_id: 'text', line_user_id: 'text', customer_id: 'uuid', type: 'text', message_text: 'text',
		occurred_at: 'timestamptz', created_at: 'timestamptz'
	},
	message_templates: { id: 'uuid', key: 'text', title: 'text', body: 'text', updated_by: 'uuid', updated_at: 'timestamptz' },
	follow_ups: {
		id: 'uuid', customer_id: 'uuid', staff_id: 'uuid', store_id: 'text', template_key: 'text', body: 'text', messages: 'jsonb',
		status: 'text', retry_key: 'uuid', attempts: 'integer', next_attempt_at: 'timestamptz', failure_reason: 'text',
		line_request_id: 'text', created_at: 'timestamptz', sent_at: 'timestamptz'
	},
	tracked_links: {
		code: 'text', follow_up_id: 'uuid', staff_id: 'uuid', store_id: 'text', customer_id: 'uuid', product_id: 'bigint',
		target_url: 'text', created_at: 'timestamptz'
	},
	link_clicks: { click_id: 'text', code: 'text', customer_id: 'uuid', clicked_at: 'timestamptz', user_agent: 'text' },
	attributions: {
		platform: 'text', ec_order_id: 'text', staff_id: 'uuid', store_id: 'text', customer_id: 'uuid', rule: 'text', link_code: 'text',
		click_id: 'text', follow_up_id: 'uuid', status: 'text', ordered_at: 'timestamptz', gross_yen: 'integer', refunded_yen: 'integer',
		decided_at: 'timestamptz', updated_at: 'timestamptz'
	}
} satisfies Record<string, ColumnSpec>;

export type SeedTable = keyof typeof COLUMNS;

/** Tables whose identity column we fill ourselves (rows reference each other by these ids). */
const EXPLICIT_IDENTITY = new Set<SeedTable>(['products', 'store_purchases', 'ec_orders']);

const CHUNK_ROWS = 5000;

export async function insertRows(db: DbOrTrx, table: SeedTable, rows: ReadonlyArray<Record<string, unknown>>): Promise<void> {
	const spec: ColumnSpec = COLUMNS[table];
	const columns = Object.keys(spec);
	const columnList = sql.join(columns.map((c) => sql.ref(c)));
	const recordDef = sql.raw(columns.map((c) => `"${c}" ${spec[c]}`).join(', '));
	const overriding = EXPLICIT_IDENTITY.has(table) ? sql`overriding system value` : sql``;
	for (let i = 0; i < rows.length; i += CHUNK_ROWS) {
		const json = JSON.stringify(rows.slice(i, i + CHUNK_ROWS));
		await sql`insert into ${sql.table(table)} (${columnList}) ${overriding}
			select ${columnList} from jsonb_to_recordset(${json}::jsonb) as r(${recordDef})`.execute(db);
	}
	if (EXPLICIT_IDENTITY.has(table)) await syncIdentity(db, table);
}

/** After explicit ids, the identity sequence continues after the largest one. */
export async function syncIdentity(db: DbOrTrx, table: string): Promise<void> {
	await sql`select setval(pg_get_serial_sequence(${table}, 'id'), greatest((select max(id) from ${sql.table(table)}), 1))`.execute(db);
}
