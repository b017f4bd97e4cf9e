/**
 * Streams a CSV file as records keyed by header name, with the file line each record starts
 * on. Backpressure flows from the consumer's `for await` down to the file read, so memory stays
 * flat whatever the file size. UTF-8 (with or without BOM) or Shift_JIS.
 *
 * Two parsers, one result. As long as the text has no quote and no bare CR, a record is a
 * line split on commas (LF or CRLF endings): POS and cart exports are mostly like that, and
 * this is ~3× cheaper than a general CSV parser over a million lines. From the first piece of
 * text with a quote or a bare CR on, csv-parse reads the rest of the file (quoted commas and
 * line breaks, malformed quoting reported per record), continuing the line count.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { parse, type CsvError } from 'csv-parse';
import { grown } from '../shared/typed-arrays.ts';

export type CsvEncoding = 'utf-8' | 'shift_jis';

export interface CsvRecord {
	/** 1-based line of the file where the record starts (the header is line 1). */
	line: number;
	values: Record<string, string>;
}

export interface CsvSkip {
	line: number;
	reason: string;
}

export interface CsvSource {
	header: string[];
	/** Bytes read from the file so far, and its size: for the progress bar. */
	bytesRead(): number;
	size: number;
	/**
	 * The records one by one; or `batches`, the same records a piece of the file at a time; or
	 * `rawBatches`, the same again before they are split into cells (see RawBatch). Read one of them.
	 */
	records: AsyncIterable<CsvRecord>;
	batches: AsyncIterable<CsvRecord[]>;
	rawBatches: AsyncIterable<RawBatch>;
	/** A record's cells keyed by header name (what `records` gives). */
	valuesOf(cells: string[]): Record<string, string>;
}

export class CsvFileError extends Error {}

export interface RawRecord {
	line: number;
	cells: string[];
}

/**
 * Lines of `text` the line splitter found, not yet split into cells: line k is
 * text[starts[k], ends[k]) (no line break) and starts on file line lines[k]. A reader that
 * parses cells in place (the POS import) saves an array and a string per cell.
 */
export interface LineBatch {
	text: string;
	count: number;
	starts: Int32Array;
	ends: Int32Array;
	lines: Int32Array;
}

/** A piece of the file: lines to split (while the text has no quote), or records csv-parse made. */
export type RawBatch = LineBatch | RawRecord[];

/** A LineBatch's line k split on commas (no quotes in it: that is what a LineBatch promises). */
export function cellsOf(batch: LineBatch, k: number): string[] {
	return batch.text.slice(batch.starts[k], batch.ends[k]).split(',');
}

/** The file as text, 64 KB at a time (under V8's large-object size: such strings die young). */
async function* textOf(path: string, encoding: CsvEncoding, counted: (bytes: number) => void): AsyncGenerator<string> {
	// TextDecoder keeps characters split between reads, and drops a UTF-8 BOM
	const decoder = new TextDecoder(encoding, { fatal: false });
	for await (const chunk of createReadStream(path, { highWaterMark: 64 * 1024 }) as AsyncIterable<Buffer>) {
		counted(chunk.length);
		const text = decoder.decode(chunk, { stream: true });
		if (text) yield text;
	}
	const tail = decoder.decode();
	if (tail) yield tail;
}

/** A quote, or a CR that is not part of CRLF: what the line splitter cannot read. */
const needsCsvParser = (text: string) => text.includes('"') || /\r[^\n]/.test(text);

/** The file a piece of text at a time: unsplit lines while that is exact, csv-parse records after. */
async function* rawPieces(text: AsyncGenerator<string>, onSkip: (skip: CsvSkip) => void): AsyncGenerator<RawBatch> {
	let rest = '';
	let lines = 0;
	while (true) {
		const next = await text.next();
		if (next.done) break;
		const piece = rest + next.value;
		if (needsCsvParser(piece)) {
			yield* parsedRecords(piece, text, lines, onSkip);
			return;
		}
		// at most one line per byte; typically one per ~80 (grown when a file has shorter lines)
		let capacity = (piece.length >> 5) + 16;
		const batch: LineBatch = { text: piece, count: 0, starts: new Int32Array(capacity), ends: new Int32Array(capacity), lines: new Int32Array(capacity) };
		let start = 0;
		let nl: number;
		while ((nl = piece.indexOf('\n', start)) !== -1) {
			lines++;
			const end = nl > start && piece.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
			// empty lines are skipped (csv-parse's skip_empty_lines)
			if (end > start) {
				if (batch.count === capacity) {
					capacity *= 2;
					batch.starts = grown(batch.starts, capacity);
					batch.ends = grown(batch.ends, capacity);
					batch.lines = grown(batch.lines, capacity);
				}
				batch.starts[batch.count] = start;
				batch.ends[batch.count] = end;
				batch.lines[batch.count] = lines;
				batch.count++;
			}
			start = nl + 1;
		}
		rest = piece.slice(start);
		if (batch.count > 0) yield batch;
	}
	const last = rest.endsWith('\r') ? rest.slice(0, -1) : rest;
	if (last) yield [{ line: lines + 1, cells: last.split(',') }];
}

/**
 * The rest of the file through csv-parse, starting with `first` (text from the beginning of a
 * line) and numbering lines after the `linesBefore` already read. Malformed records (an
 * unclosed quote, …) are reported through `onSkip` and left out; the rest still loads.
 */
async function* parsedRecords(
	first: string,
	text: AsyncGenerator<string>,
	linesBefore: number,
	onSkip: (skip: CsvSkip) => void
): AsyncGenerator<RawRecord[]> {
	const parser = parse({
		bom: true,
		info: true,
		relax_column_count: true,
		skip_empty_lines: true,
		skip_records_with_error: true,
		on_skip: (err: CsvError | undefined) => {
			if (err) onSkip({ line: linesBefore + ((err as CsvError & { lines?: number }).lines ?? 0), reason: `malformed CSV (${err.code})` });
		}
	});
	async function* all(): AsyncGenerator<string> {
		yield first;
		yield* text;
	}
	const input = Readable.from(all(), { objectMode: false });
	input.on('error', (err) => parser.destroy(err));
	input.pipe(parser);
	for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
		let newlines = 0;
		for (const cell of record) if (cell.includes('\n')) newlines += cell.split('\n').length - 1;
		yield [{ line: linesBefore + info.lines - newlines, cells: record }];
	}
}

/** Opens the file and reads its header (lower-cased, trimmed). */
export async function openCsv(
	path: string,
	options: { encoding?: CsvEncoding; onSkip: (skip: CsvSkip) => void }
): Promise<CsvSource> {
	let size: number;
	try {
		size = (await stat(path)).size;
	} catch (err) {
		throw new CsvFileError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
	}
	let bytes = 0;
	const raw = rawPieces(
		textOf(path, options.encoding ?? 'utf-8', (n) => (bytes += n)),
		options.onSkip
	);
	// the header is the first record; what follows it in the same piece is kept for the reader
	let pending: RawBatch | null = null;
	let header: string[] | null = null;
	while (!header) {
		const next = await raw.next();
		if (next.done) throw new CsvFileError(`${path} is empty (no header line)`);
		const piece = next.value;
		if (Array.isArray(piece)) {
			if (piece.length === 0) continue;
			header = piece[0].cells;
			pending = piece.slice(1);
		} else {
			header = cellsOf(piece, 0);
			pending = {
				text: piece.text,
				count: piece.count - 1,
				starts: piece.starts.subarray(1),
				ends: piece.ends.subarray(1),
				lines: piece.lines.subarray(1)
			};
		}
	}
	const names = header.map((h) => h.trim().toLowerCase());

	const valuesOf = (cells: string[]): Record<string, string> => {
		const values: Record<string, string> = {};
		for (let i = 0; i < names.length && i < cells.length; i++) values[names[i]] = cells[i];
		return values;
	};
	const toRecords = (piece: RawBatch): CsvRecord[] => {
		if (Array.isArray(piece)) return piece.map(({ line, cells }) => ({ line, values: valuesOf(cells) }));
		const out: CsvRecord[] = [];
		for (let k = 0; k < piece.count; k++) out.push({ line: piece.lines[k], values: valuesOf(cellsOf(piece, k)) });
		return out;
	};
	async function* rawBatches(): AsyncGenerator<RawBatch> {
		const first = pending;
		pending = null;
		if (first && (Array.isArray(first) ? first.length : first.count) > 0) yield first;
		yield* raw;
	}
	async function* batches(): AsyncGenerator<CsvRecord[]> {
		for await (const piece of rawBatches()) yield toRecords(piece);
	}
	async function* records(): AsyncGenerator<CsvRecord> {
		for await (const batch of batches()) yield* batch;
	}

	return { header: names, size, bytesRead: () => bytes, records: records(), batches: batches(), rawBatches: rawBatches(), valuesOf };
}
