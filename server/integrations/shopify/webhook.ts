/**
 * Reading one Shopify webhook delivery: signature over the raw bytes first (nothing is trusted
 * or stored before it passes), then the headers and the body. Returns our own delivery shape or
 * a reason the route turns into a status code.
 */
import { verifyShopifyHmac } from './hmac.ts';
import { parseJsonKeepingBigInts } from './json.ts';
import { isShopifyTopic, type ShopifyTopic } from './topics.ts';

export interface ShopifyDeliveryHeaders {
	hmac?: string;
	topic?: string;
	webhookId?: string;
}

export interface ShopifyDelivery {
	webhookId: string;
	topic: ShopifyTopic;
	/** The payload root, with big integer ids as exact strings. */
	payload: unknown;
}

export type ShopifyDeliveryResult =
	| { ok: true; delivery: ShopifyDelivery }
	| { ok: false; reason: 'invalid_signature' | 'missing_header' | 'unknown_topic' | 'malformed_json'; message: string };

export const SHOPIFY_HEADERS = {
	hmac: 'x-shopify-hmac-sha256',
	topic: 'x-shopify-topic',
	webhookId: 'x-shopify-webhook-id'
} as const;

export function readShopifyDelivery(body: Uint8Array, headers: ShopifyDeliveryHeaders, secret: string): ShopifyDeliveryResult {
	if (!verifyShopifyHmac(body, headers.hmac, secret)) {
		return { ok: false, reason: 'invalid_signature', message: 'The webhook signature does not match' };
	}
	const webhookId = headers.webhookId?.trim();
	const topic = headers.topic?.trim();
	if (!webhookId || !topic) {
		return { ok: false, reason: 'missing_header', message: 'X-Shopify-Topic and X-Shopify-Webhook-Id are required' };
	}
	if (webhookId.length > 200) return { ok: false, reason: 'missing_header', message: 'X-Shopify-Webhook-Id is too long' };
	if (!isShopifyTopic(topic)) return { ok: false, reason: 'unknown_topic', message: `Topic ${topic.slice(0, 60)} is not handled` };
	let payload: unknown;
	try {
		payload = parseJsonKeepingBigInts(new TextDecoder('utf-8', { fatal: true }).decode(body));
	} catch {
		return { ok: false, reason: 'malformed_json', message: 'The body is not valid JSON' };
	}
	if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
		return { ok: false, reason: 'malformed_json', message: 'The body must be a JSON object' };
	}
	return { ok: true, delivery: { webhookId, topic, payload } };
}
