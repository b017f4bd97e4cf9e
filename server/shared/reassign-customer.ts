/**
 * The one statement behind every owning module's "reassign customer" function (a merge moves a
 * customer's rows to the surviving record; an undo moves exactly those rows back). Only the
 * owning module's repository calls it, with its own table: the table name is never input.
 */
import { sql } from 'kysely';
import type { DbOrTrx } from '../db/index.ts';
import { textArray } from '../db/pg-array.ts';

export interface ReassignOptions {
	/** Move only these rows (by the table's id column, as text); all of `from`'s rows when absent. */
	onlyIds?: readonly string[];
}

/** Moves `from`'s rows of `table` to `to`; returns the ids (as text) of the rows moved. */
export async function reassignCustomerRows(
	db: DbOrTrx,
	table: string,
	idColumn: string,
	from: string,
	to: string,
	options: ReassignOptions = {}
): Promise<string[]> {
	if (options.onlyIds && options.onlyIds.length === 0) return [];
	const only = options.onlyIds ? sql`and ${sql.ref(idColumn)}::text = any(${textArray(options.onlyIds)}::text[])` : sql``;
	const { rows } = await sql<{ id: string }>`
		update ${sql.table(table)} set customer_id = ${to}
		where customer_id = ${from} ${only}
		returning ${sql.ref(idColumn)}::text as id`.execute(db);
	return rows.map((r) => r.id);
}
