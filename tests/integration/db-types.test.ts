/**
 * server/db/types.ts is generated from the migrations (scripts/db-types.ts): this fails when
 * the committed file differs from what a freshly migrated database produces, so a migration
 * without `npm run db:types` (or a hand edit of the generated file) cannot land.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generate, render, tsTypeOf, type ColumnInfo } from '../../scripts/db-types.ts';

const col = (over: Partial<ColumnInfo>): ColumnInfo => ({ table: 't', column: 'c', udt: 'text', nullable: false, hasDefault: false, comment: null, ...over });

describe('generated database types', () => {
	it('match what the migrations produce (run `npm run db:types` after a migration)', async () => {
		const committed = readFileSync(new URL('../../server/db/types.ts', import.meta.url), 'utf8');
		expect(committed).toBe(await generate());
	}, 120_000);

	it('map nullability, defaults, dates and overrides the way the repositories read them', () => {
		expect(tsTypeOf(col({ udt: 'int8', hasDefault: true }))).toBe('Generated<number>');
		expect(tsTypeOf(col({ udt: 'timestamptz', nullable: true }))).toBe('Timestamp | null');
		expect(tsTypeOf(col({ udt: 'timestamptz', hasDefault: true }))).toBe('GeneratedTimestamp');
		expect(tsTypeOf(col({ udt: 'date' }))).toBe('DateString');
		expect(tsTypeOf(col({ udt: '_text', hasDefault: true }))).toBe('ColumnType<string[], string[] | undefined, string[]>');
		expect(tsTypeOf(col({ table: 'staff', column: 'role' }))).toBe('O.Role');
		expect(tsTypeOf(col({ table: 'follow_ups', column: 'messages', udt: 'jsonb' }))).toBe('Json<unknown[]>');
	});

	it('renders tables in name order whatever order the database lists them', () => {
		const a = render([col({ table: 'b_table' }), col({ table: 'a_table' })]);
		expect(a.indexOf('ATableTable')).toBeLessThan(a.indexOf('BTableTable'));
		expect(a).toBe(render([col({ table: 'a_table' }), col({ table: 'b_table' })]));
	});
});
