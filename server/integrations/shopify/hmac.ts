/**
 * Shopify webhook signatures: `X-Shopify-Hmac-Sha256` is the base64 HMAC-SHA256 of the raw
 * request body with the app's webhook secret. Computed over the exact bytes received (never a
 * re-serialised body) and compared in constant time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export function computeShopifyHmac(body: Uint8Array | string, secret: string): string {
	return createHmac('sha256', secret).update(body).digest('base64');
}

export function verifyShopifyHmac(body: Uint8Array, header: string | undefined, secret: string): boolean {
	if (!header || !/^[A-Za-z0-9+/]+={0,2}$/.test(header.trim())) return false;
	const given = Buffer.from(header.trim(), 'base64');
	const expected = createHmac('sha256', secret).update(body).digest();
	// timingSafeEqual throws on different lengths; a length mismatch is simply "not equal".
	return given.length === expected.length && timingSafeEqual(given, expected);
}
