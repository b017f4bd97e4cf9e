/** Product search and barcode lookup for the consultation form. */
import type { Db } from '../../db/index.ts';
import { badRequest, notFound } from '../../errors.ts';
import type { ProductSearchResponse, ProductSummary } from './products.types.ts';
import * as repo from './products.repository.ts';

const toSummary = (p: repo.ProductRow): ProductSummary => ({
	id: p.id,
	sku: p.sku,
	jan: p.jan,
	name: p.name,
	category: p.category,
	priceYen: p.price_yen,
	imageUrl: p.image_url
});

export async function searchProducts(db: Db, raw: string): Promise<ProductSearchResponse> {
	const q = raw.normalize('NFKC').trim();
	if (q.length < 1) throw badRequest('query_too_short', 'Type at least 1 character', { q: 'Type at least 1 character' });
	return { results: (await repo.search(db, q, 20)).map(toSummary) };
}

export async function productByCode(db: Db, raw: string): Promise<ProductSummary> {
	const code = raw.normalize('NFKC').trim();
	const product = code ? await repo.findByCode(db, code) : undefined;
	if (!product) throw notFound('product_not_found', 'No product with this code');
	return toSummary(product);
}

/** The CSV import's product master: upserts by SKU, and the SKU → id map its COPY path resolves lines with. */
export { upsertProducts, listProductIdsBySku, type ProductUpsert } from './products.repository.ts';
