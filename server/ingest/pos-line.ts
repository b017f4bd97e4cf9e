/**
 * The POS fast path on a line of text, before it is split into cells: a million-line file
 * through `split(',')`, a record object and fastPosRow allocated a few KB per line, and the
 * garbage collector's share of the import was larger than the parsing itself.
 *
 * PosLineParser reads the fields in place. Numbers are read digit by digit; a text field that
 * equals the same field of the line before (the lines of a receipt repeat its store, receipt,
 * time, customer and staff) reuses that line's string and its parsed value instead of slicing a
 * new one. It accepts only the plain form of each cell — no surrounding spaces, integers
 * without thousands separators — and returns null for anything else; the caller then splits
 * the line and parseRow decides, with its error message. So a row it accepts is exactly what
 * PosRowSchema would make of it (tests/unit/pos-line.test.ts compares the two).
 */
import { normalizeEmail, normalizePhone } from '../modules/customers/identity.ts';
import { parseTimestamp, type PosRow } from './row-schemas.ts';

const FIELDS = [
	'store_code',
	'receipt_no',
	'line_no',
	'purchased_at',
	'customer_code',
	'member_no',
	'email',
	'phone',
	'staff_code',
	'sku',
	'quantity',
	'unit_price_yen',
	'amount_yen'
] as const;
type Field = (typeof FIELDS)[number];

/** A text cell as last seen in this column, and what it parsed to. */
interface Remembered<T> {
	raw: string;
	value: T;
}

const MIN_INT = -2_147_483_648;
const MAX_INT = 2_147_483_647;

export class PosLineParser {
	/** For each of FIELDS, its cell index in the header, or -1 when the file has no such column. */
	private column: Int32Array;
	private cells: number;
	/** Cell boundaries of the line being parsed (cell i is text[start[i], end[i])). */
	private start: Int32Array;
	private end: Int32Array;
	private last: Array<Remembered<string | null>>;
	private text = '';
	/** The parsed row, reused: valid until the next call of `parse`. */
	private row: PosRow = {
		store_code: '',
		receipt_no: '',
		line_no: 0,
		purchased_at: '',
		customer_code: null,
		member_no: null,
		email: null,
		phone: null,
		staff_code: null,
		sku: '',
		quantity: 0,
		unit_price_yen: 0,
		amount_yen: 0
	};

	constructor(header: string[]) {
		this.cells = header.length;
		this.column = Int32Array.from(FIELDS, (f) => header.indexOf(f));
		this.start = new Int32Array(header.length);
		this.end = new Int32Array(header.length);
		this.last = FIELDS.map(() => ({ raw: '\u0000', value: null }));
	}

	/**
	 * The row of `text` between `from` and `to` (one line, no line break), or null when the
	 * line is not in the plain form (the caller then takes the general path). The returned
	 * object is reused by the next call: copy what must outlive it.
	 */
	parse(text: string, from: number, to: number): PosRow | null {
		if (!this.split(text, from, to)) return null;
		this.text = text;
		const row = this.row;
		const store = this.required(0);
		const receipt = this.required(1);
		const lineNo = this.int(2);
		const at = this.required(3, parseTimestamp);
		const sku = this.required(9);
		const quantity = this.int(10);
		const unit = this.int(11);
		const amount = this.int(12);
		if (store === null || receipt === null || lineNo === null || lineNo < 1 || at === null || sku === null) return null;
		if (quantity === null || quantity === 0 || unit === null || unit < 0 || amount === null) return null;
		const email = this.optional(6, normalizeEmail);
		const phone = this.optional(7, normalizePhone);
		if (email === undefined || phone === undefined) return null;
		const customerCode = this.optional(4, same);
		const memberNo = this.optional(5, same);
		const staffCode = this.optional(8, same);
		if (customerCode === undefined || memberNo === undefined || staffCode === undefined) return null;
		row.store_code = store;
		row.receipt_no = receipt;
		row.line_no = lineNo;
		row.purchased_at = at;
		row.customer_code = customerCode;
		row.member_no = memberNo;
		row.email = email;
		row.phone = phone;
		row.staff_code = staffCode;
		row.sku = sku;
		row.quantity = quantity;
		row.unit_price_yen = unit;
		row.amount_yen = amount;
		return row;
	}

	/** Finds the cell boundaries; false unless the line has exactly the header's cell count. */
	private split(text: string, from: number, to: number): boolean {
		let s = from;
		for (let i = 0; i < this.cells; i++) {
			let e = text.indexOf(',', s);
			if (e === -1 || e > to) e = to;
			else if (i === this.cells - 1) return false; // more cells than the header
			this.start[i] = s;
			this.end[i] = e;
			if (e === to && i < this.cells - 1) return false; // fewer cells
			s = e + 1;
		}
		return true;
	}

	/** Bounds of the cell being read (set by `find`). */
	private s = 0;
	private e = 0;

	/** Sets `s`/`e` to FIELDS[f]'s cell; false when the file has no such column. */
	private find(f: number): boolean {
		const c = this.column[f];
		if (c < 0) return false;
		this.s = this.start[c];
		this.e = this.end[c];
		return true;
	}

	/** A cell with no space at either end (what trim would leave alone). */
	private plain(s: number, e: number): boolean {
		return this.text.charCodeAt(s) > 32 && this.text.charCodeAt(e - 1) > 32;
	}

	/** The cell's text, the string of the line before when it is the same. */
	private textOf(f: number, s: number, e: number): string {
		const last = this.last[f];
		const raw = last.raw;
		if (raw.length === e - s && this.text.startsWith(raw, s)) return raw;
		return this.text.slice(s, e);
	}

	/**
	 * The cell through `parse` (null = invalid), remembered: a cell equal to the line before's
	 * returns that line's value without parsing again.
	 */
	private parsed(f: number, parse: (raw: string) => string | null): string | null {
		const last = this.last[f];
		const text = this.textOf(f, this.s, this.e);
		if (text !== last.raw) {
			last.raw = text;
			last.value = parse(text);
		}
		return last.value;
	}

	/** A required cell, plain and non-empty, through `parse` (the text itself by default); null otherwise. */
	private required(f: number, parse: (raw: string) => string | null = same): string | null {
		if (!this.find(f) || this.e === this.s || !this.plain(this.s, this.e)) return null;
		return this.parsed(f, parse);
	}

	/**
	 * An optional cell through `parse` (null = invalid): null when empty or absent, undefined
	 * when not plain or invalid (the general path decides).
	 */
	private optional(f: number, parse: (raw: string) => string | null): string | null | undefined {
		if (!this.find(f) || this.e === this.s) return null;
		if (!this.plain(this.s, this.e)) return undefined;
		return this.parsed(f, parse) ?? undefined;
	}

	/** An integer written as plain digits with an optional minus, in int4 range; null otherwise. */
	private int(f: number): number | null {
		if (!this.find(f)) return null;
		let s = this.s;
		const e = this.e;
		const text = this.text;
		const negative = text.charCodeAt(s) === 45; // '-'
		if (negative) s++;
		// INT_RE allows at most 10 digits
		if (e === s || e - s > 10) return null;
		let n = 0;
		for (let i = s; i < e; i++) {
			const d = text.charCodeAt(i) - 48;
			if (d < 0 || d > 9) return null;
			n = n * 10 + d;
		}
		// "-0" stays -0, as Number("-0") in the schema
		if (negative) n = -n;
		return n < MIN_INT || n > MAX_INT ? null : n;
	}
}

/** optionalText of the schema, for a plain cell: the cell itself. */
const same = (raw: string) => raw;

/** The fields the parser reads, in its order (for tests). */
export const POS_LINE_FIELDS: readonly Field[] = FIELDS;
