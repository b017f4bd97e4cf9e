/** Catalog lookups for the consultation form: Kysely only. */
import type { DbOrTrx } from '../../db/index.ts';
import { escapeLike } from '../../db/like.ts';
import { toKatakana } from '../../shared/kana.ts';

const COLUMNS = ['id', 'sku', 'jan', 'name', 'category', 'price_yen', 'image_url'] as const;

export async function findByCode(db: DbOrTrx, code: string) {
	return db
		.selectFrom('products')
		.select(COLUMNS)
		.where((eb) => eb.or([eb('jan', '=', code), eb('sku', '=', code)]))
		.orderBy('active', 'desc')
		.limit(1)
		.executeTakeFirst();
}

/**
 * SKU or name prefix first, then names or categories containing the text anywhere (「ケア」 finds
 * the シューケア products), typed in hiragana or katakana. Substring matches scan `products`, which
 * is the brand's catalogue (hundreds to a few thousand rows, active only): well under a millisecond,
 * so no trigram index (pg_trgm is not in every PGlite build either).
 */
export async function search(db: DbOrTrx, q: string, limit: number) {
	const forms = [...new Set([q, toKatakana(q)])];
	const prefix = `${escapeLike(q)}%`;
	const contains = forms.map((f) => `%${escapeLike(f)}%`);
	return db
		.selectFrom('products')
		.select(COLUMNS)
		.where('active', '=', true)
		.where((eb) =>
			eb.or([
				eb('sku', 'like', prefix),
				eb('jan', '=', q),
				...contains.flatMap((c) => [eb('name', 'like', c), eb('category', 'like', c)])
			])
		)
		.orderBy((eb) =>
			eb.case().when('sku', 'like', prefix).then(0).when('name', 'like', prefix).then(1).when('category', '=', q).then(2).else(3).end()
		)
		.orderBy('name')
		.limit(limit)
		.execute();
}

export type ProductRow = NonNullable<Awaited<ReturnType<typeof findByCode>>>;
