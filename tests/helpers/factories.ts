/**
 * Test factories: insert real rows with sensible defaults; every field can be overridden.
 * Shared by the integration suites (import what you need).
 */
import { randomUUID } from 'node:crypto';
import type { DbOrTrx } from '../../server/db/index.ts';
import type { Role } from '../../server/db/types.ts';
import { hashPin } from '../../server/modules/staff/pin.ts';

let counter = 0;
const seq = () => `${Date.now().toString(36)}${(++counter).toString(36)}`;

export async function newStore(db: DbOrTrx, values: { id?: string; name?: string; name_en?: string } = {}) {
	const id = values.id ?? `st_${seq()}`;
	return db
		.insertInto('stores')
		.values({ id, name: values.name ?? `テスト店 ${id}`, name_en: values.name_en ?? `Test ${id}` })
		.returningAll()
		.executeTakeFirstOrThrow();
}

/** PIN hashes are slow on purpose; the default PIN's hash is computed once per process. */
let defaultPinHash: Promise<string> | undefined;
export const TEST_PIN = '2468';

export async function newStaff(
	db: DbOrTrx,
	values: { storeId: string | null; role?: Role; pin?: string | null; display_name?: string; staff_code?: string; active?: boolean }
) {
	const pin = values.pin === undefined ? TEST_PIN : values.pin;
	const pin_hash = pin === null ? null : pin === TEST_PIN ? await (defaultPinHash ??= hashPin(TEST_PIN)) : await hashPin(pin);
	const code = values.staff_code ?? `T${seq()}`;
	return db
		.insertInto('staff')
		.values({
			staff_code: code,
			display_name: values.display_name ?? `スタッフ ${code}`,
			sender_name: 'テスト',
			role: values.role ?? 'staff',
			home_store_id: values.storeId,
			pin_hash,
			active: values.active ?? true
		})
		.returningAll()
		.executeTakeFirstOrThrow();
}

export async function newCustomer(
	db: DbOrTrx,
	values: Partial<{
		member_no: string;
		family_name: string;
		given_name: string;
		family_kana: string;
		given_kana: string;
		birthday: string;
		phone: string;
		email: string;
		home_store_id: string;
		line_user_id: string;
		line_friend: boolean;
		consent_messages: boolean;
		created_at: Date;
		merged_into: string;
	}> = {}
) {
	return db
		.insertInto('customers')
		.values({
			member_no: values.member_no ?? String(2_000_000_000 + Math.floor(Math.random() * 999_999_999)),
			family_name: '山田',
			given_name: '花子',
			family_kana: 'ヤマダ',
			given_kana: 'ハナコ',
			...values
		})
		.returningAll()
		.executeTakeFirstOrThrow();
}

export async function newProduct(
	db: DbOrTrx,
	values: Partial<{ sku: string; jan: string; name: string; category: string; price_yen: number; active: boolean }> = {}
) {
	return db
		.insertInto('products')
		.values({
			sku: values.sku ?? `SKU-${seq()}`,
			jan: values.jan ?? null,
			name: values.name ?? 'テスト商品',
			category: values.category ?? 'トップス',
			price_yen: values.price_yen ?? 4990,
			active: values.active ?? true
		})
		.returningAll()
		.executeTakeFirstOrThrow();
}

export interface LineInput {
	productId: number;
	sku: string;
	quantity?: number;
	unitPriceYen: number;
}

export async function newStorePurchase(
	db: DbOrTrx,
	values: { storeId: string; customerId: string | null; at: Date; lines: LineInput[]; staffId?: string; kind?: 'sale' | 'return' }
) {
	const total = values.lines.reduce((sum, l) => sum + l.unitPriceYen * (l.quantity ?? 1), 0);
	const purchase = await db
		.insertInto('store_purchases')
		.values({
			pos_txn_id: `POS-${seq()}`,
			store_id: values.storeId,
			customer_id: values.customerId,
			staff_id: values.staffId ?? null,
			purchased_at: values.at,
			total_yen: values.kind === 'return' ? -total : total,
			kind: values.kind ?? 'sale'
		})
		.returningAll()
		.executeTakeFirstOrThrow();
	if (values.lines.length > 0) {
		await db
			.insertInto('store_purchase_lines')
			.values(
				values.lines.map((l, i) => ({
					purchase_id: purchase.id,
					line_no: i + 1,
					product_id: l.productId,
					sku: l.sku,
					quantity: l.quantity ?? 1,
					unit_price_yen: l.unitPriceYen,
					amount_yen: l.unitPriceYen * (l.quantity ?? 1)
				}))
			)
			.execute();
	}
	return purchase;
}

export async function newEcOrder(
	db: DbOrTrx,
	values: { customerId: string | null; at: Date; lines: Array<LineInput & { name?: string }>; status?: 'open' | 'cancelled' }
) {
	const total = values.lines.reduce((sum, l) => sum + l.unitPriceYen * (l.quantity ?? 1), 0);
	const order = await db
		.insertInto('ec_orders')
		.values({
			ec_order_id: String(7_300_000_000_000_000_000n + BigInt(++counter)),
			order_name: `#${1000 + counter}`,
			customer_id: values.customerId,
			ordered_at: values.at,
			subtotal_yen: total,
			total_yen: total,
			status: values.status ?? 'open',
			note_attributes: JSON.stringify([]),
			source_updated_at: values.at
		})
		.returningAll()
		.executeTakeFirstOrThrow();
	if (values.lines.length > 0) {
		await db
			.insertInto('ec_order_lines')
			.values(
				values.lines.map((l, i) => ({
					order_id: order.id,
					line_no: i + 1,
					product_id: l.productId,
					sku: l.sku,
					name: l.name ?? l.sku,
					quantity: l.quantity ?? 1,
					unit_price_yen: l.unitPriceYen,
					amount_yen: l.unitPriceYen * (l.quantity ?? 1)
				}))
			)
			.execute();
	}
	return order;
}

export async function newConsultation(
	db: DbOrTrx,
	values: {
		customerId: string;
		storeId: string;
		staffId: string;
		at: Date;
		nextAction?: string;
		nextActionDue?: string;
		sizes?: Record<string, string>;
		legacySizes?: Record<string, string>;
		notes?: string;
	}
) {
	return db
		.insertInto('consultations')
		.values({
			id: randomUUID(),
			customer_id: values.customerId,
			store_id: values.storeId,
			staff_id: values.staffId,
			occurred_at: values.at,
			items: JSON.stringify([]),
			sizes: JSON.stringify(values.sizes ?? {}),
			legacy_sizes: JSON.stringify(values.legacySizes ?? {}),
			notes: values.notes ?? '',
			tags: [],
			next_action: values.nextAction ?? null,
			next_action_due: values.nextActionDue ?? null
		})
		.returningAll()
		.executeTakeFirstOrThrow();
}

export const daysAgo = (days: number, from = new Date()) => new Date(from.getTime() - days * 86_400_000);
