/** Inbox handler for source 'shopify': normalise the stored payload, then apply it as an order or a refund. */
import { ShopifyPayloadError } from '../../integrations/shopify/errors.ts';
import { normalizeShopifyPayload } from '../../integrations/shopify/normalize.ts';
import { isShopifyTopic } from '../../integrations/shopify/topics.ts';
import { applyOrder, applyRefund } from '../orders/orders.service.ts';
import { PermanentInboxError, type InboxHandler } from './inbox.service.ts';

export const SHOPIFY_SOURCE = 'shopify';

export const handleShopifyInboxRow: InboxHandler = async (trx, row) => {
	if (!isShopifyTopic(row.topic)) throw new PermanentInboxError(`unknown topic ${row.topic}`);
	let normalized;
	try {
		normalized = normalizeShopifyPayload(row.topic, row.payload);
	} catch (err) {
		if (err instanceof ShopifyPayloadError) throw new PermanentInboxError(err.message);
		throw err;
	}
	if (normalized.kind === 'order') await applyOrder(trx, normalized.order);
	else await applyRefund(trx, normalized.refund);
};
