/**
 * The one safety rule for text and dates that every input passes, whatever its schema says:
 *
 * - text must not contain NUL (PostgreSQL text and jsonb cannot store it) nor lone UTF-16
 *   surrogates (not encodable as UTF-8; jsonb refuses the escape);
 * - a string that IS a date or timestamp (YYYY-MM-DD, ISO date-time) must be a real
 *   calendar date between 1900 and 2100. Year 0 and 9999 pass most ISO checks but break
 *   PostgreSQL ranges, JST business-day maths and `toISOString()` downstream.
 *
 * API inputs that break the rule are refused with 400 (`validate()` and the URL guard in
 * middleware); webhook payloads, whose content we do not control, are cleaned instead
 * (`sanitizeForStorage`).
 */

export const MIN_YEAR = 1900;
export const MAX_YEAR = 2100;

export type UnsafeCode = 'invalid_text' | 'invalid_date';

export interface UnsafeInput {
	code: UnsafeCode;
	/** Dot path of the offending value ('' for the root). */
	path: string;
	message: string;
}

const DATE_OR_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE = '[\\ud800-\\udbff](?![\\udc00-\\udfff])|(?<![\\ud800-\\udbff])[\\udc00-\\udfff]';
const LONE_SURROGATE = new RegExp(LONE);
const LONE_SURROGATE_ALL = new RegExp(LONE, 'g');

/** Why a piece of text cannot be stored, or null when it can. */
export function textProblem(s: string): string | null {
	if (s.includes('\u0000')) return 'Text must not contain NUL characters';
	if (LONE_SURROGATE.test(s)) return 'Text must not contain unpaired surrogate characters';
	return null;
}

/** True when `year` lies in the range the application accepts for any date. */
export function isSaneYear(year: number): boolean {
	return Number.isInteger(year) && year >= MIN_YEAR && year <= MAX_YEAR;
}

/** A Date usable everywhere (valid, 1900–2100 in UTC). */
export function isSaneDate(d: Date): boolean {
	return !Number.isNaN(d.getTime()) && isSaneYear(d.getUTCFullYear());
}

/** Why a date-shaped string is not acceptable; null when it is not date-shaped or is fine. */
export function dateProblem(s: string): string | null {
	if (s.length > 40) return null;
	const m = DATE_OR_TIMESTAMP.exec(s);
	if (!m) return null;
	const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
	if (!isSaneYear(year)) return `Dates must lie between ${MIN_YEAR} and ${MAX_YEAR}`;
	const calendar = new Date(Date.UTC(year, month - 1, day));
	if (month < 1 || month > 12 || calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day) {
		return 'Not a calendar date';
	}
	if (s.length > 10 && Number.isNaN(Date.parse(s.replace(' ', 'T')))) return 'Not a valid timestamp';
	return null;
}

/** The first unsafe string (value or object key) in a parsed input, depth-first; null when all is well. */
export function findUnsafeInput(value: unknown, path: string[] = [], depth = 0): UnsafeInput | null {
	if (typeof value === 'string') {
		const text = textProblem(value);
		if (text) return { code: 'invalid_text', path: path.join('.'), message: text };
		const date = dateProblem(value);
		if (date) return { code: 'invalid_date', path: path.join('.'), message: date };
		return null;
	}
	// Deeper than any schema we accept: the schema will refuse it anyway.
	if (value === null || typeof value !== 'object' || depth > 32) return null;
	if (value instanceof File || value instanceof Blob) return null;
	const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
	for (const [key, child] of entries) {
		const keyText = textProblem(key);
		if (keyText) return { code: 'invalid_text', path: [...path, key.replace(/[^\x20-\x7e]/g, '?')].join('.'), message: keyText };
		const found = findUnsafeInput(child, [...path, key], depth + 1);
		if (found) return found;
	}
	return null;
}

/** Text as it can be stored: NUL removed, lone surrogates replaced by U+FFFD. */
export function storableText(s: string): string {
	const withoutNul = s.includes('\u0000') ? s.replaceAll('\u0000', '') : s;
	return withoutNul.replace(LONE_SURROGATE_ALL, '\ufffd');
}

/**
 * A vendor payload made storable: every string (and key) cleaned with `storableText`. Returns
 * the same object when nothing needed cleaning, so the common case allocates nothing.
 */
export function sanitizeForStorage<T>(value: T): { value: T; changed: boolean } {
	let changed = false;
	const walk = (v: unknown): unknown => {
		if (typeof v === 'string') {
			const clean = storableText(v);
			if (clean !== v) changed = true;
			return clean;
		}
		if (v === null || typeof v !== 'object') return v;
		if (Array.isArray(v)) return v.map(walk);
		const out: Record<string, unknown> = {};
		for (const [k, child] of Object.entries(v)) out[walk(k) as string] = walk(child);
		return out;
	};
	const cleaned = walk(value) as T;
	return changed ? { value: cleaned, changed } : { value, changed };
}
