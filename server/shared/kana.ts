/**
 * Search-input normalisation shared by the server's customer search and the tablet's offline
 * search. Built on Unicode NFKC (the maintained normaliser: full-width Latin and digits → ASCII,
 * half-width katakana → full-width, U+3000 → space) plus the one fold NFKC does not do,
 * hiragana → katakana, so 「やまだ」「ﾔﾏﾀﾞ」「ヤマダ」 all read as ヤマダ.
 */

/** Hiragana → katakana, so search input in either kana matches the stored katakana readings (server and tablet). */
export function toKatakana(input: string): string {
	return input.replace(/[\u3041-\u3096\u309d\u309e]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) + 0x60));
}

/** Dashes people type in phone numbers (ASCII, full-width after NFKC, katakana long vowel, minus signs). */
const DASHES = /[-\u2010-\u2015\u2212\u30fc\uff0d]/g;

/** NFKC, hiragana → katakana, every run of white space one ASCII space, trimmed. */
export function normalizeSearchText(raw: string): string {
	return toKatakana(raw.normalize('NFKC')).replace(/\s+/g, ' ').trim();
}

export type SearchQuery =
	| { kind: 'too_short'; text: string }
	/** Only digits (phone hyphens, brackets, spaces and a +81 prefix removed). */
	| { kind: 'digits'; text: string; digits: string }
	/** A name or kana: `tokens` split on spaces, `compact` without them. */
	| { kind: 'name'; text: string; tokens: string[]; compact: string };

/**
 * What a search box's text asks for: digits (member number, whole phone number, or a phone's
 * last 4) or a name. Fewer than 2 characters (after normalisation) is too short.
 */
export function parseSearchQuery(raw: string): SearchQuery {
	const text = normalizeSearchText(raw);
	if (/^[\d\s()+\-\u2010-\u2015\u2212\u30fc\uff0d]+$/.test(text) && /\d/.test(text)) {
		let digits = text.replace(DASHES, '').replace(/[\s()]/g, '');
		if (digits.startsWith('+81')) digits = '0' + digits.slice(3);
		digits = digits.replace(/\D/g, '');
		if (digits.length < 2) return { kind: 'too_short', text };
		return { kind: 'digits', text, digits };
	}
	const compact = text.replace(/ /g, '');
	if (compact.length < 2) return { kind: 'too_short', text };
	return { kind: 'name', text, tokens: text.split(' '), compact };
}

/** How well a name matches: 0 exact full name, 1 exact family name, 2 prefix, null no match. */
export function nameMatchTier(
	query: { tokens: string[]; compact: string },
	person: { family: string | null; given: string | null; familyKana: string | null; givenKana: string | null }
): 0 | 1 | 2 | null {
	const forms = [
		[person.family ?? '', person.given ?? ''],
		[normalizeSearchText(person.familyKana ?? ''), normalizeSearchText(person.givenKana ?? '')]
	].map(([f, g]) => ({ family: f, given: g, full: f + g }));
	let best: 0 | 1 | 2 | null = null;
	for (const form of forms) {
		if (!form.full) continue;
		let tier: 0 | 1 | 2 | null = null;
		if (form.full === query.compact) tier = 0;
		else if (query.tokens.length === 1 && form.family === query.compact) tier = 1;
		else if (query.tokens.length > 1) {
			const [family, ...rest] = query.tokens;
			if (form.family === family && form.given.startsWith(rest.join(''))) tier = 2;
			else if (form.full.startsWith(query.compact)) tier = 2;
		} else if (form.full.startsWith(query.compact)) tier = 2;
		if (tier !== null && (best === null || tier < best)) best = tier;
	}
	return best;
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
