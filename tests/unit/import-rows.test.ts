import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCsv, type CsvSkip } from '../../server/ingest/csv-source.ts';
import { intArray, textArray } from '../../server/db/pg-array.ts';
import * as v from 'valibot';
import { fastPosRow, knownColumns, parseRow, parseTimestamp, PosRowSchema } from '../../server/ingest/row-schemas.ts';

const pos = (over: Record<string, string> = {}) => ({
	store_code: 'shibuya',
	receipt_no: 'R0001',
	line_no: '1',
	purchased_at: '2026-11-01 10:15:00',
	customer_code: '',
	member_no: '',
	email: '',
	phone: '',
	staff_code: 'S003',
	sku: 'KS-TEE-001',
	quantity: '1',
	unit_price_yen: '4,900',
	amount_yen: '4900',
	...over
});

describe('parseTimestamp', () => {
	it('reads local times as JST and keeps ISO times with an offset', () => {
		expect(parseTimestamp('2026-11-01 10:15:00')).toBe('2026-11-01T10:15:00+09:00');
		expect(parseTimestamp('2026/11/01 10:15')).toBe('2026-11-01T10:15:00+09:00');
		expect(parseTimestamp('2026-11-01T01:15:00Z')).toBe('2026-11-01T01:15:00Z');
		expect(parseTimestamp('2028-02-29 00:00:00')).toBe('2028-02-29T00:00:00+09:00');
		// ISO without an offset is local time too (what spreadsheet exports write)
		expect(parseTimestamp('2026-11-01T10:00:00')).toBe('2026-11-01T10:00:00+09:00');
	});
	it('refuses days and times that do not exist, and garbage', () => {
		expect(parseTimestamp('2026-02-29 10:00:00')).toBeNull();
		expect(parseTimestamp('2026-04-31 10:00:00')).toBeNull();
		expect(parseTimestamp('2026-11-01 24:00:00')).toBeNull();
		expect(parseTimestamp('2026-11-01T10:00+0900x')).toBeNull();
		expect(parseTimestamp('yesterday')).toBeNull();
	});
});

describe('parseRow', () => {
	it('parses a POS line: integers with separators, normalised contact details', () => {
		const r = parseRow('pos', pos({ email: ' Hanako@Example.JP ', phone: '+81 90-1234-5678', quantity: '-2', amount_yen: '-9800' }));
		expect(r).toEqual({
			ok: true,
			row: expect.objectContaining({ unit_price_yen: 4900, quantity: -2, amount_yen: -9800, email: 'hanako@example.jp', phone: '09012345678', customer_code: null, line_no: 1 })
		});
	});

	it.each([
		[{ store_code: ' ' }, 'store_code is required'],
		[{ quantity: '1.5' }, 'quantity must be an integer'],
		[{ quantity: '0' }, 'quantity must not be 0'],
		[{ line_no: '0' }, 'line_no must be ≥ 1'],
		[{ unit_price_yen: '-1' }, 'unit_price_yen must be ≥ 0'],
		[{ amount_yen: '99999999999' }, 'amount_yen must be an integer'],
		[{ email: 'not-an-email' }, 'email is not a valid address'],
		[{ phone: '12345' }, 'phone is not a Japanese phone number'],
		[{ purchased_at: '2026-13-01 10:00' }, 'purchased_at must be "YYYY-MM-DD HH:mm:ss" (JST) or ISO 8601 with an offset']
	])('refuses %j with a reason', (over, reason) => {
		expect(parseRow('pos', pos(over))).toEqual({ ok: false, reason });
	});

	it('names a missing required column', () => {
		const { sku: _sku, ...rest } = pos();
		expect(parseRow('pos', rest)).toEqual({ ok: false, reason: 'sku is missing' });
	});

	it('parses EC lines with defaults for status, updated_at and refunds', () => {
		const r = parseRow('ec', {
			order_id: '5500000000001', ordered_at: '2026-11-04T20:00:00+09:00', line_no: '1', name: 'Tシャツ',
			quantity: '1', unit_price_yen: '4900', amount_yen: '4900', total_yen: '4900', status: '', refunded_yen: ''
		});
		expect(r).toEqual({ ok: true, row: expect.objectContaining({ status: 'open', updated_at: null, refunded_yen: 0, sku: null }) });
		expect(parseRow('ec', { order_id: '1', ordered_at: '2026-11-04 20:00', line_no: '1', name: 'x', quantity: '1', unit_price_yen: '1', amount_yen: '1', total_yen: '1', status: 'paid' }))
			.toEqual({ ok: false, reason: 'status must be open or cancelled' });
	});

	it('needs some key on a customer row and reads consent as stated or unstated', () => {
		expect(parseRow('customers', { family_name: '山田' })).toEqual({
			ok: false,
			reason: 'a customer needs member_no, email, phone, pos_code or ec_customer_id'
		});
		const r = parseRow('customers', { member_no: '2000000001', birthday: '1990/04/12', consent_messages: 'yes' });
		expect(r).toEqual({ ok: true, row: expect.objectContaining({ birthday: '1990-04-12', consent_messages: true }) });
		expect(parseRow('customers', { member_no: '1', consent_messages: '' })).toEqual({ ok: true, row: expect.objectContaining({ consent_messages: null }) });
		expect(parseRow('customers', { member_no: '1', birthday: '1990-02-30' })).toEqual({ ok: false, reason: 'birthday must be YYYY-MM-DD' });
	});

	it('checks product URLs and prices', () => {
		expect(parseRow('products', { sku: 'A', name: 'a', category: 'c', price_yen: '100', ec_url: 'javascript:alert(1)' }))
			.toEqual({ ok: false, reason: 'ec_url must be an http(s) URL' });
		expect(knownColumns('customers')).toContain('consent_messages');
		expect(knownColumns('pos')[0]).toBe('store_code');
	});
});

describe('pg array literals', () => {
	it('quotes and escapes the text elements that need it, NULL for null', () => {
		expect(textArray(['a', 'b,"c"', 'back\\slash', null, '', 'NULL', 'x y'])).toBe('{a,"b,\\"c\\"","back\\\\slash",NULL,"","NULL","x y"}');
		expect(intArray([1, -2, null])).toBe('{1,-2,NULL}');
		expect(textArray([])).toBe('{}');
	});
});

describe('openCsv', () => {
	let dir: string;
	beforeAll(async () => {
		dir = await mkdtemp(join(tmpdir(), 'tsunagu-csv-'));
	});
	afterAll(async () => rm(dir, { recursive: true, force: true }));

	it('strips a BOM, lower-cases the header and numbers records by the line they start on', async () => {
		const file = join(dir, 'a.csv');
		await writeFile(file, '\uFEFFSKU,Name\nA,"two\nlines"\n\nB,plain\nC,"never closed\n');
		const skips: CsvSkip[] = [];
		const src = await openCsv(file, { onSkip: (s) => skips.push(s) });
		expect(src.header).toEqual(['sku', 'name']);
		const got: Array<[number, string]> = [];
		for await (const r of src.records) got.push([r.line, r.values.sku]);
		expect(got).toEqual([
			[2, 'A'],
			[5, 'B']
		]);
		expect(skips).toHaveLength(1);
		expect(skips[0].reason).toMatch(/malformed CSV/);
	});

	const readAll = async (file: string) => {
		const skips: CsvSkip[] = [];
		const src = await openCsv(file, { onSkip: (s) => skips.push(s) });
		const got: Array<[number, Record<string, string>]> = [];
		for await (const r of src.records) got.push([r.line, r.values]);
		return { header: src.header, got, skips };
	};

	it('splits plain lines itself: CRLF or LF, empty lines skipped, ragged rows, no final newline', async () => {
		const file = join(dir, 'plain.csv');
		await writeFile(file, 'A,B\r\n1,2\r\n\r\n3\n4,5,6\n\n ,x');
		const { header, got, skips } = await readAll(file);
		expect(header).toEqual(['a', 'b']);
		expect(got).toEqual([
			[2, { a: '1', b: '2' }],
			[4, { a: '3' }],
			[5, { a: '4', b: '5' }],
			[7, { a: ' ', b: 'x' }]
		]);
		expect(skips).toEqual([]);
	});

	it('hands over to the CSV parser at the first quote, far into the file, keeping line numbers', async () => {
		const file = join(dir, 'late-quote.csv');
		const plain = Array.from({ length: 20_000 }, (_, i) => `p${i},v${i}`);
		await writeFile(file, ['sku,name', ...plain, 'q1,"a, ""quoted""\nname"', 'q2,plain', 'q3,"never closed'].join('\n') + '\n');
		const { got, skips } = await readAll(file);
		expect(got).toHaveLength(20_002);
		expect(got[19_999]).toEqual([20_001, { sku: 'p19999', name: 'v19999' }]);
		expect(got[20_000]).toEqual([20_002, { sku: 'q1', name: 'a, "quoted"\nname' }]);
		expect(got[20_001]).toEqual([20_004, { sku: 'q2', name: 'plain' }]);
		expect(skips).toHaveLength(1);
		expect(skips[0].reason).toMatch(/malformed CSV/);
	});

	it('decodes Shift_JIS', async () => {
		const file = join(dir, 'sjis.csv');
		// "sku,name\nA,山田\n" in Shift_JIS
		await writeFile(file, Buffer.from([0x73, 0x6b, 0x75, 0x2c, 0x6e, 0x61, 0x6d, 0x65, 0x0a, 0x41, 0x2c, 0x8e, 0x52, 0x93, 0x63, 0x0a]));
		const src = await openCsv(file, { encoding: 'shift_jis', onSkip: () => {} });
		const rows = [];
		for await (const r of src.records) rows.push(r.values);
		expect(rows).toEqual([{ sku: 'A', name: '山田' }]);
	});
});

describe('fastPosRow (the POS fast path of parseRow)', () => {
	// every cell variant the schema treats specially, crossed with a valid row one cell at a time
	const variants: Record<string, string[]> = {
		store_code: ['shibuya', ' shibuya ', '', ' '],
		receipt_no: ['R1', ' R 1 ', ''],
		line_no: ['1', ' 2 ', '0', '-1', '1,0', '1.0', 'x', '99999999999', '2147483648'],
		purchased_at: ['2026-11-01 10:15:00', ' 2026/11/01 10:15 ', '2026-11-01T01:15:00Z', '2026-02-30 10:00:00', '', 'x'],
		customer_code: ['', ' ', ' P-1 '],
		member_no: ['', ' 2000000001 '],
		email: ['', ' ', ' A@B.JP ', 'bad@', 'a b@c.jp'],
		phone: ['', ' ', '+81 90-1234-5678', '03-1234-5678', '12345'],
		staff_code: ['', ' S003 '],
		sku: ['KS-1', ' ', ''],
		quantity: ['1', '-2', '0', '-0', '1,000', '1.5', ''],
		unit_price_yen: ['0', '4,900', '-1', '-0', '2147483647', '2147483648'],
		amount_yen: ['-9800', '0', '', ' 12 ']
	};
	const cases: Array<Record<string, string>> = [];
	for (const [column, values] of Object.entries(variants)) for (const value of values) cases.push(pos({ [column]: value }));
	const { phone: _p, email: _e, ...withoutContacts } = pos();
	cases.push(withoutContacts);
	const { quantity: _q, ...withoutQuantity } = pos();
	cases.push(withoutQuantity);

	it.each(cases.map((c) => [c]))('agrees with PosRowSchema on %j', (record) => {
		const schema = v.safeParse(PosRowSchema, record, { abortPipeEarly: true });
		const fast = fastPosRow(record);
		if (schema.success) expect(fast).toEqual(schema.output);
		else expect(fast).toBeNull();
	});
});
