/** Hiragana → katakana, so search input in either kana matches the stored katakana readings (server and tablet). */
export function toKatakana(input: string): string {
	return input.replace(/[\u3041-\u3096]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) + 0x60));
}

/**
 * A reading as typed on a phone → the stored form: NFKC (half-width ｶﾅ → full-width, full-width
 * space → space), hiragana → katakana, runs of spaces → one, trimmed.
 */
export function normalizeKana(input: string): string {
	return toKatakana(input.normalize('NFKC')).replace(/\s+/g, ' ').trim();
}

/** Katakana only (with ー, ・ and single spaces between words). */
export function isKatakanaReading(input: string): boolean {
	return /^[\u30A1-\u30FA\u30FC\u30FB]+(?: [\u30A1-\u30FA\u30FC\u30FB]+)*$/.test(input);
}
