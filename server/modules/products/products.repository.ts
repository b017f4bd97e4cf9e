/** Catalog lookups for the consultation form (Kysely) and the product master writes of the CSV import (set-based). */
import { sql } from 'kysely';
import type { DbOrTrx, Trx } from '../../db/index.ts';
import { intArray, textArray } from '../../db/pg-array.ts';
import type { Product } from '../../db/types.ts';
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

// ── product master (CSV import) ─────────────────────────────────────────────────────────────

/** A product row as a CSV supplies it: the table's own columns, so the two cannot drift apart. */
export type ProductUpsert = Pick<
	Product,
	'sku' | 'jan' | 'name' | 'category' | 'price_yen' | 'ec_product_id' | 'ec_url' | 'image_url'
>;

/** Products keyed by SKU; changed rows are updated, identical ones left alone. */
export async function upsertProducts(trx: Trx, rows: ProductUpsert[]): Promise<{ inserted: number; updated: number }> {
	if (rows.length === 0) return { inserted: 0, updated: 0 };
	const col = <K extends keyof ProductUpsert>(k: K) => rows.map((r) => r[k]);
	const result = await sql<{ inserted: number; updated: number }>`
		with up as (
			insert into products (sku, jan, name, category, price_yen, ec_product_id, ec_url, image_url)
			select * from unnest(
				${textArray(col('sku'))}::text[], ${textArray(col('jan'))}::text[], ${textArray(col('name'))}::text[], ${textArray(col('category'))}::text[],
				${intArray(col('price_yen'))}::int[], ${textArray(col('ec_product_id'))}::text[], ${textArray(col('ec_url'))}::text[], ${textArray(col('image_url'))}::text[]
			)
			on conflict (sku) do update set jan = excluded.jan, name = excluded.name, category = excluded.category,
				price_yen = excluded.price_yen, ec_product_id = excluded.ec_product_id, ec_url = excluded.ec_url,
				image_url = excluded.image_url, updated_at = now()
			where (products.jan, products.name, products.category, products.price_yen, products.ec_product_id,
					products.ec_url, products.image_url)
				is distinct from (excluded.jan, excluded.name, excluded.category, excluded.price_yen,
					excluded.ec_product_id, excluded.ec_url, excluded.image_url)
			returning (xmax = 0) as inserted
		)
		select count(*) filter (where inserted)::int as inserted, count(*) filter (where not inserted)::int as updated
		from up`.execute(trx);
	return result.rows[0];
}

/** Product ids by SKU, for an import that resolves its lines' products itself. */
export async function listProductIdsBySku(db: DbOrTrx): Promise<Array<{ id: number; sku: string }>> {
	return db.selectFrom('products').select(['id', 'sku']).execute();
}
