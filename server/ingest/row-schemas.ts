/**
 * The CSV formats of `npm run import`, one valibot schema per kind. A row is validated on its
 * own (no database); the batch writers then check what needs the database (store codes, SKUs).
 * Cells arrive as strings; empty cells mean "absent".
 */
import * as v from 'valibot';
import { normalizeEmail, normalizePhone } from '../modules/customers/identity.ts';

export const IMPORT_KINDS = ['pos', 'ec', 'customers', 'products'] as const;
export type ImportKind = (typeof IMPORT_KINDS)[number];

// ── cell schemas ────────────────────────────────────────────────────────────────────────────

/** Empty cell → null; otherwise the trimmed text. */
const optionalText = v.pipe(
	v.optional(v.string(), ''),
	v.transform((s) => s.trim() || null)
);
const requiredText = (what: string) => v.pipe(v.string(), v.trim(), v.nonEmpty(`${what} is required`));

const INT_RE = /^-?\d{1,10}$/;
/** Integers as written by POS/EC exports: "1200", "-1", "1,200" (thousands separators allowed). */
const integer = (what: string) =>
	v.pipe(
		v.string(),
		v.transform((s) => s.trim().replace(/,/g, '')),
		v.regex(INT_RE, `${what} must be an integer`),
		v.transform(Number),
		v.minValue(-2_147_483_648, `${what} is out of range`),
		v.maxValue(2_147_483_647, `${what} is out of range`)
	);
const nonNegative = (what: string) => v.pipe(integer(what), v.minValue(0, `${what} must be ≥ 0`));
const optionalNonNegative = (what: string) =>
	v.pipe(
		v.optional(v.string(), ''),
		v.transform((s) => (s.trim() === '' ? '0' : s)),
		nonNegative(what)
	);

const LOCAL_TIME_RE = /^(\d{4})[-/](\d{2})[-/](\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$/;
const ZONED_TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * A point in time: ISO 8601 with an offset, or a local "YYYY-MM-DD HH:mm[:ss]" (also with "/")
 * read as Japan time — what Japanese POS and cart exports write. Returns an ISO string.
 */
export function parseTimestamp(raw: string): string | null {
	// Lines of one receipt repeat its time: remember the last answer (this runs a million times).
	if (raw === lastTimestamp.raw) return lastTimestamp.iso;
	const iso = computeTimestamp(raw.trim());
	lastTimestamp.raw = raw;
	lastTimestamp.iso = iso;
	return iso;
}
const lastTimestamp: { raw: string | null; iso: string | null } = { raw: null, iso: null };

function computeTimestamp(s: string): string | null {
	// "YYYY-MM-DD HH:mm:ss", what POS exports write, without a regex: this runs once per receipt
	if (s.length === 19 && isPlainLocalTime(s)) {
		const y = Number(s.slice(0, 4));
		const mo = (s.charCodeAt(5) - 48) * 10 + s.charCodeAt(6) - 48;
		const d = (s.charCodeAt(8) - 48) * 10 + s.charCodeAt(9) - 48;
		const h = (s.charCodeAt(11) - 48) * 10 + s.charCodeAt(12) - 48;
		const mi = (s.charCodeAt(14) - 48) * 10 + s.charCodeAt(15) - 48;
		const sec = (s.charCodeAt(17) - 48) * 10 + s.charCodeAt(18) - 48;
		if (!isRealDay(y, mo, d) || h > 23 || mi > 59 || sec > 59) return null;
		return `${s.slice(0, 10)}T${s.slice(11)}+09:00`;
	}
	const local = LOCAL_TIME_RE.exec(s);
	if (local) {
		const [, y, mo, d, h, mi, sec = '00'] = local;
		// checked by hand, not with Date: Date.parse rolls 2026-02-30 over to March
		if (!isRealDay(Number(y), Number(mo), Number(d)) || Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59) return null;
		return `${y}-${mo}-${d}T${h}:${mi}:${sec}+09:00`;
	}
	if (!ZONED_TIME_RE.test(s) || Number.isNaN(Date.parse(s)) || !isRealDay(Number(s.slice(0, 4)), Number(s.slice(5, 7)), Number(s.slice(8, 10)))) return null;
	return s;
}

/** Digits where "YYYY-MM-DD HH:mm:ss" has them, and its separators elsewhere. */
function isPlainLocalTime(s: string): boolean {
	for (let i = 0; i < 19; i++) {
		const c = s.charCodeAt(i);
		const expected = i === 4 || i === 7 ? 45 : i === 10 ? 32 : i === 13 || i === 16 ? 58 : -1;
		if (expected === -1 ? c < 48 || c > 57 : c !== expected) return false;
	}
	return true;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
function isRealDay(y: number, m: number, d: number): boolean {
	if (m < 1 || m > 12 || d < 1) return false;
	const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
	return d <= (m === 2 && leap ? 29 : DAYS_IN_MONTH[m - 1]);
}

const timestamp = (what: string) =>
	v.pipe(
		v.string(),
		v.transform(parseTimestamp),
		v.check((t) => t !== null, `${what} must be "YYYY-MM-DD HH:mm:ss" (JST) or ISO 8601 with an offset`),
		v.transform((t) => t as string)
	);
const optionalTimestamp = (what: string) =>
	v.pipe(
		v.optional(v.string(), ''),
		v.transform((s) => (s.trim() === '' ? null : parseTimestamp(s) ?? 'invalid')),
		v.check((t) => t !== 'invalid', `${what} must be "YYYY-MM-DD HH:mm:ss" (JST) or ISO 8601 with an offset`)
	);

/** Contact details are kept only when they normalise; a bad one is an error, not silently dropped. */
const optionalEmail = v.pipe(
	v.optional(v.string(), ''),
	v.transform((s) => (s.trim() === '' ? null : normalizeEmail(s) ?? 'invalid')),
	v.check((e) => e !== 'invalid', 'email is not a valid address')
);
const optionalPhone = v.pipe(
	v.optional(v.string(), ''),
	v.transform((s) => (s.trim() === '' ? null : normalizePhone(s) ?? 'invalid')),
	v.check((p) => p !== 'invalid', 'phone is not a Japanese phone number')
);
const optionalDate = (what: string) =>
	v.pipe(
		v.optional(v.string(), ''),
		v.transform((s) => s.trim().replace(/\//g, '-') || null),
		v.check((d) => d === null || isRealDate(d), `${what} must be YYYY-MM-DD`)
	);
const optionalBool = (what: string) =>
	v.pipe(
		v.optional(v.string(), ''),
		v.transform((s) => s.trim().toLowerCase()),
		v.picklist(['', '0', '1', 'true', 'false', 'yes', 'no', 'y', 'n'], `${what} must be 1/0, true/false or yes/no`),
		// empty → null: "not stated", which keeps what is stored
		v.transform((s) => (s === '' ? null : ['1', 'true', 'yes', 'y'].includes(s)))
	);
const optionalUrl = (what: string) =>
	v.pipe(
		v.optional(v.string(), ''),
		v.transform((s) => s.trim() || null),
		v.check((u) => u === null || /^https?:\/\/\S+$/.test(u), `${what} must be an http(s) URL`)
	);

function isRealDate(d: string): boolean {
	return /^\d{4}-\d{2}-\d{2}$/.test(d) && isRealDay(Number(d.slice(0, 4)), Number(d.slice(5, 7)), Number(d.slice(8, 10)));
}

// ── row schemas ─────────────────────────────────────────────────────────────────────────────

export const PosRowSchema = v.object({
	store_code: requiredText('store_code'),
	receipt_no: requiredText('receipt_no'),
	line_no: v.pipe(integer('line_no'), v.minValue(1, 'line_no must be ≥ 1')),
	purchased_at: timestamp('purchased_at'),
	customer_code: optionalText,
	member_no: optionalText,
	email: optionalEmail,
	phone: optionalPhone,
	staff_code: optionalText,
	sku: requiredText('sku'),
	quantity: v.pipe(integer('quantity'), v.check((q) => q !== 0, 'quantity must not be 0')),
	unit_price_yen: nonNegative('unit_price_yen'),
	amount_yen: integer('amount_yen')
});
export type PosRow = v.InferOutput<typeof PosRowSchema>;

export const EcRowSchema = v.object({
	order_id: requiredText('order_id'),
	order_name: optionalText,
	ordered_at: timestamp('ordered_at'),
	/** Optional: when the order last changed (defaults to ordered_at); newer data wins. */
	updated_at: optionalTimestamp('updated_at'),
	ec_customer_id: optionalText,
	email: optionalEmail,
	phone: optionalPhone,
	status: v.pipe(
		v.optional(v.string(), ''),
		v.transform((s) => s.trim().toLowerCase() || 'open'),
		v.picklist(['open', 'cancelled'], 'status must be open or cancelled')
	),
	line_no: v.pipe(integer('line_no'), v.minValue(1, 'line_no must be ≥ 1')),
	sku: optionalText,
	name: requiredText('name'),
	quantity: v.pipe(integer('quantity'), v.minValue(1, 'quantity must be ≥ 1')),
	unit_price_yen: nonNegative('unit_price_yen'),
	amount_yen: nonNegative('amount_yen'),
	total_yen: nonNegative('total_yen'),
	refunded_yen: optionalNonNegative('refunded_yen')
});
export type EcRow = v.InferOutput<typeof EcRowSchema>;

export const CustomerRowSchema = v.pipe(
	v.object({
		member_no: optionalText,
		family_name: optionalText,
		given_name: optionalText,
		family_kana: optionalText,
		given_kana: optionalText,
		birthday: optionalDate('birthday'),
		email: optionalEmail,
		phone: optionalPhone,
		pos_code: optionalText,
		ec_customer_id: optionalText,
		home_store: optionalText,
		consent_messages: optionalBool('consent_messages')
	}),
	v.check(
		(r) => Boolean(r.member_no || r.email || r.phone || r.pos_code || r.ec_customer_id),
		'a customer needs member_no, email, phone, pos_code or ec_customer_id'
	)
);
export type CustomerRow = v.InferOutput<typeof CustomerRowSchema>;

export const ProductRowSchema = v.object({
	sku: requiredText('sku'),
	jan: optionalText,
	name: requiredText('name'),
	category: requiredText('category'),
	price_yen: nonNegative('price_yen'),
	ec_product_id: optionalText,
	ec_url: optionalUrl('ec_url'),
	image_url: optionalUrl('image_url')
});
export type ProductRow = v.InferOutput<typeof ProductRowSchema>;

export interface RowTypes {
	pos: PosRow;
	ec: EcRow;
	customers: CustomerRow;
	products: ProductRow;
}

const SCHEMAS = {
	pos: PosRowSchema,
	ec: EcRowSchema,
	customers: CustomerRowSchema,
	products: ProductRowSchema
} as const;

/** Columns a file of this kind must have in its header (others are optional or ignored). */
export const REQUIRED_COLUMNS: Record<ImportKind, string[]> = {
	pos: ['store_code', 'receipt_no', 'line_no', 'purchased_at', 'sku', 'quantity', 'unit_price_yen', 'amount_yen'],
	ec: ['order_id', 'ordered_at', 'line_no', 'name', 'quantity', 'unit_price_yen', 'amount_yen', 'total_yen'],
	customers: [],
	products: ['sku', 'name', 'category', 'price_yen']
};

/** Every column the kind understands, in the documented order. */
export function knownColumns(kind: ImportKind): string[] {
	const schema = SCHEMAS[kind];
	return Object.keys(schema.type === 'object' ? schema.entries : CustomerRowSchema.pipe[0].entries);
}

export type RowResult<K extends ImportKind> = { ok: true; row: RowTypes[K] } | { ok: false; reason: string };

/** Validates one record (header name → cell); the reason names the first bad column. */
export function parseRow<K extends ImportKind>(kind: K, record: Record<string, string>): RowResult<K> {
	if (kind === 'pos') {
		const row = fastPosRow(record);
		if (row) return { ok: true, row: row as RowTypes[K] };
	}
	const result = v.safeParse(SCHEMAS[kind], record, { abortPipeEarly: true });
	if (result.success) return { ok: true, row: result.output as RowTypes[K] };
	const issue = result.issues[0];
	const path = v.getDotPath(issue);
	const missing = (issue.kind === 'schema' && issue.input === undefined) || issue.message.startsWith('Invalid key');
	const message = missing && path ? `${path} is missing` : issue.message;
	return { ok: false, reason: message };
}

// ── POS fast path ───────────────────────────────────────────────────────────────────────────

/**
 * PosRowSchema's result for a valid row, by hand: POS files run to millions of lines and the
 * schema pipeline is a large share of the import's CPU. Anything it does not accept exactly as
 * the schema would returns null, and the schema then decides (and words the error).
 * tests/unit/import-rows.test.ts compares both on valid and invalid rows.
 */
export function fastPosRow(r: Record<string, string>): PosRow | null {
	const store_code = fastRequired(r.store_code);
	const receipt_no = fastRequired(r.receipt_no);
	const line_no = fastInteger(r.line_no);
	const purchased_at = typeof r.purchased_at === 'string' ? parseTimestamp(r.purchased_at) : null;
	const sku = fastRequired(r.sku);
	const quantity = fastInteger(r.quantity);
	const unit_price_yen = fastInteger(r.unit_price_yen);
	const amount_yen = fastInteger(r.amount_yen);
	if (store_code === null || receipt_no === null || line_no === null || line_no < 1 || purchased_at === null || sku === null) return null;
	if (quantity === null || quantity === 0 || unit_price_yen === null || unit_price_yen < 0 || amount_yen === null) return null;
	const emailCell = (r.email ?? '').trim();
	const phoneCell = (r.phone ?? '').trim();
	const email = emailCell === '' ? null : normalizeEmail(r.email);
	const phone = phoneCell === '' ? null : normalizePhone(r.phone);
	if ((emailCell !== '' && email === null) || (phoneCell !== '' && phone === null)) return null;
	return {
		store_code,
		receipt_no,
		line_no,
		purchased_at,
		customer_code: (r.customer_code ?? '').trim() || null,
		member_no: (r.member_no ?? '').trim() || null,
		email,
		phone,
		staff_code: (r.staff_code ?? '').trim() || null,
		sku,
		quantity,
		unit_price_yen,
		amount_yen
	};
}

function fastRequired(cell: string | undefined): string | null {
	if (typeof cell !== 'string') return null;
	return cell.trim() || null;
}

function fastInteger(cell: string | undefined): number | null {
	if (typeof cell !== 'string') return null;
	const s = cell.trim().replace(/,/g, '');
	if (!INT_RE.test(s)) return null;
	const n = Number(s);
	return n < -2_147_483_648 || n > 2_147_483_647 ? null : n;
}
