import { describe, expect, it } from 'vitest';
import { computeShopifyHmac, verifyShopifyHmac } from '../../server/integrations/shopify/hmac.ts';
import { parseJsonKeepingBigInts, quoteUnsafeIntegers } from '../../server/integrations/shopify/json.ts';
import { yenFromShopifyAmount } from '../../server/integrations/shopify/money.ts';
import { normalizeShopifyOrder, normalizeShopifyRefund } from '../../server/integrations/shopify/normalize.ts';
import { ShopifyPayloadError } from '../../server/integrations/shopify/errors.ts';
import { readShopifyDelivery } from '../../server/integrations/shopify/webhook.ts';
import { buildOrderPayload, buildRefundPayload, shopifyJson, signShopifyWebhook } from '../../server/sandbox/shopify.ts';

const SECRET = 'unit-test-secret';
const enc = (s: string) => new TextEncoder().encode(s);

describe('parseJsonKeepingBigInts', () => {
	it('keeps integers beyond 2^53 exact as strings, leaves safe numbers alone', () => {
		const raw = '{"id": 7300000000000000001, "n": 42, "neg": -9007199254740993, "f": 1.5, "e": 1e3}';
		expect(JSON.parse(raw).id).not.toBe(7300000000000000001n.toString()); // the trap we avoid
		expect(parseJsonKeepingBigInts(raw)).toEqual({ id: '7300000000000000001', n: 42, neg: '-9007199254740993', f: 1.5, e: 1000 });
	});

	it('never touches digits inside strings or the fraction of a long decimal', () => {
		const raw = '{"note": "order 7300000000000000001 \\"quoted\\" 12345678901234567890", "x": 0.12345678901234567890}';
		const parsed = parseJsonKeepingBigInts(raw) as { note: string; x: number };
		expect(parsed.note).toBe('order 7300000000000000001 "quoted" 12345678901234567890');
		expect(typeof parsed.x).toBe('number');
		expect(quoteUnsafeIntegers('[9007199254740991,9007199254740992]')).toBe('[9007199254740991,"9007199254740992"]');
	});
});

describe('Shopify HMAC', () => {
	it('accepts the signature of the exact bytes and refuses anything else', () => {
		const body = '{"id":1}';
		const sig = signShopifyWebhook(body, SECRET);
		expect(verifyShopifyHmac(enc(body), sig, SECRET)).toBe(true);
		expect(verifyShopifyHmac(enc('{"id": 1}'), sig, SECRET)).toBe(false);
		expect(verifyShopifyHmac(enc(body), sig, 'other-secret')).toBe(false);
		expect(verifyShopifyHmac(enc(body), undefined, SECRET)).toBe(false);
		expect(verifyShopifyHmac(enc(body), 'not base64!', SECRET)).toBe(false);
		expect(verifyShopifyHmac(enc(body), sig.slice(0, 20), SECRET)).toBe(false);
		expect(computeShopifyHmac(body, SECRET)).toBe(sig);
	});
});

describe('yenFromShopifyAmount', () => {
	it('converts JPY decimal strings to integer yen and refuses fractions or junk', () => {
		expect(yenFromShopifyAmount('12800.00', 'x')).toBe(12800);
		expect(yenFromShopifyAmount('0.00', 'x')).toBe(0);
		expect(yenFromShopifyAmount(500, 'x')).toBe(500);
		expect(() => yenFromShopifyAmount('12.50', 'x')).toThrow(ShopifyPayloadError);
		expect(() => yenFromShopifyAmount('abc', 'x')).toThrow(/not a decimal/);
	});
});

describe('normalizeShopifyOrder', () => {
	const raw = (over: Parameters<typeof buildOrderPayload>[0]) => parseJsonKeepingBigInts(shopifyJson(buildOrderPayload(over)));

	it('maps a Shopify order with big ids, money, customer and ref code', () => {
		const order = normalizeShopifyOrder(
			raw({
				id: '7300000000000000001',
				customer: { id: '8100000000000000009', email: 'Hanako@Example.jp', first_name: '花子', last_name: '山田' },
				lines: [
					{ sku: 'SHOE-1', title: 'スニーカー', quantity: 2, price: 9800, product_id: '9200000000000000001' },
					{ sku: 'CARE-1', title: 'ケア用品', quantity: 1, price: 1200 }
				],
				landingSite: '/products/shoe?ref=abc123&utm_source=line',
				updatedAt: '2026-11-20T11:00:00+09:00'
			})
		);
		expect(order.ecOrderId).toBe('7300000000000000001');
		expect(order.customer).toMatchObject({ ecCustomerId: '8100000000000000009', email: 'Hanako@Example.jp', familyName: '山田', givenName: '花子' });
		expect(order.totalYen).toBe(20800);
		expect(order.lines.map((l) => [l.sku, l.amountYen, l.ecProductId])).toEqual([
			['SHOE-1', 19600, '9200000000000000001'],
			['CARE-1', 1200, null]
		]);
		expect(order.refCode).toBe('abc123');
		expect(order.status).toBe('open');
		expect(order.sourceUpdatedAt.toISOString()).toBe('2026-11-20T02:00:00.000Z');
	});

	it('prefers a tsunagu_ref note attribute, marks cancellations and carries embedded refunds', () => {
		const order = normalizeShopifyOrder(
			raw({
				id: '7300000000000000002',
				noteAttributes: [{ name: 'tsunagu_ref', value: 'REF9' }],
				landingSite: '/?ref=other',
				cancelledAt: '2026-11-21T09:00:00+09:00',
				refunds: [{ id: '9900000000000000001', orderId: '7300000000000000002', amount: 3000 }]
			})
		);
		expect(order.refCode).toBe('REF9');
		expect(order.status).toBe('cancelled');
		expect(order.refunds).toEqual([
			expect.objectContaining({ ecRefundId: '9900000000000000001', ecOrderId: '7300000000000000002', amountYen: 3000 })
		]);
	});

	it('refuses non-JPY orders and malformed payloads with a clear ShopifyPayloadError', () => {
		expect(() => normalizeShopifyOrder(raw({ id: '1', currency: 'USD' }))).toThrow(/unsupported currency USD/);
		expect(() => normalizeShopifyOrder({ id: 1, currency: 'JPY', created_at: 'yesterday', total_price: '1' })).toThrow(/created_at/);
		expect(() => normalizeShopifyOrder({ currency: 'JPY', created_at: '2026-11-20T10:00:00Z', total_price: '1' })).toThrow(/id: missing/);
	});

	it('refuses an id that disagrees with admin_graphql_api_id (a rounded id)', () => {
		const payload = buildOrderPayload({ id: '7300000000000000001' });
		// what JSON.parse would have produced: a rounded number
		const rounded = { ...payload, id: JSON.parse('7300000000000000001') };
		expect(() => normalizeShopifyOrder(rounded)).toThrow();
	});
});

describe('normalizeShopifyRefund', () => {
	it('sums successful refund transactions in yen', () => {
		const payload = buildRefundPayload({ id: '9900000000000000002', orderId: '7300000000000000003', amount: 4500 });
		(payload.transactions as unknown[]).push({ amount: '100.00', kind: 'refund', status: 'failure', currency: 'JPY' });
		const refund = normalizeShopifyRefund(parseJsonKeepingBigInts(shopifyJson(payload)));
		expect(refund).toMatchObject({ ecRefundId: '9900000000000000002', ecOrderId: '7300000000000000003', amountYen: 4500 });
	});
});

describe('readShopifyDelivery', () => {
	const body = shopifyJson(buildOrderPayload({ id: '7300000000000000004' }));
	const headers = { hmac: signShopifyWebhook(body, SECRET), topic: 'orders/create', webhookId: 'wh-1' };

	it('checks the signature before anything else', () => {
		expect(readShopifyDelivery(enc(body), { ...headers, hmac: 'AAAA', topic: undefined }, SECRET)).toMatchObject({ ok: false, reason: 'invalid_signature' });
	});

	it('reports missing headers, unknown topics and malformed JSON of signed bodies', () => {
		expect(readShopifyDelivery(enc(body), { ...headers, webhookId: undefined }, SECRET)).toMatchObject({ reason: 'missing_header' });
		expect(readShopifyDelivery(enc(body), { ...headers, topic: 'products/create' }, SECRET)).toMatchObject({ reason: 'unknown_topic' });
		const bad = '{"id": 1,';
		expect(readShopifyDelivery(enc(bad), { ...headers, hmac: signShopifyWebhook(bad, SECRET) }, SECRET)).toMatchObject({ reason: 'malformed_json' });
	});

	it('returns the payload with the exact id', () => {
		const read = readShopifyDelivery(enc(body), headers, SECRET);
		expect(read.ok && (read.delivery.payload as { id: string }).id).toBe('7300000000000000004');
	});
});
