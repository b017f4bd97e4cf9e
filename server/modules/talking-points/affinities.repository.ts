/**
 * Product affinities ("bought together" in the brand's own baskets), precomputed so the
 * profile only reads a few index rows. Kysely/SQL only.
 */
import { sql } from 'kysely';
import type { Db, DbOrTrx } from '../../db/index.ts';

export interface RefreshOptions {
	/** only baskets from the last N days count */
	sinceDays?: number;
	/** keep the N strongest companions per product */
	topN?: number;
}

/**
 * Recomputes product_affinities set-based: every store receipt and open EC order is a basket;
 * each pair of distinct products in a basket scores one. Runs in one transaction, so readers
 * see either the old or the new table.
 */
export async function refreshProductAffinities(db: Db, options: RefreshOptions = {}): Promise<number> {
	const sinceDays = options.sinceDays ?? 365;
	const topN = options.topN ?? 20;
	return db.transaction().execute(async (trx) => {
		// one refresher at a time across processes; a concurrent caller skips (returns -1)
		const lock = await sql<{ ok: boolean }>`select pg_try_advisory_xact_lock(hashtext('product_affinities')) as ok`.execute(trx);
		if (!lock.rows[0]?.ok) return -1;
		await sql`delete from product_affinities`.execute(trx);
		const result = await sql`
			insert into product_affinities (product_id, other_product_id, score)
			with baskets as materialized (
				select distinct 's' || l.purchase_id as basket, l.product_id
				from store_purchase_lines l
				join store_purchases p on p.id = l.purchase_id
				where p.kind = 'sale' and l.product_id is not null
					and p.purchased_at >= now() - make_interval(days => ${sinceDays})
				union
				select 'e' || l.order_id, l.product_id
				from ec_order_lines l
				join ec_orders o on o.id = l.order_id
				where o.status = 'open' and l.product_id is not null
					and o.ordered_at >= now() - make_interval(days => ${sinceDays})
			),
			pairs as (
				select a.product_id, b.product_id as other_product_id, count(*)::int as score
				from baskets a
				join baskets b on b.basket = a.basket and b.product_id <> a.product_id
				group by a.product_id, b.product_id
			)
			select product_id, other_product_id, score
			from (
				select pairs.*, row_number() over (partition by product_id order by score desc, other_product_id) as rank
				from pairs
			) ranked
			where rank <= ${topN}`.execute(trx);
		return Number(result.numAffectedRows ?? 0);
	});
}

/** When the table was last refreshed (null: never, or nothing to pair). */
export async function lastAffinityRefresh(db: DbOrTrx): Promise<Date | null> {
	const row = await db
		.selectFrom('product_affinities')
		.select((eb) => eb.fn.max('refreshed_at').as('at'))
		.executeTakeFirst();
	return row?.at ? new Date(row.at) : null;
}

/**
 * Companions of the given products the customer does not own yet, strongest first.
 */
export async function complementaryProducts(db: DbOrTrx, productIds: number[], ownedIds: number[], limit: number) {
	if (productIds.length === 0) return [];
	let query = db
		.selectFrom('product_affinities as a')
		.innerJoin('products as p', 'p.id', 'a.other_product_id')
		.innerJoin('products as src', 'src.id', 'a.product_id')
		.select((eb) => [
			'p.id',
			'p.sku',
			'p.name',
			'p.price_yen',
			'p.image_url',
			'p.ec_url',
			eb.fn.sum<number>('a.score').as('score'),
			// the source product with the strongest link, for the reason text
			sql<string>`(array_agg(src.name order by a.score desc))[1]`.as('because')
		])
		.where('a.product_id', 'in', productIds)
		.where('p.active', '=', true)
		.groupBy(['p.id', 'p.sku', 'p.name', 'p.price_yen', 'p.image_url', 'p.ec_url'])
		.orderBy('score', 'desc')
		.orderBy('p.id')
		.limit(limit);
	if (ownedIds.length > 0) query = query.where('a.other_product_id', 'not in', ownedIds);
	return query.execute();
}

/** A few active products of the given categories (care products for the shoe-care point). */
export async function productsInCategories(db: DbOrTrx, categories: string[], limit: number) {
	if (categories.length === 0) return [];
	return db
		.selectFrom('products')
		.select(['id', 'sku', 'name', 'price_yen'])
		.where('category', 'in', categories)
		.where('active', '=', true)
		.orderBy('id')
		.limit(limit)
		.execute();
}
