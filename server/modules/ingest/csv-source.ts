/**
 * Streams a CSV file as records keyed by header name, with the file line each record starts
 * on. Backpressure flows from the consumer's `for await` down to the file read, so memory stays
 * flat whatever the file size. UTF-8 (with or without BOM) or Shift_JIS.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Transform, type TransformCallback } from 'node:stream';
import { parse, type CsvError } from 'csv-parse';

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
	records: AsyncIterable<CsvRecord>;
}

export class CsvFileError extends Error {}

/** Decodes bytes to text chunk by chunk; TextDecoder keeps split multi-byte characters. */
function decoder(encoding: CsvEncoding): Transform {
	const td = new TextDecoder(encoding, { fatal: false });
	return new Transform({
		readableObjectMode: false,
		transform(chunk: Buffer, _enc, done: TransformCallback) {
			done(null, td.decode(chunk, { stream: true }));
		},
		flush(done: TransformCallback) {
			done(null, td.decode());
		}
	});
}

/**
 * Opens the file and reads its header. Malformed records (an unclosed quote, …) are reported
 * through `onSkip` with their line and left out; the rest of the file still loads.
 */
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
	const encoding = options.encoding ?? 'utf-8';
	let bytes = 0;
	// 64 KB reads: the decoded text stays under V8's large-object size, so it dies young in the
	// new space; 256 KB strings went to the old space and forced a full GC every few MB.
	const file = createReadStream(path, { highWaterMark: 64 * 1024 });
	file.on('data', (chunk) => (bytes += chunk.length));
	const parser = parse({
		bom: true,
		info: true,
		relax_column_count: true,
		skip_empty_lines: true,
		skip_records_with_error: true,
		on_skip: (err: CsvError | undefined) => {
			if (err) options.onSkip({ line: (err as CsvError & { lines?: number }).lines ?? 0, reason: `malformed CSV (${err.code})` });
		}
	});
	// TextDecoder strips a UTF-8 BOM itself; csv-parse's `bom` covers the undecoded path.
	const text = encoding === 'utf-8' ? file : file.pipe(decoder(encoding));
	file.on('error', (err) => parser.destroy(err));
	text.pipe(parser);

	const iterator = (parser as AsyncIterable<{ record: string[]; info: { lines: number } }>)[Symbol.asyncIterator]();
	const first = await iterator.next();
	if (first.done) throw new CsvFileError(`${path} is empty (no header line)`);
	const header = first.value.record.map((h) => h.trim().toLowerCase());

	async function* records(): AsyncGenerator<CsvRecord> {
		while (true) {
			const next = await iterator.next();
			if (next.done) return;
			const { record, info } = next.value;
			const values: Record<string, string> = {};
			let newlines = 0;
			for (let i = 0; i < header.length && i < record.length; i++) {
				const cell = record[i];
				values[header[i]] = cell;
				if (cell.includes('\n')) newlines += cell.split('\n').length - 1;
			}
			yield { line: info.lines - newlines, values };
		}
	}

	return { header, size, bytesRead: () => bytes, records: records() };
}
