/**
 * Size lists per category: the brand's setting (`consultations.sizeLists`) picks which
 * categories it records and the sizes each offers; these are the defaults, shared by the server
 * (validation), the tablet (its picker works offline before the lists were ever fetched) and the
 * free-text migration. Categories are a fixed set so every label exists in Japanese and English.
 */
export const SIZE_CATEGORIES = ['shoes', 'tops', 'bottoms', 'outerwear'] as const;
export type SizeCategory = (typeof SIZE_CATEGORIES)[number];
export type SizeLists = Partial<Record<SizeCategory, string[]>>;

const LETTER_SIZES = ['XS', 'S', 'M', 'L', 'XL', 'XXL'];

function range(from: number, to: number, step: number, format: (n: number) => string): string[] {
	const out: string[] = [];
	for (let n = from; n <= to + 1e-9; n += step) out.push(format(n));
	return out;
}

/** Shoes in cm (JIS, 22.0–29.0 by 0.5); bottoms by letter, waist cm (JIS women's) or waist inches. */
export const DEFAULT_SIZE_LISTS: Required<SizeLists> = {
	shoes: range(22, 29, 0.5, (n) => n.toFixed(1)),
	tops: LETTER_SIZES,
	bottoms: [...LETTER_SIZES, ...range(58, 76, 3, String), ...range(26, 36, 1, (n) => `W${n}`)],
	outerwear: LETTER_SIZES
};

export function isSizeCategory(key: string): key is SizeCategory {
	return (SIZE_CATEGORIES as readonly string[]).includes(key);
}

/** Category names staff typed as free text before sizes were structured (any case, width). */
const CATEGORY_ALIASES: Record<string, SizeCategory> = {
	shoes: 'shoes', shoe: 'shoes', シューズ: 'shoes', 靴: 'shoes', くつ: 'shoes', クツ: 'shoes', スニーカー: 'shoes',
	tops: 'tops', top: 'tops', トップス: 'tops', シャツ: 'tops', ニット: 'tops',
	bottoms: 'bottoms', bottom: 'bottoms', ボトムス: 'bottoms', ボトム: 'bottoms', パンツ: 'bottoms', pants: 'bottoms', スカート: 'bottoms', ウエスト: 'bottoms',
	outerwear: 'outerwear', outer: 'outerwear', アウター: 'outerwear', コート: 'outerwear', ジャケット: 'outerwear'
};

/** The category a free-text name stands for, or null. */
export function sizeCategoryOf(raw: string): SizeCategory | null {
	const key = raw.normalize('NFKC').trim().toLowerCase();
	return CATEGORY_ALIASES[key] ?? null;
}

/**
 * The list entry a typed size stands for, or null: full-width and case folded, a unit dropped
 * ("24.5cm", "24.5センチ"), a shoe size given with or without its ".0" ("24" → "24.0"), a waist
 * in inches with or without its W ("30" in a list that only has W30).
 */
export function matchSize(raw: string, list: readonly string[]): string | null {
	const text = raw.normalize('NFKC').trim().toUpperCase().replace(/\s+/g, '').replace(/(CM|センチ|号)$/, '');
	if (list.includes(text)) return text;
	if (/^\d+(\.\d+)?$/.test(text)) {
		const n = Number(text);
		const sameNumber = list.find((s) => /^\d+(\.\d+)?$/.test(s) && Number(s) === n);
		if (sameNumber) return sameNumber;
		if (list.includes(`W${text}`)) return `W${text}`;
	}
	return null;
}
