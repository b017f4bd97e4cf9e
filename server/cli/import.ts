/**
 * `npm run import -- <pos|ec|customers|products> <file.csv> [options]`: loads a CSV export into
 * DATABASE_URL (or the local PGlite). See docs/import.md for the formats.
 *
 * Exit codes: 0 when rows loaded (or the file had no data rows), 1 when every row was bad,
 * 2 when the file or the arguments cannot be used, 3 on a database failure.
 */
import { rm } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { loadConfig } from '../config.ts';
import { openDatabase } from '../db/index.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { CsvFileError, runImport, type ImportProgress, type ImportSummary } from '../ingest/import.ts';
import { IMPORT_KINDS, type ImportKind } from '../ingest/row-schemas.ts';
import { composeModules } from '../compose.ts';

const USAGE = `usage: npm run import -- <${IMPORT_KINDS.join('|')}> <file.csv> [options]
  --encoding utf-8|shift_jis   file encoding (default utf-8; a BOM is accepted)
  --batch-size N               rows per transaction (default 5000)
  --platform NAME              EC platform of the orders (ec only; default shopify)
  --errors FILE                where all bad rows go (default <file>.errors.csv)
  --quiet                      no progress output
  --json                       print the summary as one JSON line (for scripts and the benchmark)`;

function fail(message: string, code = 2): never {
	console.error(message);
	process.exit(code);
}

const { values: opts, positionals } = (() => {
	try {
		return parseArgs({
			allowPositionals: true,
			options: {
				encoding: { type: 'string', default: 'utf-8' },
				'batch-size': { type: 'string', default: '5000' },
				platform: { type: 'string', default: 'shopify' },
				errors: { type: 'string' },
				quiet: { type: 'boolean', default: false },
				json: { type: 'boolean', default: false },
				help: { type: 'boolean', default: false }
			}
		});
	} catch (err) {
		return fail(`${(err as Error).message}\n${USAGE}`);
	}
})();
if (opts.help) fail(USAGE, 0);
const [kindArg, file] = positionals;
if (!IMPORT_KINDS.includes(kindArg as ImportKind) || !file) fail(USAGE);
const kind = kindArg as ImportKind;
const encoding = opts.encoding.toLowerCase().replace('sjis', 'shift_jis').replace('utf8', 'utf-8');
if (encoding !== 'utf-8' && encoding !== 'shift_jis') fail(`unsupported --encoding ${opts.encoding} (utf-8 or shift_jis)`);
const batchSize = Number(opts['batch-size']);
if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 50_000) fail('--batch-size must be an integer 1..50000');
const errorsFile = opts.errors ?? `${file}.errors.csv`;

const config = loadConfig();
const handle = await openDatabase({ url: config.database.url, pgliteDir: config.database.pgliteDir, poolSize: 5 });
let exitCode = 0;
try {
	await migrateToLatest(handle.db);
	await rm(errorsFile, { force: true });
	const progress = opts.quiet ? null : progressReporter();
	const modules = composeModules(config);
	const summary = await runImport(handle.db, {
		kind,
		file,
		encoding,
		batchSize,
		platform: opts.platform,
		orders: modules.orders,
		onStoreSales: modules.storeSaleHooks,
		errorsFile,
		onProgress: progress?.update,
		pool: handle.pool
	});
	progress?.stop();
	if (opts.json) console.log(JSON.stringify({ ...summary, maxRssBytes: process.resourceUsage().maxRSS * 1024 }));
	else printSummary(summary);
	if (summary.rowsRead > 0 && summary.rowsOk === 0) exitCode = 1;
} catch (err) {
	if (err instanceof CsvFileError) {
		console.error(`import failed: ${err.message}`);
		exitCode = 2;
	} else {
		console.error(`import failed: ${(err as Error).message}`);
		exitCode = 3;
	}
} finally {
	await handle.close();
}
process.exit(exitCode);

/** A bar with rows/s on a terminal; a plain line every 5 s otherwise (CI logs, pipes). */
function progressReporter(): { update: (p: ImportProgress) => void; stop: () => void } {
	const started = performance.now();
	const rate = (rows: number) => Math.round(rows / Math.max((performance.now() - started) / 1000, 0.001));
	if (process.stderr.isTTY) {
		const bar = new cliProgress.SingleBar(
			{
				format: `${kind} |{bar}| {percentage}% | {rows} rows | {rate} rows/s | ETA {eta_formatted}`,
				stream: process.stderr,
				hideCursor: true
			},
			cliProgress.Presets.shades_classic
		);
		let begun = false;
		let phase = 'reading';
		return {
			update: (p) => {
				if (p.phase && p.phase !== 'reading') {
					// after the file: set-based steps without a measurable fraction, one line each
					if (p.phase !== phase) {
						if (phase === 'reading') bar.stop();
						phase = p.phase;
						if (phase !== 'done') process.stderr.write(`${kind}: ${phase}…\n`);
					}
					return;
				}
				if (phase !== 'reading') return;
				if (!begun) {
					bar.start(p.bytesTotal || 1, 0, { rows: 0, rate: 0 });
					begun = true;
				}
				bar.update(p.bytesRead, { rows: p.rowsRead, rate: rate(p.rowsRead) });
			},
			stop: () => {
				if (phase === 'reading') bar.stop();
			}
		};
	}
	let last = 0;
	let phase = 'reading';
	return {
		update: (p) => {
			if (p.phase && p.phase !== 'reading') {
				if (p.phase !== phase && p.phase !== 'done') console.error(`${kind}: ${p.phase}…`);
				phase = p.phase;
				return;
			}
			const now = performance.now();
			if (now - last < 5000) return;
			last = now;
			const pct = p.bytesTotal ? Math.floor((100 * p.bytesRead) / p.bytesTotal) : 100;
			console.error(`${kind}: ${pct}% ${p.rowsRead} rows, ${rate(p.rowsRead)} rows/s`);
		},
		stop: () => {}
	};
}

function printSummary(s: ImportSummary): void {
	const seconds = s.durationMs / 1000;
	const lines = [
		`${s.kind} import of ${s.file} (run ${s.runId})`,
		`  rows read: ${s.rowsRead}, loaded: ${s.rowsOk}, bad: ${s.rowsBad}`,
		`  ${Object.entries(s.counts).map(([k, n]) => `${k.replace(/_/g, ' ')}: ${n}`).join(', ')}`,
		...Object.entries(s.warnings).map(([k, n]) => `  warning: ${n} × ${k.replace(/_/g, ' ')}`),
		...s.errors.map((e) => `  line ${e.line}: ${e.reason}`),
		...(s.rowsBad > s.errors.length ? [`  … ${s.rowsBad - s.errors.length} more`] : []),
		...(s.rowsBad > 0 && s.errorsFile ? [`  all bad rows: ${s.errorsFile}`] : []),
		`  ${seconds.toFixed(1)} s, ${Math.round(s.rowsRead / Math.max(seconds, 0.001))} rows/s, peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`
	];
	console.log(lines.join('\n'));
}
