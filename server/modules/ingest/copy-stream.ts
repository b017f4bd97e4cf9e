/**
 * `COPY … FROM STDIN` (text format) on one pg client, with backpressure: `flush` resolves only
 * when the socket has room again, so a fast producer never piles rows up in memory.
 */
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/** One COPY text-format field: NULL as \N, backslash, tab and line breaks escaped. */
export function copyField(value: string | number | null | undefined): string {
	if (value == null) return '\\N';
	if (typeof value === 'number') return String(value);
	return /[\\\t\n\r]/.test(value) ? value.replace(/[\\\t\n\r]/g, escapeChar) : value;
}
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const escapeChar = (c: string) => ESCAPES[c];

export interface CopyWriter {
	/**
	 * Buffers one row (fields already passed through `copyField`, tab-joined, no newline) and
	 * returns true when the buffer is full; the caller then awaits `flush`. No promise per row:
	 * the hot loop of a million-line file.
	 */
	push(line: string): boolean;
	flush(): Promise<void>;
	/** Flushes, ends the COPY and waits for the server to confirm; returns the rows copied. */
	end(): Promise<number>;
}

const CHUNK_CHARS = 48 * 1024;

export function startCopy(client: pg.PoolClient, statement: string): CopyWriter {
	const stream = client.query(copyFrom(statement));
	// Watched from the start, so an early server error is never an unhandled 'error' event.
	const done = finished(stream);
	done.catch(() => {});
	// Lines are joined once per flush (no string grown row by row), and a flush stays well under
	// V8's large-object size: short-lived strings then die young instead of forcing full GCs.
	let lines: string[] = [];
	let chars = 0;
	const flush = async () => {
		if (lines.length === 0) return;
		lines.push('');
		const data = lines.join('\n');
		lines = [];
		chars = 0;
		if (!stream.write(data)) await Promise.race([once(stream, 'drain'), done]);
	};
	const push = (line: string) => {
		lines.push(line);
		chars += line.length + 1;
		return chars >= CHUNK_CHARS;
	};
	return {
		push,
		flush,
		async end() {
			await flush();
			stream.end();
			await done;
			return stream.rowCount;
		}
	};
}
