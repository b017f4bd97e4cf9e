import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineSetting, readSetting, writeSetting } from '../../server/modules/settings/settings.service.ts';
import { AppError } from '../../server/errors.ts';
import { createTestDatabase, testDbKinds, type TestDatabase } from '../helpers/db.ts';

const quietHours = defineSetting(
	'test.quietHours',
	v.object({ start: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(23)), end: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(23)) }),
	{ start: 21, end: 9 }
);

describe.each(testDbKinds())('brand settings on %s', (kind) => {
	let tdb: TestDatabase;
	beforeAll(async () => {
		tdb = await createTestDatabase(kind);
	});
	afterAll(async () => tdb?.dispose());

	it('reads the default until a value is stored, then the stored value', async () => {
		expect(await readSetting(tdb.db, quietHours)).toEqual({ start: 21, end: 9 });
		await writeSetting(tdb.db, quietHours, { start: 20, end: 10 }, null);
		expect(await readSetting(tdb.db, quietHours)).toEqual({ start: 20, end: 10 });
		await writeSetting(tdb.db, quietHours, { start: 22, end: 8 }, null);
		expect(await readSetting(tdb.db, quietHours)).toEqual({ start: 22, end: 8 });
	});

	it('refuses a value that does not fit the schema and keeps the stored one', async () => {
		await expect(writeSetting(tdb.db, quietHours, { start: 25, end: 8 }, null)).rejects.toBeInstanceOf(AppError);
		expect(await readSetting(tdb.db, quietHours)).toEqual({ start: 22, end: 8 });
	});

	it('falls back to the default when a stored value no longer fits', async () => {
		await tdb.db.updateTable('brand_settings').set({ value: JSON.stringify('old shape') }).where('key', '=', quietHours.key).execute();
		expect(await readSetting(tdb.db, quietHours)).toEqual({ start: 21, end: 9 });
	});
});
