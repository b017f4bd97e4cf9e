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

// ── binary COPY ─────────────────────────────────────────────────────────────────────────────
// `COPY … WITH (FORMAT binary)`: each field is written into a buffer as PostgreSQL's binary
// form (big-endian integers, UTF-8 text, a length before each field). No string is made per
// row or per number, and the server has no text to parse: for a million lines that is most of
// what the text format cost on both sides.

const BINARY_SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const BUFFER_BYTES = 64 * 1024;
const TWO_32 = 4_294_967_296;

/** Binary rows into buffers of BUFFER_BYTES; `take` hands over what is written so far. */
export class BinaryRows {
	private buf = Buffer.allocUnsafe(BUFFER_BYTES);
	private off = 0;
	/** Full buffers a long row pushed aside, sent before the current one. */
	private pending: Buffer[] = [];

	constructor() {
		// signature, flags (no OIDs), header extension length
		BINARY_SIGNATURE.copy(this.buf, 0);
		this.off = BINARY_SIGNATURE.length;
		this.off = this.buf.writeInt32BE(0, this.off);
		this.off = this.buf.writeInt32BE(0, this.off);
	}

	/** Bytes written and not yet taken. */
	get size(): number {
		return this.off;
	}

	/** Starts a row of `fields` fields that needs at most `maxBytes` bytes. */
	row(fields: number, maxBytes: number): void {
		if (this.off + maxBytes + 2 > this.buf.length) this.renew(maxBytes + 2);
		this.off = this.buf.writeInt16BE(fields, this.off);
	}

	int4(value: number): void {
		this.off = this.buf.writeInt32BE(4, this.off);
		this.off = this.buf.writeInt32BE(value, this.off);
	}

	/** A bigint given as a number (exact below 2^53, as every id here is). */
	int8(value: number): void {
		const high = Math.floor(value / TWO_32);
		this.off = this.buf.writeInt32BE(8, this.off);
		this.off = this.buf.writeInt32BE(high, this.off);
		this.off = this.buf.writeUInt32BE(value - high * TWO_32, this.off);
	}

	null(): void {
		this.off = this.buf.writeInt32BE(-1, this.off);
	}

	/** Text as UTF-8 (the row's maxBytes must allow 3 bytes per UTF-16 unit). */
	text(value: string): void {
		const at = this.off + 4;
		const n = this.buf.write(value, at, 'utf8');
		this.buf.writeInt32BE(n, this.off);
		this.off = at + n;
	}

	/** Text already encoded as UTF-8. */
	textBytes(value: Uint8Array): void {
		this.off = this.buf.writeInt32BE(value.length, this.off);
		this.buf.set(value, this.off);
		this.off += value.length;
	}

	/** A uuid from its text form (8-4-4-4-12 hex digits). */
	uuid(value: string): void {
		const buf = this.buf;
		let off = buf.writeInt32BE(16, this.off);
		for (let i = 0; i < 36; i++) {
			if (i === 8 || i === 13 || i === 18 || i === 23) continue;
			buf[off++] = (hexValue(value.charCodeAt(i)) << 4) | hexValue(value.charCodeAt(++i));
		}
		this.off = off;
	}

	/** A timestamptz as microseconds since 2000-01-01 UTC (PostgreSQL's epoch). */
	timestamptz(micros: number): void {
		this.int8(micros);
	}

	/** The end-of-data marker. */
	trailer(): void {
		if (this.off + 2 > this.buf.length) this.renew(2);
		this.off = this.buf.writeInt16BE(-1, this.off);
	}

	/** What the current buffer holds (a view: the next rows go into a new buffer). */
	private take(): Buffer | null {
		if (this.off === 0) return null;
		const data = this.buf.subarray(0, this.off);
		this.buf = Buffer.allocUnsafe(BUFFER_BYTES);
		this.off = 0;
		return data;
	}

	/** A row that does not fit: the full buffer waits in `pending` for the next take. */
	private renew(atLeast: number): void {
		this.pending.push(this.buf.subarray(0, this.off));
		this.buf = Buffer.allocUnsafe(Math.max(BUFFER_BYTES, atLeast));
		this.off = 0;
	}

	/** Everything written so far, pending buffers first. */
	takeAll(): Buffer[] {
		const out = this.pending;
		this.pending = [];
		const last = this.take();
		if (last) out.push(last);
		return out;
	}
}

function hexValue(c: number): number {
	if (c >= 48 && c <= 57) return c - 48;
	if (c >= 97 && c <= 102) return c - 87;
	if (c >= 65 && c <= 70) return c - 55;
	throw new Error('not a uuid');
}

/** Microseconds from 1970-01-01 to PostgreSQL's epoch, 2000-01-01 UTC. */
const PG_EPOCH_MICROS = Date.UTC(2000, 0, 1) * 1000;
const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|([+-])(\d{2}):?(\d{2}))$/;

/**
 * An ISO 8601 time with an offset (what parseTimestamp returns) as microseconds since
 * PostgreSQL's epoch, as timestamptz's input would read it (fractions rounded to the
 * microsecond). Null when the text is not of that form.
 */
export function isoToPgMicros(iso: string): number | null {
	// the form parseTimestamp makes of a Japanese local time, "YYYY-MM-DDTHH:MM:SS+09:00",
	// read digit by digit: this runs once per receipt
	if (iso.length === 25 && iso.endsWith('+09:00') && iso.charCodeAt(10) === 84) {
		const y = digits(iso, 0, 4);
		const mo = digits(iso, 5, 2);
		const d = digits(iso, 8, 2);
		const h = digits(iso, 11, 2);
		const mi = digits(iso, 14, 2);
		const sec = digits(iso, 17, 2);
		if (y >= 100 && mo >= 0 && d >= 0 && h >= 0 && mi >= 0 && sec >= 0) {
			return (Date.UTC(y, mo - 1, d, h, mi, sec) - 9 * 3_600_000) * 1000 - PG_EPOCH_MICROS;
		}
	}
	const m = ISO_RE.exec(iso);
	if (!m) return null;
	const [, y, mo, d, h, mi, sec = '0', fraction = '', zone, sign, oh, om] = m;
	let ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec));
	if (Number(y) < 100) return null; // Date.UTC maps years 0–99 to 1900–1999
	if (zone !== 'Z') ms -= (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) * 60_000;
	const micros = fraction ? Math.round(Number(`0.${fraction}`) * 1e6) : 0;
	return ms * 1000 + micros - PG_EPOCH_MICROS;
}

/** The number written by `length` decimal digits at `at`, or -1. */
function digits(text: string, at: number, length: number): number {
	let n = 0;
	for (let i = at; i < at + length; i++) {
		const c = text.charCodeAt(i) - 48;
		if (c < 0 || c > 9) return -1;
		n = n * 10 + c;
	}
	return n;
}

export interface BinaryCopyWriter {
	rows: BinaryRows;
	/** Sends what the rows hold; resolves when the socket has room again. Call when rows.size passes a buffer. */
	flush(): Promise<void>;
	/** Writes the trailer, ends the COPY and waits for the server; returns the rows copied. */
	end(): Promise<number>;
}

/** Starts `statement` (a COPY … FROM STDIN WITH (FORMAT binary)) on the client. */
export function startBinaryCopy(client: pg.PoolClient, statement: string): BinaryCopyWriter {
	const stream = client.query(copyFrom(statement));
	const done = finished(stream);
	done.catch(() => {});
	const rows = new BinaryRows();
	const send = async () => {
		let room = true;
		for (const data of rows.takeAll()) room = stream.write(data);
		if (!room) await Promise.race([once(stream, 'drain'), done]);
	};
	return {
		rows,
		flush: send,
		async end() {
			rows.trailer();
			await send();
			stream.end();
			await done;
			return stream.rowCount;
		}
	};
}

/** Bytes in a BinaryRows buffer after which a writer should flush. */
export const BINARY_FLUSH_BYTES = BUFFER_BYTES - 512;
