/**
 * `npm run bench:import`: the POS CSV import against PostgreSQL's own COPY.
 *
 * 1. Writes a deterministic 1,000,000-line POS CSV (seeded generator) into a temp directory.
 * 2. Creates a fresh database on DATABASE_URL's server (default 127.0.0.1), migrated, with
 *    3 stores, 12 staff and 500 products.
 * 3. Runs the real `npm run import -- pos` in a child process and reads its duration, rows/s and
 *    peak RSS (the child's own maxRSS, and /usr/bin/time's when available).
 * 4. COPYs the same file (pg-copy-streams) into a comparable table: the CSV's columns typed,
 *    with the primary key the import's idempotency relies on (store, receipt, line).
 * Prints the figures against the targets (≥ 100,000 rows/s, ≤ 3× COPY, peak RSS < 300 MB);
 * asserts nothing. Drops the database and the file at the end.
 *
 *   npm run bench:import [-- --lines 1000000] [-- --runs 5] [-- --keep-db]
 *
 * With --runs N it measures N times (a fresh database each) and prints the median and the range:
 * on a shared machine one run moves by ±10%.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { openDatabase } from '../../server/db/index.ts';
import { migrateToLatest } from '../../server/db/migrate.ts';

const { values } = parseArgs({
	options: { lines: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '1' }, 'keep-db': { type: 'boolean', default: false } }
});
const LINES = Number(values.lines);
const RUNS = Math.max(1, Number(values.runs));
const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const STORES = ['shibuya', 'shinjuku', 'yokohama'];
const STAFF = Array.from({ length: 12 }, (_, i) => `S${String(i + 1).padStart(3, '0')}`);
const SKUS = Array.from({ length: 500 }, (_, i) => `KS-${String(i + 1).padStart(5, '0')}`);
const CUSTOMERS = 80_000;

/** mulberry32: small, fast, deterministic. */
function rng(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

async function generateCsv(path: string, lines: number): Promise<void> {
	const rand = rng(20261123);
	const out = createWriteStream(path);
	const pad = (n: number, w: number) => String(n).padStart(w, '0');
	let chunk = 'store_code,receipt_no,line_no,purchased_at,customer_code,member_no,email,phone,staff_code,sku,quantity,unit_price_yen,amount_yen\n';
	let written = 0;
	let receipt = 0;
	const start = Date.UTC(2025, 0, 1) / 1000;
	while (written < lines) {
		receipt++;
		const store = STORES[Math.floor(rand() * STORES.length)];
		const t = new Date((start + Math.floor(rand() * 365 * 86400)) * 1000).toISOString();
		const at = `${t.slice(0, 10)} ${t.slice(11, 19)}`;
		// 30% anonymous; members are known by POS code, some also by email / phone
		const c = rand() < 0.3 ? -1 : Math.floor(rand() * CUSTOMERS);
		const code = c < 0 ? '' : `P${pad(c, 6)}`;
		const email = c >= 0 && c % 3 === 0 ? `m${c}@example.jp` : '';
		const phone = c >= 0 && c % 4 === 0 ? `090${pad(c, 8)}` : '';
		const staff = STAFF[Math.floor(rand() * STAFF.length)];
		const isReturn = rand() < 0.03;
		const nLines = Math.min(1 + Math.floor(rand() * 4), lines - written);
		for (let l = 1; l <= nLines; l++) {
			// 1% of lines carry a SKU the product master does not know
			const sku = rand() < 0.01 ? `ZZ-${pad(Math.floor(rand() * 1000), 4)}` : SKUS[Math.floor(rand() * SKUS.length)];
			const qty = (isReturn ? -1 : 1) * (1 + Math.floor(rand() * 2));
			const price = 500 + Math.floor(rand() * 200) * 100;
			chunk += `${store},R${pad(receipt, 8)},${l},${at},${code},,${email},${phone},${staff},${sku},${qty},${price},${qty * price}\n`;
		}
		written += nLines;
		if (chunk.length > 1 << 20) {
			if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
			chunk = '';
		}
	}
	out.end(chunk);
	await new Promise<void>((resolve, reject) => out.on('finish', resolve).on('error', reject));
}

function withDatabase(url: string, database: string): string {
	const u = new URL(url);
	u.pathname = `/${database}`;
	return u.toString();
}

async function admin(text: string): Promise<void> {
	const client = new pg.Client({ connectionString: withDatabase(serverUrl, 'postgres') });
	await client.connect();
	try {
		await client.query(text);
	} finally {
		await client.end();
	}
}

async function prepareDatabase(url: string): Promise<void> {
	const handle = await openDatabase({ url, poolSize: 2 });
	try {
		await migrateToLatest(handle.db);
		await handle.db.insertInto('stores').values(STORES.map((id) => ({ id, name: id, name_en: id }))).execute();
		await handle.db
			.insertInto('staff')
			.values(STAFF.map((code, i) => ({ staff_code: code, display_name: code, sender_name: code, role: 'staff' as const, home_store_id: STORES[i % 3] })))
			.execute();
		await handle.db
			.insertInto('products')
			.values(SKUS.map((sku, i) => ({ sku, name: sku, category: 'bench', price_yen: 1000 + i })))
			.execute();
	} finally {
		await handle.close();
	}
}

interface ChildResult {
	wallMs: number;
	summary: { phaseMs?: Record<string, number>; rowsRead: number; rowsOk: number; rowsBad: number; durationMs: number; counts: Record<string, number>; warnings: Record<string, number>; maxRssBytes: number };
	timeMaxRssKb: number | null;
}

function runImportChild(url: string, file: string): Promise<ChildResult> {
	const useTime = existsSync('/usr/bin/time');
	// exactly what an operator runs (the npm script sets the heap limit that keeps RSS flat)
	const args = ['run', '--silent', 'import', '--', 'pos', file, '--quiet', '--json'];
	const [cmd, argv] = useTime ? ['/usr/bin/time', ['-f', 'MAXRSS_KB=%M', 'npm', ...args]] : ['npm', args];
	const started = performance.now();
	return new Promise((resolve, reject) => {
		const child = spawn(cmd, argv, { env: { ...process.env, DATABASE_URL: url, LOG_LEVEL: 'silent' }, stdio: ['ignore', 'pipe', 'pipe'] });
		let out = '';
		let err = '';
		child.stdout.on('data', (d) => (out += d));
		child.stderr.on('data', (d) => (err += d));
		child.on('error', reject);
		child.on('close', (code) => {
			const wallMs = performance.now() - started;
			const json = out.split('\n').find((l) => l.startsWith('{'));
			if (code !== 0 || !json) return reject(new Error(`import exited ${code}\n${out}\n${err}`));
			const m = /MAXRSS_KB=(\d+)/.exec(err);
			resolve({ wallMs, summary: JSON.parse(json), timeMaxRssKb: m ? Number(m[1]) : null });
		});
	});
}

async function copyBaseline(url: string, file: string): Promise<number> {
	const client = new pg.Client({ connectionString: url });
	await client.connect();
	try {
		await client.query(`set timezone = 'Asia/Tokyo'`);
		await client.query(`create table bench_copy_pos (
			store_code text not null, receipt_no text not null, line_no integer not null, purchased_at timestamptz not null,
			customer_code text, member_no text, email text, phone text, staff_code text, sku text not null,
			quantity integer not null, unit_price_yen integer not null, amount_yen integer not null,
			primary key (store_code, receipt_no, line_no))`);
		const started = performance.now();
		await pipeline(createReadStream(file), client.query(copyFrom(`copy bench_copy_pos from stdin with (format csv, header true)`)));
		return performance.now() - started;
	} finally {
		await client.end();
	}
}

/** One measurement on a fresh database: the import, then COPY of the same file. */
async function measure(run: number): Promise<{ rowsPerSec: number; ratio: number; rssMb: number }> {
	const dbName = `tsunagu_bench_${randomBytes(5).toString('hex')}`;
	const url = withDatabase(serverUrl, dbName);
	try {
		await admin(`create database ${dbName}`);
		await prepareDatabase(url);
		// both measurements start from a fresh checkpoint: a checkpoint forced by the WAL of the
		// run before would otherwise land in one of them at random
		await admin('checkpoint');
		const imp = await runImportChild(url, file);
		const s = imp.summary;
		const importSec = s.durationMs / 1000;
		const rowsPerSec = s.rowsRead / importSec;
		const rssMb = s.maxRssBytes / 1024 / 1024;

		await admin('checkpoint');
		const copySec = (await copyBaseline(url, file)) / 1000;
		const ratio = importSec / copySec;

		if (RUNS > 1) console.log(`— run ${run} of ${RUNS}`);
		console.log(`import: ${s.rowsRead.toLocaleString()} rows (${s.rowsOk.toLocaleString()} ok, ${s.rowsBad} bad) in ${importSec.toFixed(1)} s (process wall ${(imp.wallMs / 1000).toFixed(1)} s)`);
		console.log(`        ${JSON.stringify(s.counts)} warnings ${JSON.stringify(s.warnings)}`);
		if (s.phaseMs) console.log(`        phases (ms): ${JSON.stringify(s.phaseMs)}`);
		console.log(`COPY:   ${copySec.toFixed(1)} s into bench_copy_pos (CSV columns typed + primary key)`);
		report(rowsPerSec, ratio, rssMb);
		const timeRss = imp.timeMaxRssKb ? ` (/usr/bin/time over npm + node: ${(imp.timeMaxRssKb / 1024).toFixed(0)} MB)` : '';
		if (timeRss) console.log(`        peak RSS is the import process's maxRSS${timeRss}`);
		console.log(`load average during the run: ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${availableParallelism()} cores`);
		return { rowsPerSec, ratio, rssMb };
	} finally {
		if (!values['keep-db']) await admin(`drop database if exists ${dbName} with (force)`).catch(() => {});
		else console.log(`kept database ${dbName}`);
	}
}

function report(rowsPerSec: number, ratio: number, rssMb: number): void {
	const ok = (pass: boolean) => (pass ? 'ok ' : 'MISS');
	console.log(`[${ok(rowsPerSec >= 100_000)}] rows/s      ${Math.round(rowsPerSec).toLocaleString()} (target ≥ 100,000)`);
	console.log(`[${ok(ratio <= 3)}] vs COPY     ${ratio.toFixed(2)}× (target ≤ 3×)`);
	console.log(`[${ok(rssMb < 300)}] peak RSS    ${rssMb.toFixed(0)} MB (target < 300 MB)`);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const dir = mkdtempSync(join(tmpdir(), 'tsunagu-bench-import-'));
const file = join(dir, 'pos-1m.csv');
try {
	const t = performance.now();
	await generateCsv(file, LINES);
	console.log(`generated ${LINES.toLocaleString()} lines (${(statSync(file).size / 1e6).toFixed(0)} MB) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
	const runs: Array<{ rowsPerSec: number; ratio: number; rssMb: number }> = [];
	for (let run = 1; run <= RUNS; run++) runs.push(await measure(run));
	if (RUNS > 1) {
		// the machine's speed moves from run to run: the median, and the range next to it
		const range = (k: 'rowsPerSec' | 'ratio', digits: number) => `${Math.min(...runs.map((r) => r[k])).toFixed(digits)}–${Math.max(...runs.map((r) => r[k])).toFixed(digits)}`;
		console.log(`— median of ${RUNS} runs (rows/s ${range('rowsPerSec', 0)}, ratio ${range('ratio', 2)}):`);
		report(median(runs.map((r) => r.rowsPerSec)), median(runs.map((r) => r.ratio)), Math.max(...runs.map((r) => r.rssMb)));
	}
} finally {
	rmSync(dir, { recursive: true, force: true });
}
