/**
 * Shopify money is a decimal string in the shop currency ("12800.00"). We only take JPY, which
 * has no minor unit, so an amount converts to integer yen exactly or is refused.
 */
import { ShopifyPayloadError } from './errors.ts';

const DECIMAL = /^-?\d+(?:\.(\d+))?$/;

export function yenFromShopifyAmount(amount: string | number, field: string): number {
	const text = typeof amount === 'number' ? String(amount) : amount.trim();
	const match = DECIMAL.exec(text);
	if (!match) throw new ShopifyPayloadError(`${field}: not a decimal amount`);
	if (match[1] && /[1-9]/.test(match[1])) throw new ShopifyPayloadError(`${field}: JPY amounts have no fraction`);
	const yen = Number(text.split('.')[0]);
	if (!Number.isSafeInteger(yen) || Math.abs(yen) > 2_147_483_647) throw new ShopifyPayloadError(`${field}: out of range`);
	return yen === 0 ? 0 : yen; // no -0
}

export function requireJpy(currency: string | null | undefined, field: string): void {
	if (currency && currency.toUpperCase() !== 'JPY') {
		throw new ShopifyPayloadError(`${field}: unsupported currency ${currency} (JPY only)`);
	}
}
