/**
 * Array parameters as PostgreSQL array literals ("{…}"), bound as one text parameter and cast
 * in SQL (`${textArray(xs)}::text[]`). For batches of thousands of values this is several times
 * cheaper than the driver's per-element serialisation, and PostgreSQL and PGlite read it alike.
 */

/** Text-like values (text, uuid, timestamptz, date): every element quoted, NULL for null. */
export function textArray(values: ReadonlyArray<string | null | undefined>): string {
	let out = '{';
	for (let i = 0; i < values.length; i++) {
		const v = values[i];
		if (i > 0) out += ',';
		out += v == null ? 'NULL' : `"${v.replace(/[\\"]/g, '\\$&')}"`;
	}
	return out + '}';
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
