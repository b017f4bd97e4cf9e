/** Hiragana → katakana, so search input in either kana matches the stored katakana readings (server and tablet). */
export function toKatakana(input: string): string {
	return input.replace(/[\u3041-\u3096]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) + 0x60));
}
