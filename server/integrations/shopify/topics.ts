/** The Shopify webhook topics we subscribe to, and what each one carries at the payload root. */
export const SHOPIFY_TOPICS = {
	'orders/create': 'order',
	'orders/updated': 'order',
	'orders/cancelled': 'order',
	'refunds/create': 'refund'
} as const;

export type ShopifyTopic = keyof typeof SHOPIFY_TOPICS;
export type ShopifyPayloadKind = (typeof SHOPIFY_TOPICS)[ShopifyTopic];

export function isShopifyTopic(topic: string): topic is ShopifyTopic {
	return Object.hasOwn(SHOPIFY_TOPICS, topic);
}
