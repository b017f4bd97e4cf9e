/**
 * The importer's own table (import_runs) and the small lookups a run loads once (stores,
 * staff codes: read only).
 */
import type { DbOrTrx } from '../db/index.ts';

export async function listStoreIds(db: DbOrTrx): Promise<string[]> {
	return (await db.selectFrom('stores').select('id').execute()).map((r) => r.id);
}

export async function listStaffCodes(db: DbOrTrx): Promise<Array<{ staff_code: string; id: string }>> {
	return db.selectFrom('staff').select(['staff_code', 'id']).execute();
}

// ── import runs ─────────────────────────────────────────────────────────────────────────────

export async function startImportRun(db: DbOrTrx, kind: string, fileName: string): Promise<number> {
	const row = await db.insertInto('import_runs').values({ kind, file_name: fileName }).returning('id').executeTakeFirstOrThrow();
	return row.id;
}

export async function finishImportRun(db: DbOrTrx, id: number, rowsOk: number, rowsBad: number): Promise<void> {
	await db
		.updateTable('import_runs')
		.set({ finished_at: new Date(), rows_ok: rowsOk, rows_bad: rowsBad })
		.where('id', '=', id)
		.execute();
}
