/**
 * store_purchase_lines_product_idx (product_id) serves no query of the product: lines are read
 * by their receipt (profile, member card: the primary key's purchase_id) or in whole (product
 * affinities scan every line of the last year); nothing looks lines up by product. Its only
 * reader would be the foreign-key check of a deleted product, and products are deactivated
 * (`active`), never deleted. Its upkeep was a random insert into a second index for each of
 * the million lines of a POS import, so it goes, like the two unused store_purchases indexes.
 */
import type { Kysely } from 'kysely';
import { runStatements } from './2026-11-23T0900_schema_v1.ts';

export async function up(db: Kysely<any>): Promise<void> {
	await runStatements(db, `drop index if exists store_purchase_lines_product_idx`);
}

export async function down(db: Kysely<any>): Promise<void> {
	await runStatements(db, `create index if not exists store_purchase_lines_product_idx on store_purchase_lines (product_id)`);
}
