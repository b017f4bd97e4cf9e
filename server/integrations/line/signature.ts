/** The x-line-signature check: HMAC-SHA256 of the raw body with the channel secret (the SDK's own check). */
import { validateSignature } from '@line/bot-sdk';

export function isValidLineSignature(rawBody: string, channelSecret: string, signature: string | undefined): boolean {
	if (!signature) return false;
	try {
		return validateSignature(rawBody, channelSecret, signature);
	} catch {
		// timingSafeEqual throws on length mismatch: a malformed header is simply a bad signature.
		return false;
	}
}
