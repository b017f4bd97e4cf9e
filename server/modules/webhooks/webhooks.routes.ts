/**
 * Vendor webhook endpoints. Receipt only: verify, store once in the inbox, answer, wake the
 * worker — all processing happens after the answer (Shopify gives up after 5 s).
 */
import { Hono } from 'hono';
import { badRequest, unauthorized } from '../../errors.ts';
import type { AppDeps, AppEnv } from '../../http/context.ts';
import { jsonBodyLimit } from '../../http/middleware.ts';
import { readShopifyDelivery, SHOPIFY_HEADERS } from '../../integrations/shopify/webhook.ts';
import { parkUnreadableWebhook, receiveWebhook } from './inbox.service.ts';
import { SHOPIFY_SOURCE } from './shopify.handler.ts';

const MAX_WEBHOOK_BYTES = 1024 * 1024;

export function shopifyWebhookRoutes(deps: AppDeps) {
	return new Hono<AppEnv>().post(
		'/',
		jsonBodyLimit(MAX_WEBHOOK_BYTES, 'Webhook body'),
		async (c) => {
			const body = new Uint8Array(await c.req.arrayBuffer());
			const read = readShopifyDelivery(
				body,
				{
					hmac: c.req.header(SHOPIFY_HEADERS.hmac),
					topic: c.req.header(SHOPIFY_HEADERS.topic),
					webhookId: c.req.header(SHOPIFY_HEADERS.webhookId)
				},
				deps.config.shopify.webhookSecret
			);
			if (!read.ok) {
				if (read.reason === 'invalid_signature') throw unauthorized(read.reason, read.message);
				const webhookId = c.req.header(SHOPIFY_HEADERS.webhookId)?.trim();
				if (read.reason === 'missing_header' || !webhookId) throw badRequest(read.reason, read.message);
				// signed by Shopify but unusable as it is: parked, answered 200, never refused forever
				const parked = await parkUnreadableWebhook(
					deps.db,
					{ source: SHOPIFY_SOURCE, externalId: webhookId, topic: c.req.header(SHOPIFY_HEADERS.topic)?.trim().slice(0, 100) || 'unknown', body: new TextDecoder().decode(body) },
					`${read.reason}: ${read.message}`
				);
				c.get('log').warn({ inboxId: parked.id, reason: read.reason }, 'shopify webhook parked on receipt');
				return c.json({ ok: true as const, parked: true as const }, 200);
			}
			const { webhookId, topic, payload } = read.delivery;
			const stored = await receiveWebhook(deps.db, { source: SHOPIFY_SOURCE, externalId: webhookId, topic, payload });
			if (!stored.duplicate) deps.wake.inbox();
			c.get('log').info({ inboxId: stored.id, topic, duplicate: stored.duplicate }, 'shopify webhook stored');
			return c.json(stored.duplicate ? { ok: true as const, duplicate: true as const } : { ok: true as const }, 200);
		}
	);
}
