/** A Shopify payload we can never process as it is (wrong shape, non-JPY money): retrying will not help. */
export class ShopifyPayloadError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'ShopifyPayloadError';
	}
}
