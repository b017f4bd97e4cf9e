/**
 * CSV for Excel in Japan: UTF-8 with a BOM (without it Excel reads Shift_JIS and garbles
 * Japanese), CRLF line ends, every field quoted when it needs to be. Cells starting with
 * = + - @ (or a tab / CR) are prefixed with ' so a crafted name cannot become a formula. Ids
 * made of digits (EC order ids) are written as ="…" so Excel keeps them as text.
 */
import type { TypedResponse } from 'hono';

/** A code Excel must keep as text (a 19-digit order id would become 7.50E+18, leading zeros vanish). */
export interface CsvText {
	text: string;
}

export const asText = (value: string | null | undefined): CsvText | null => (value == null ? null : { text: value });

export interface CsvColumn<T> {
	header: string;
	value: (row: T) => string | number | CsvText | null | undefined;
}

const BOM = '\uFEFF';

function cell(value: string | number | CsvText | null | undefined): string {
	if (value === null || value === undefined) return '';
	if (typeof value === 'number') return String(value);
	// digits only: written as ="…", which Excel shows as that text; our own fixed form, never
	// user text, so it opens no formula injection (anything else goes through the guard below)
	if (typeof value === 'object') return /^\d+$/.test(value.text) ? `"=""${value.text}"""` : cell(value.text);
	const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
	return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function toCsv<T>(columns: CsvColumn<T>[], rows: readonly T[]): string {
	const lines = [columns.map((c) => cell(c.header)).join(',')];
	for (const row of rows) lines.push(columns.map((c) => cell(c.value(row))).join(','));
	return BOM + lines.join('\r\n') + '\r\n';
}

/**
 * The download response: attachment with an ASCII file name. Typed as a text response so the
 * routes' JSON branch still reaches the typed client (AppType) beside it.
 */
export function csvResponse(body: string, fileName: string): Response & TypedResponse<string, 200, 'text'> {
	return new Response(body, {
		headers: {
			'content-type': 'text/csv; charset=utf-8',
			'content-disposition': `attachment; filename="${fileName.replace(/[^\w.-]/g, '_')}"`,
			'cache-control': 'no-store'
		}
	}) as Response & TypedResponse<string, 200, 'text'>;
}
