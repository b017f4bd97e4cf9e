/**
 * Tracked-link codes and the redirect target. Codes are 128 random bits in base62 (22
 * characters): unguessable, URL-safe, and short enough for a LINE button.
 */
import { randomBytes } from 'node:crypto';
import { REF_PARAM } from '../../shared/ref-code.ts';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const CODE_BYTES = 16;
export const CODE_LENGTH = 22;
export const CODE_PATTERN = /^[0-9A-Za-z]{22}$/;

export function mintLinkCode(): string {
	let n = BigInt(`0x${randomBytes(CODE_BYTES).toString('hex')}`);
	let out = '';
	for (let i = 0; i < CODE_LENGTH; i++) {
		out = ALPHABET[Number(n % 62n)] + out;
		n /= 62n;
	}
	return out;
}

/**
 * A click id: 96 random bits, so clicks from several processes never collide. Drawn from a
 * pooled buffer (one getrandom call per 1,024 ids) because it runs on every redirect.
 */
const CLICK_ID_BYTES = 12;
let clickIdPool = Buffer.alloc(0);
let clickIdOffset = 0;
export function mintClickId(): string {
	if (clickIdOffset + CLICK_ID_BYTES > clickIdPool.length) {
		clickIdPool = randomBytes(CLICK_ID_BYTES * 1024);
		clickIdOffset = 0;
	}
	const id = clickIdPool.toString('base64url', clickIdOffset, clickIdOffset + CLICK_ID_BYTES);
	clickIdOffset += CLICK_ID_BYTES;
	return id;
}

export function trackedLinkUrl(publicBaseUrl: string, code: string): string {
	return `${publicBaseUrl}/l/${code}`;
}

/** The EC URL with the attribution ref and the campaign parameters appended. */
export function redirectTarget(targetUrl: string, code: string): string {
	const url = new URL(targetUrl);
	url.searchParams.set(REF_PARAM, code);
	url.searchParams.set('utm_source', 'line');
	url.searchParams.set('utm_medium', 'staff');
	return url.toString();
}
