/** Catalog lookups for the consultation form: Kysely only. */
import type { DbOrTrx } from '../../db/index.ts';
import { escapeLike } from '../../db/like.ts';

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

/** SKU or name prefix first (index-backed), then names containing the words (small catalog). */
export async function search(db: DbOrTrx, q: string, limit: number) {
	const prefix = `${escapeLike(q)}%`;
	const contains = `%${escapeLike(q)}%`;
	return db
		.selectFrom('products')
		.select(COLUMNS)
		.where('active', '=', true)
		.where((eb) =>
			eb.or([eb('sku', 'like', prefix), eb('jan', '=', q), eb('name', 'like', contains), eb('category', '=', q)])
		)
		.orderBy((eb) => eb.case().when('sku', 'like', prefix).then(0).when('name', 'like', prefix).then(1).else(2).end())
		.orderBy('name')
		.limit(limit)
		.execute();
}

export type ProductRow = NonNullable<Awaited<ReturnType<typeof findByCode>>>;
