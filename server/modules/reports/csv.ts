/**
 * CSV for Excel in Japan: UTF-8 with a BOM (without it Excel reads Shift_JIS and garbles
 * Japanese), CRLF line ends, every field quoted when it needs to be. Cells starting with
 * = + - @ are prefixed with ' so a crafted name cannot become a formula.
 */
import type { TypedResponse } from 'hono';

export interface CsvColumn<T> {
	header: string;
	value: (row: T) => string | number | null | undefined;
}

const BOM = '\uFEFF';

function cell(value: string | number | null | undefined): string {
	if (value === null || value === undefined) return '';
	if (typeof value === 'number') return String(value);
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
