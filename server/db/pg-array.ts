/**
 * Array parameters as PostgreSQL array literals ("{…}"), bound as one text parameter and cast
 * in SQL (`${textArray(xs)}::text[]`). For batches of thousands of values this is several times
 * cheaper than the driver's per-element serialisation, and PostgreSQL and PGlite read it alike.
 */

/** What an unquoted element cannot hold: braces, quotes, commas, backslashes, whitespace; "" and NULL. */
const NEEDS_QUOTES = /[{}",\\\s]|^$|^null$/i;

/**
 * Text-like values (text, uuid, timestamptz, date), NULL for null. Elements are quoted only
 * when they must be: ids, codes and times (most of what is sent) go as they are, and the
 * literal is one join, not a string grown element by element.
 */
export function textArray(values: ReadonlyArray<string | null | undefined>): string {
	const parts = new Array<string>(values.length);
	for (let i = 0; i < values.length; i++) {
		const v = values[i];
		parts[i] = v == null ? 'NULL' : NEEDS_QUOTES.test(v) ? `"${v.replace(/[\\"]/g, '\\$&')}"` : v;
	}
	return `{${parts.join(',')}}`;
}

/**
 * uuids (or NULL): nothing in their text needs quoting, so the literal is a plain join. The
 * import sends tens of thousands of customer ids per chunk. Only for ids that are uuids
 * already (from the database or randomUUID), never for text from outside.
 */
export function uuidArray(values: ReadonlyArray<string | null | undefined>): string {
	let nulls = false;
	for (let i = 0; i < values.length; i++) if (values[i] == null) nulls = true;
	return `{${(nulls ? values.map((v) => v ?? 'NULL') : values).join(',')}}`;
}

/** Integers (int, bigint). */
export function intArray(values: ReadonlyArray<number | null | undefined>): string {
	let out = '{';
	for (let i = 0; i < values.length; i++) {
		const v = values[i];
		if (i > 0) out += ',';
		out += v == null ? 'NULL' : String(Math.trunc(v));
	}
	return out + '}';
}

export function boolArray(values: ReadonlyArray<boolean | null | undefined>): string {
	return `{${values.map((v) => (v == null ? 'NULL' : v ? 't' : 'f')).join(',')}}`;
}
