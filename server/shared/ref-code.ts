/**
 * The tracked-link ref carried from a click to an EC order: one definition of where it is read.
 * The redirect and `/sdk/ref.js` write `tsunagu_ref`; carts and landing URLs of older themes may
 * carry `ref`. Both are read, `tsunagu_ref` first, from the cart attributes and the landing URL.
 */
export const REF_PARAM = 'tsunagu_ref';
export const REF_NAMES = [REF_PARAM, 'ref'] as const;

/** The ref of an order's cart attributes (note_attributes), or null. */
export function refFromAttributes(attributes: ReadonlyArray<{ name: string; value: string }> | null | undefined): string | null {
	for (const name of REF_NAMES) {
		const value = attributes?.find((a) => a.name === name)?.value?.trim();
		if (value) return value;
	}
	return null;
}

/** The ref of a landing URL (absolute or a path with a query), or null; a malformed URL has none. */
export function refFromUrl(url: string | null | undefined): string | null {
	if (!url) return null;
	try {
		const params = new URL(url, 'https://shop.invalid').searchParams;
		for (const name of REF_NAMES) {
			const value = params.get(name)?.trim();
			if (value) return value;
		}
	} catch {
		// a malformed landing_site carries no ref
	}
	return null;
}
