/**
 * Sizes become structured (issue 15): a consultation's `sizes` holds only entries of the brand's
 * size lists, keyed by a fixed category (shoes, tops, bottoms, outerwear). Free-text sizes typed
 * before are read where they match a list ("シューズ" "24" → shoes 24.0, "トップス" "ｍ" → tops M);
 * the rest move, as typed, to `legacy_sizes`, which the profile shows as earlier notes, so
 * nothing typed is lost. The lists and aliases below are the defaults of the day, frozen here.
 * Frozen once shipped. Kysely<any> and raw SQL only.
 */
import { sql, type Kysely } from 'kysely';

const LETTERS = ['XS', 'S', 'M', 'L', 'XL', 'XXL'];
const LISTS: Record<string, string[]> = {
	shoes: Array.from({ length: 15 }, (_, i) => (22 + i / 2).toFixed(1)),
	tops: LETTERS,
	bottoms: [...LETTERS, '58', '61', '64', '67', '70', '73', '76', ...Array.from({ length: 11 }, (_, i) => `W${26 + i}`)],
	outerwear: LETTERS
};
const ALIASES: Record<string, string> = {
	shoes: 'shoes', shoe: 'shoes', シューズ: 'shoes', 靴: 'shoes', くつ: 'shoes', クツ: 'shoes', スニーカー: 'shoes',
	tops: 'tops', top: 'tops', トップス: 'tops', シャツ: 'tops', ニット: 'tops',
	bottoms: 'bottoms', bottom: 'bottoms', ボトムス: 'bottoms', ボトム: 'bottoms', パンツ: 'bottoms', pants: 'bottoms', スカート: 'bottoms', ウエスト: 'bottoms',
	outerwear: 'outerwear', outer: 'outerwear', アウター: 'outerwear', コート: 'outerwear', ジャケット: 'outerwear'
};

function match(raw: string, list: string[]): string | null {
	const text = raw.normalize('NFKC').trim().toUpperCase().replace(/\s+/g, '').replace(/(CM|センチ|号)$/, '');
	if (list.includes(text)) return text;
	if (/^\d+(\.\d+)?$/.test(text)) {
		const same = list.find((s) => /^\d+(\.\d+)?$/.test(s) && Number(s) === Number(text));
		if (same) return same;
		if (list.includes(`W${text}`)) return `W${text}`;
	}
	return null;
}

export function splitSizes(sizes: Record<string, unknown>): { sizes: Record<string, string>; legacy: Record<string, string> } {
	const out: Record<string, string> = {};
	const legacy: Record<string, string> = {};
	for (const [key, value] of Object.entries(sizes)) {
		const raw = value == null ? '' : String(value);
		if (!raw.trim()) continue;
		const category = ALIASES[key.normalize('NFKC').trim().toLowerCase()];
		const size = category ? match(raw, LISTS[category]) : null;
		if (category && size && !(category in out)) out[category] = size;
		else legacy[key] = raw;
	}
	return { sizes: out, legacy };
}

const BATCH = 1000;

export async function up(db: Kysely<any>): Promise<void> {
	await sql`alter table consultations add column legacy_sizes jsonb not null default '{}'::jsonb`.execute(db);
	await migrateFreeTextSizes(db);
}

/** Exported for its test, which stores free text the way the old form did and runs it again. */
export async function migrateFreeTextSizes(db: Kysely<any>): Promise<void> {
	// only rows with an entry that is not already a (category, list size) pair need reading
	const rows = await sql<{ id: string; sizes: Record<string, unknown> }>`
		select id, sizes from consultations c
		where c.sizes <> '{}'::jsonb
		and exists (select 1 from jsonb_each_text(c.sizes) e
			where not coalesce(jsonb_exists(${JSON.stringify(LISTS)}::jsonb -> e.key, e.value), false))`.execute(db);
	for (let i = 0; i < rows.rows.length; i += BATCH) {
		const batch = rows.rows.slice(i, i + BATCH).map((r) => ({ id: r.id, ...splitSizes(r.sizes ?? {}) }));
		await sql`
			update consultations c set sizes = x.sizes, legacy_sizes = x.legacy
			from jsonb_to_recordset(${JSON.stringify(batch)}::jsonb) as x(id uuid, sizes jsonb, legacy jsonb)
			where c.id = x.id`.execute(db);
	}
}

export async function down(db: Kysely<any>): Promise<void> {
	await sql`alter table consultations drop column legacy_sizes`.execute(db);
}
