/**
 * Inbox handler for source 'shopify': normalise the stored payloads, then apply them as orders
 * or refunds. A claimed batch is applied set-based in one go (`batch`); the inbox falls back to
 * one row per transaction when the batch fails, so a bad delivery is parked on its own.
 */
import { ShopifyPayloadError } from '../../integrations/shopify/errors.ts';
import { normalizeShopifyPayload } from '../../integrations/shopify/normalize.ts';
import { isShopifyTopic } from '../../integrations/shopify/topics.ts';
import type { OrderDelivery, Orders } from '../orders/orders.service.ts';
import { PermanentInboxError, type InboxHandler, type InboxRow } from './inbox.service.ts';

export const SHOPIFY_SOURCE = 'shopify';

function deliveryOf(row: InboxRow): OrderDelivery {
	if (!isShopifyTopic(row.topic)) throw new PermanentInboxError(`unknown topic ${row.topic}`);
	try {
		const normalized = normalizeShopifyPayload(row.topic, row.payload);
		return normalized.kind === 'order' ? { kind: 'order', order: normalized.order } : { kind: 'refund', refund: normalized.refund };
	} catch (err) {
		if (err instanceof ShopifyPayloadError) throw new PermanentInboxError(err.message);
		throw err;
	}
}

/** The inbox handler for Shopify deliveries, applied through the given orders module. */
export function shopifyInboxHandler(orders: Orders): InboxHandler {
	return Object.assign(
		async (trx: Parameters<InboxHandler>[0], row: InboxRow) => {
			await orders.applyDeliveries(trx, [deliveryOf(row)]);
		},
		{
			batch: async (trx: Parameters<InboxHandler>[0], rows: InboxRow[]) => {
				await orders.applyDeliveries(trx, rows.map(deliveryOf));
			}
		}
	);
}
