/**
 * JSON parsing that keeps Shopify's big integer ids exact. Shopify sends ids as JSON numbers
 * (`"id": 7300000000000000001`) that exceed 2^53, so a plain JSON.parse silently rounds them.
 * We quote every integer literal that is not a safe integer in the raw text first (strings are
 * skipped token by token, so digits inside strings are never touched), then JSON.parse.
 */

// One JSON string token, or one complete number token (so a fraction's digits are never
// mistaken for an integer of their own).
const TOKEN = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;
const INTEGER = /^-?\d+$/;

export function quoteUnsafeIntegers(text: string): string {
	return text.replace(TOKEN, (token) => {
		if (token.charCodeAt(0) === 34) return token; // a string
		return INTEGER.test(token) && !Number.isSafeInteger(Number(token)) ? `"${token}"` : token;
	});
}

/** JSON.parse where integers beyond 2^53 come back as their exact decimal strings. */
export function parseJsonKeepingBigInts(text: string): unknown {
	return JSON.parse(quoteUnsafeIntegers(text));
}
