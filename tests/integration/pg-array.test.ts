/**
 * The array literals of pg-array.ts, read back by the database: every value comes back as it
 * was, whether or not it had to be quoted.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { intArray, textArray, uuidArray } from '../../server/db/pg-array.ts';
import { createTestDatabase, testDbKinds, type TestDatabase } from '../helpers/db.ts';

const TRICKY = [
	'plain',
	'',
	null,
	'NULL',
	'null',
	' leading',
	'trailing ',
	'inner space',
	'{braces}',
	'a,b',
	'say "hi"',
	'back\\slash',
	'tab\there',
	'line\nbreak',
	'渋谷店　全角スペース',
	'8c2f6a52-0e1b-4c43-9a7e-5b0f3c1d2e4f',
	'2026-11-24T09:00:00+09:00'
];

describe.each(testDbKinds())('pg array literals on %s', (kind) => {
	let tdb: TestDatabase;
	beforeAll(async () => {
		tdb = await createTestDatabase(kind);
	});
	afterAll(async () => tdb?.dispose());

	it('text values come back exactly, quoted or not', async () => {
		const { rows } = await sql<{ a: Array<string | null> }>`select ${textArray(TRICKY)}::text[] as a`.execute(tdb.db);
		expect(rows[0].a).toEqual(TRICKY);
	});

	it('uuids, with and without NULL', async () => {
		const ids = ['8c2f6a52-0e1b-4c43-9a7e-5b0f3c1d2e4f', '00000000-0000-4000-8000-000000000000'];
		const { rows } = await sql<{ a: string[]; b: Array<string | null> }>`select ${uuidArray(ids)}::uuid[] as a, ${uuidArray([ids[0], null])}::uuid[] as b`.execute(tdb.db);
		expect(rows[0].a).toEqual(ids);
		expect(rows[0].b).toEqual([ids[0], null]);
	});

	it('integers and empty arrays too', async () => {
		const { rows } = await sql<{ i: string[]; e: string[] }>`select ${intArray([1, -2, null, 2 ** 40])}::bigint[]::text[] as i, ${textArray([])}::text[] as e`.execute(tdb.db);
		expect(rows[0].i).toEqual(['1', '-2', null, String(2 ** 40)]);
		expect(rows[0].e).toEqual([]);
	});
});
