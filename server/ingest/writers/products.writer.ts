/** Product master rows, keyed by SKU (the last row of a SKU in a batch wins). */
import type { Trx } from '../../db/index.ts';
import { upsertProducts, type ProductUpsert } from '../../modules/products/products.service.ts';
import type { ProductRow } from '../row-schemas.ts';
import { emptyOutcome, type BatchOutcome, type NumberedRow } from './types.ts';

export async function writeProductsBatch(trx: Trx, rows: Array<NumberedRow<ProductRow>>): Promise<BatchOutcome> {
	const outcome = emptyOutcome();
	const bySku = new Map<string, ProductUpsert>();
	for (const { row } of rows) bySku.set(row.sku, row);
	const { inserted, updated } = await upsertProducts(trx, [...bySku.values()]);
	outcome.counts = { products_new: inserted, products_updated: updated };
	return outcome;
}
