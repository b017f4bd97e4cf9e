/**
 * PosLineParser reads POS lines in place; whatever it accepts must be exactly PosRowSchema's
 * result for the same cells, and whatever it is unsure of it must leave to the schema (null).
 */
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { PosLineParser, POS_LINE_FIELDS } from '../../server/ingest/pos-line.ts';
import { PosRowSchema } from '../../server/ingest/row-schemas.ts';

const HEADER: string[] = [...POS_LINE_FIELDS];
const valid: Record<string, string> = {
	store_code: 'shibuya',
	receipt_no: 'R0001',
	line_no: '1',
	purchased_at: '2026-11-01 10:15:00',
	customer_code: 'P-1',
	member_no: '2000000001',
	email: 'A@Example.JP',
	phone: '+81 90-1234-5678',
	staff_code: 'S003',
	sku: 'KS-1',
	quantity: '2',
	unit_price_yen: '4900',
	amount_yen: '9800'
};
const lineOf = (record: Record<string, string>, header = HEADER) => header.map((h) => record[h] ?? '').join(',');
const schemaOf = (record: Record<string, string>) => v.safeParse(PosRowSchema, record, { abortPipeEarly: true });

/** The parser's row for one line, copied (the parser reuses its object). */
function parseLine(parser: PosLineParser, line: string, prefix = 'x\n') {
	const text = `${prefix}${line}\r\nnext,line`;
	const row = parser.parse(text, prefix.length, prefix.length + line.length);
	return row && { ...row };
}

describe('PosLineParser', () => {
	// every cell variant without a comma in it (a LineBatch line has no quotes), one cell at a time
	const variants: Record<string, string[]> = {
		store_code: ['shibuya', ' shibuya', 'shibuya ', ''],
		receipt_no: ['R1', ' R 1 ', 'R 1', ''],
		line_no: ['1', ' 2', '0', '-1', '1.0', 'x', '+1', '-', '99999999999', '2147483648', '2147483647', '0012'],
		purchased_at: ['2026-11-01 10:15:00', ' 2026/11/01 10:15', '2026/11/01 10:15', '2026-11-01T01:15:00Z', '2026-02-30 10:00:00', '', 'x'],
		customer_code: ['', ' ', ' P-1', 'P 1'],
		member_no: ['', ' 2000000001 '],
		email: ['', ' ', ' a@b.jp', 'bad@', 'a b@c.jp', 'A@B.JP'],
		phone: ['', ' ', '+81 90-1234-5678', '03-1234-5678', '12345'],
		staff_code: ['', ' S003', 'S999'],
		sku: ['KS-1', ' ', '', 'KS 1'],
		quantity: ['1', '-2', '0', '-0', '1.5', '', '-2147483648', '-2147483649'],
		unit_price_yen: ['0', '-1', '-0', '2147483647', '2147483648'],
		amount_yen: ['-9800', '0', '', ' 12', '12 ']
	};
	const cases: Array<Record<string, string>> = [];
	for (const [column, values] of Object.entries(variants)) for (const value of values) cases.push({ ...valid, [column]: value });

	// it takes every row the schema accepts whose cells need no trimming, and nothing else
	it.each(cases.map((c) => [c]))('agrees with PosRowSchema on %j', (record) => {
		const parser = new PosLineParser(HEADER);
		const row = parseLine(parser, lineOf(record));
		const schema = schemaOf(record);
		const plain = Object.values(record).every((cell) => cell === cell.trim());
		if (schema.success && plain) expect(row).toEqual(schema.output);
		else expect(row).toBeNull();
	});

	it('reads the plain form of a valid line, whatever the column order, and leaves other cell counts to the general path', () => {
		const shuffled = [...HEADER].reverse().concat('note');
		const parser = new PosLineParser(shuffled);
		const row = parseLine(parser, lineOf({ ...valid, note: 'free text' }, shuffled));
		const schema = schemaOf(valid);
		expect(schema.success).toBe(true);
		expect(row).toEqual(schema.success ? schema.output : null);
		expect(parseLine(parser, lineOf(valid, shuffled.slice(0, -1)))).toBeNull(); // a cell short
		expect(parseLine(parser, lineOf({ ...valid, note: 'x' }, shuffled) + ',extra')).toBeNull();
	});

	it('a file without the optional columns: they are null', () => {
		const header = HEADER.filter((h) => !['customer_code', 'member_no', 'email', 'phone', 'staff_code'].includes(h));
		const parser = new PosLineParser(header);
		const record = Object.fromEntries(header.map((h) => [h, valid[h]]));
		expect(parseLine(parser, lineOf(record, header))).toEqual({ ...(schemaOf(record) as { output: object }).output });
	});

	it('remembering the line before never leaks a value into the next line', () => {
		const parser = new PosLineParser(HEADER);
		const sequence = [
			valid,
			{ ...valid, line_no: '2', sku: 'KS-2' },
			{ ...valid, receipt_no: 'R0002', email: '', phone: '', customer_code: '' },
			{ ...valid, receipt_no: 'R0003', email: 'bad@' }, // invalid: left to the schema
			{ ...valid, receipt_no: 'R0003', purchased_at: '2026-11-02 09:00:00', staff_code: 'S004', email: 'b@c.jp' },
			{ ...valid, receipt_no: 'R0003', purchased_at: '2026-02-30 10:00:00' }, // invalid day
			{ ...valid, receipt_no: 'R0004', store_code: 'shinjuku', member_no: '' }
		];
		for (const record of sequence) {
			const schema = schemaOf(record);
			const row = parseLine(parser, lineOf(record), 'prefix,text\n');
			expect(row).toEqual(schema.success ? schema.output : null);
		}
	});
});
