/**
 * Shopify order / refund payloads → our NormalizedOrder / NormalizedRefund. Valibot schemas
 * cover only the fields we use (everything else is ignored). Ids arrive either as exact strings
 * (big integers quoted by parseJsonKeepingBigInts) or as safe numbers; `admin_graphql_api_id`
 * ("gid://shopify/Order/7300000000000000001") is always a string and is preferred when present.
 */
import { refFromAttributes, refFromUrl } from '../../shared/ref-code.ts';
import * as v from 'valibot';
import type { NormalizedOrder, NormalizedOrderLine, NormalizedRefund } from '../../modules/orders/orders.types.ts';
import { isSaneDate } from '../../shared/safe-input.ts';
import { ShopifyPayloadError } from './errors.ts';
import { requireJpy, yenFromShopifyAmount } from './money.ts';
import { SHOPIFY_TOPICS, type ShopifyTopic } from './topics.ts';

export const SHOPIFY_PLATFORM = 'shopify';

const IdLike = v.union([
	v.pipe(v.string(), v.regex(/^\d+$/, 'expected a numeric id')),
	v.pipe(v.number(), v.safeInteger(), v.minValue(0))
]);
const Money = v.union([v.string(), v.number()]);
// Retrying cannot fix an absurd timestamp or quantity: they fail here and the delivery is parked at once.
const Timestamp = v.pipe(
	v.string(),
	v.transform((s) => new Date(s)),
	v.check((d) => !Number.isNaN(d.getTime()), 'invalid timestamp'),
	v.check(isSaneDate, 'timestamp outside 1900–2100')
);
/** More of one item on one order line than any shop sells. */
const MAX_LINE_QUANTITY = 100_000;
const Text = v.nullish(v.string());

const CustomerSchema = v.object({
	id: v.nullish(IdLike),
	admin_graphql_api_id: Text,
	email: Text,
	phone: Text,
	first_name: Text,
	last_name: Text
});

const LineItemSchema = v.object({
	id: v.nullish(IdLike),
	product_id: v.nullish(IdLike),
	sku: Text,
	title: Text,
	name: Text,
	quantity: v.pipe(v.number(), v.integer(), v.minValue(0, 'negative quantity'), v.maxValue(MAX_LINE_QUANTITY, 'quantity out of range')),
	price: Money,
	total_discount: v.nullish(Money)
});

const TransactionSchema = v.object({
	amount: Money,
	kind: Text,
	status: Text,
	currency: Text
});

const RefundSchema = v.object({
	id: v.nullish(IdLike),
	admin_graphql_api_id: Text,
	order_id: v.nullish(IdLike),
	created_at: Timestamp,
	processed_at: v.nullish(Timestamp),
	transactions: v.optional(v.array(TransactionSchema), []),
	refund_line_items: v.optional(v.array(v.object({ subtotal: v.nullish(Money), total_tax: v.nullish(Money) })), [])
});

const OrderSchema = v.object({
	id: v.nullish(IdLike),
	admin_graphql_api_id: Text,
	name: Text,
	email: Text,
	phone: Text,
	currency: v.string(),
	created_at: Timestamp,
	updated_at: v.nullish(Timestamp),
	cancelled_at: v.nullish(Timestamp),
	total_price: Money,
	subtotal_price: v.nullish(Money),
	financial_status: Text,
	landing_site: Text,
	note_attributes: v.optional(
		v.array(v.object({ name: v.string(), value: v.nullish(v.union([v.string(), v.number()])) })),
		[]
	),
	customer: v.nullish(CustomerSchema),
	billing_address: v.nullish(v.object({ phone: Text })),
	line_items: v.optional(v.array(LineItemSchema), []),
	refunds: v.optional(v.array(RefundSchema), [])
});

type ShopifyRefund = v.InferOutput<typeof RefundSchema>;


export type NormalizedShopifyPayload =
	| { kind: 'order'; order: NormalizedOrder }
	| { kind: 'refund'; refund: NormalizedRefund };

export function normalizeShopifyPayload(topic: ShopifyTopic, payload: unknown): NormalizedShopifyPayload {
	return SHOPIFY_TOPICS[topic] === 'order'
		? { kind: 'order', order: normalizeShopifyOrder(payload) }
		: { kind: 'refund', refund: normalizeShopifyRefund(payload) };
}

export function normalizeShopifyOrder(payload: unknown): NormalizedOrder {
	const o = parse(OrderSchema, payload, 'order');
	requireJpy(o.currency, 'order.currency');
	const ecOrderId = idOf(o.id, o.admin_graphql_api_id, 'order');
	const noteAttributes = o.note_attributes.map((a) => ({ name: a.name, value: a.value == null ? '' : String(a.value) }));
	const customer = o.customer;
	return {
		platform: SHOPIFY_PLATFORM,
		ecOrderId,
		orderName: o.name ?? null,
		customer: {
			ecCustomerId: customer && (customer.id != null || customer.admin_graphql_api_id)
				? idOf(customer.id, customer.admin_graphql_api_id, 'customer')
				: null,
			email: o.email || customer?.email || null,
			phone: customer?.phone || o.phone || o.billing_address?.phone || null,
			familyName: customer?.last_name || null,
			givenName: customer?.first_name || null
		},
		orderedAt: o.created_at,
		sourceUpdatedAt: o.updated_at ?? o.created_at,
		subtotalYen: o.subtotal_price == null ? 0 : nonNegativeYen(o.subtotal_price, 'order.subtotal_price'),
		totalYen: nonNegativeYen(o.total_price, 'order.total_price'),
		status: o.cancelled_at ? 'cancelled' : 'open',
		cancelledAt: o.cancelled_at ?? null,
		financialStatus: o.financial_status ?? null,
		landingSite: o.landing_site ?? null,
		refCode: refCodeOf(noteAttributes, o.landing_site ?? null),
		noteAttributes,
		lines: o.line_items.map((line, i) => lineOf(line, i)),
		refunds: o.refunds.map((r) => refundOf(r, ecOrderId))
	};
}

export function normalizeShopifyRefund(payload: unknown): NormalizedRefund {
	const r = parse(RefundSchema, payload, 'refund');
	if (r.order_id == null) throw new ShopifyPayloadError('refund.order_id: missing');
	return refundOf(r, String(r.order_id));
}

function lineOf(line: v.InferOutput<typeof LineItemSchema>, i: number): NormalizedOrderLine {
	const field = `line_items.${i}`;
	const unitPriceYen = nonNegativeYen(line.price, `${field}.price`);
	const discountYen = line.total_discount == null ? 0 : nonNegativeYen(line.total_discount, `${field}.total_discount`);
	const amountYen = unitPriceYen * line.quantity - discountYen;
	if (!Number.isSafeInteger(amountYen) || Math.abs(amountYen) > 2_147_483_647) throw new ShopifyPayloadError(`${field}: amount out of range`);
	return {
		ecLineId: line.id == null ? null : String(line.id),
		ecProductId: line.product_id == null ? null : String(line.product_id),
		sku: line.sku || null,
		name: line.title || line.name || line.sku || '-',
		quantity: line.quantity,
		unitPriceYen,
		amountYen
	};
}

/** The money actually returned: successful refund transactions; line subtotals when there are none. */
function refundOf(r: ShopifyRefund, ecOrderId: string): NormalizedRefund {
	const ecRefundId = idOf(r.id, r.admin_graphql_api_id, 'refund');
	const refunds = r.transactions.filter((t) => (t.kind ?? 'refund') === 'refund' && (t.status ?? 'success') === 'success');
	let amountYen = 0;
	if (refunds.length > 0) {
		for (const [i, t] of refunds.entries()) {
			requireJpy(t.currency, `refund.transactions.${i}.currency`);
			amountYen += yenFromShopifyAmount(t.amount, `refund.transactions.${i}.amount`);
		}
	} else {
		for (const [i, l] of r.refund_line_items.entries()) {
			amountYen += l.subtotal == null ? 0 : yenFromShopifyAmount(l.subtotal, `refund.refund_line_items.${i}.subtotal`);
			amountYen += l.total_tax == null ? 0 : yenFromShopifyAmount(l.total_tax, `refund.refund_line_items.${i}.total_tax`);
		}
	}
	if (amountYen < 0) throw new ShopifyPayloadError('refund: negative amount');
	return {
		platform: SHOPIFY_PLATFORM,
		ecRefundId,
		ecOrderId,
		amountYen,
		refundedAt: r.processed_at ?? r.created_at
	};
}

/** Prices and totals of an order are never negative (refunds are separate deliveries). */
function nonNegativeYen(amount: string | number, field: string): number {
	const yen = yenFromShopifyAmount(amount, field);
	if (yen < 0) throw new ShopifyPayloadError(`${field}: negative amount`);
	return yen;
}

function idOf(id: string | number | null | undefined, gid: string | null | undefined, what: string): string {
	const fromGid = gid ? /^gid:\/\/shopify\/\w+\/(\d+)$/.exec(gid)?.[1] : undefined;
	const plain = id == null ? undefined : String(id);
	if (fromGid && plain && fromGid !== plain) throw new ShopifyPayloadError(`${what}: id and admin_graphql_api_id disagree`);
	const result = fromGid ?? plain;
	if (!result) throw new ShopifyPayloadError(`${what}.id: missing`);
	return result;
}

/** The tracked-link ref: cart attributes first, then the landing URL (server/shared/ref-code.ts). */
function refCodeOf(notes: Array<{ name: string; value: string }>, landingSite: string | null): string | null {
	return refFromAttributes(notes) ?? refFromUrl(landingSite);
}

function parse<S extends v.GenericSchema>(schema: S, payload: unknown, what: string): v.InferOutput<S> {
	const result = v.safeParse(schema, payload);
	if (result.success) return result.output;
	const first = result.issues[0];
	throw new ShopifyPayloadError(`${what}.${v.getDotPath(first) ?? ''}: ${first.message}`);
}
