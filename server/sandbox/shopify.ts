/**
 * A tiny stand-in for a Shopify store's webhook sender (tests, benchmarks, the demo EC shop):
 * builds Shopify-shaped payloads and signs them like Shopify does. Ids are written into the
 * JSON as bare numbers, exactly as Shopify sends them (even above 2^53).
 */
import { computeShopifyHmac } from '../integrations/shopify/hmac.ts';

export function signShopifyWebhook(body: string | Uint8Array, secret: string): string {
	return computeShopifyHmac(body, secret);
}

export interface OrderPayloadInput {
	id: string;
	name?: string;
	customer?: { id?: string; email?: string; phone?: string; first_name?: string; last_name?: string } | null;
	email?: string | null;
	lines?: Array<{ id?: string; product_id?: string; sku?: string; title?: string; quantity: number; price: number }>;
	createdAt?: string;
	updatedAt?: string;
	cancelledAt?: string | null;
	currency?: string;
	landingSite?: string | null;
	noteAttributes?: Array<{ name: string; value: string }>;
	refunds?: RefundPayloadInput[];
}

export interface RefundPayloadInput {
	id: string;
	orderId: string;
	amount: number;
	createdAt?: string;
	currency?: string;
}

const ID_KEYS = /"(id|order_id|product_id|variant_id|customer_id)":"(\d+)"/g;

/** JSON as Shopify writes it: numeric ids as bare numbers. */
export function shopifyJson(payload: unknown): string {
	return JSON.stringify(payload).replace(ID_KEYS, '"$1":$2');
}

const yen = (n: number) => `${n}.00`;

export function buildOrderPayload(input: OrderPayloadInput): Record<string, unknown> {
	const lines = input.lines ?? [{ sku: 'SKU-1', title: '商品', quantity: 1, price: 12800 }];
	const total = lines.reduce((sum, l) => sum + l.price * l.quantity, 0);
	const createdAt = input.createdAt ?? '2026-11-20T10:00:00+09:00';
	return {
		id: input.id,
		admin_graphql_api_id: `gid://shopify/Order/${input.id}`,
		name: input.name ?? `#${input.id.slice(-4)}`,
		email: input.email ?? input.customer?.email ?? null,
		currency: input.currency ?? 'JPY',
		created_at: createdAt,
		updated_at: input.updatedAt ?? createdAt,
		cancelled_at: input.cancelledAt ?? null,
		financial_status: 'paid',
		subtotal_price: yen(total),
		total_price: yen(total),
		landing_site: input.landingSite ?? null,
		note_attributes: input.noteAttributes ?? [],
		customer: input.customer ?? null,
		line_items: lines.map((l, i) => ({
			id: l.id ?? String(BigInt(input.id) * 100n + BigInt(i + 1)),
			product_id: l.product_id ?? null,
			sku: l.sku ?? null,
			title: l.title ?? l.sku ?? '商品',
			quantity: l.quantity,
			price: yen(l.price),
			total_discount: '0.00'
		})),
		refunds: (input.refunds ?? []).map(buildRefundPayload)
	};
}

export function buildRefundPayload(input: RefundPayloadInput): Record<string, unknown> {
	return {
		id: input.id,
		admin_graphql_api_id: `gid://shopify/Refund/${input.id}`,
		order_id: input.orderId,
		created_at: input.createdAt ?? '2026-11-21T10:00:00+09:00',
		processed_at: input.createdAt ?? '2026-11-21T10:00:00+09:00',
		transactions: [{ amount: yen(input.amount), kind: 'refund', status: 'success', currency: input.currency ?? 'JPY' }],
		refund_line_items: []
	};
}

/** Headers of one signed delivery (a fresh webhook id unless one is given, as for a redelivery). */
export function shopifyHeaders(body: string, secret: string, topic: string, webhookId: string): Record<string, string> {
	return {
		'content-type': 'application/json',
		'x-shopify-topic': topic,
		'x-shopify-hmac-sha256': signShopifyWebhook(body, secret),
		'x-shopify-webhook-id': webhookId,
		'x-shopify-shop-domain': 'demo-shop.myshopify.com'
	};
}
