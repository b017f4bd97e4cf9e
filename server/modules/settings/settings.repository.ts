/** brand_settings: one JSON value per key. Only the settings module writes this table. */
import type { DbOrTrx } from '../../db/index.ts';

export async function findSettings(db: DbOrTrx, keys: string[]): Promise<Map<string, unknown>> {
	if (keys.length === 0) return new Map();
	const rows = await db.selectFrom('brand_settings').select(['key', 'value']).where('key', 'in', keys).execute();
	return new Map(rows.map((r) => [r.key, r.value]));
}

export async function upsertSetting(db: DbOrTrx, key: string, value: unknown, staffId: string | null): Promise<void> {
	await db
		.insertInto('brand_settings')
		.values({ key, value: JSON.stringify(value), updated_by: staffId })
		.onConflict((oc) => oc.column('key').doUpdateSet({ value: JSON.stringify(value), updated_by: staffId, updated_at: new Date() }))
		.execute();
}
