/**
 * `npm run seed`: loads the demo brand into DATABASE_URL (or the local PGlite).
 *
 *   npm run seed                         # refuses when data exists
 *   npm run seed -- --reset              # empties every table first (--force is the same)
 *   npm run seed -- --customers 1000000  # benchmark size; ≥ 50,000 on PostgreSQL uses set-based SQL
 *   npm run seed -- --seed 7 --anchor 2026-11-23
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.ts';
import { openDatabase } from '../db/index.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { BULK_THRESHOLD, seedBulk } from '../seed/bulk.ts';
import { DEFAULT_CUSTOMERS, DEFAULT_SEED } from '../seed/generate.ts';
import { jstDate } from '../shared/jst.ts';
import { hasData, resetDatabase, seedDemo, type SeedReport } from '../seed/seed.ts';

const { values } = parseArgs({
	options: {
		reset: { type: 'boolean', default: false },
		force: { type: 'boolean', default: false },
		customers: { type: 'string' },
		seed: { type: 'string' },
		anchor: { type: 'string' }
	}
});

const customers = values.customers ? Number(values.customers) : DEFAULT_CUSTOMERS;
const seed = values.seed ? Number(values.seed) : DEFAULT_SEED;
const anchorDate = values.anchor ?? jstDate(new Date());
if (!Number.isInteger(customers) || customers < 5) fail('--customers must be an integer ≥ 5');
if (!Number.isInteger(seed)) fail('--seed must be an integer');
if (!/^\d{4}-\d{2}-\d{2}$/.test(anchorDate)) fail('--anchor must be YYYY-MM-DD');

const config = loadConfig();
const handle = await openDatabase({ url: config.database.url, pgliteDir: config.database.pgliteDir });
try {
	await migrateToLatest(handle.db);
	if (await hasData(handle.db)) {
		if (!values.reset && !values.force) fail('The database already has data. Use --reset to empty it and seed again.');
		console.log('Emptying every table…');
		await resetDatabase(handle.db);
	}
	const started = Date.now();
	let report: SeedReport;
	if (handle.kind === 'postgres' && customers >= BULK_THRESHOLD) {
		console.log(`Seeding ${customers.toLocaleString()} customers with set-based SQL (anchor ${anchorDate}, seed ${seed})…`);
		report = await seedBulk(handle.db, {
			customers, seed, anchorDate, publicBaseUrl: config.publicBaseUrl, dormantDays: config.dormantDays,
			onProgress: (step) => console.log(`  ${((Date.now() - started) / 1000).toFixed(1)}s  ${step}`)
		});
	} else {
		if (customers >= BULK_THRESHOLD) console.log('Note: large sizes are generated in memory on PGlite; set DATABASE_URL for the fast set-based path.');
		console.log(`Seeding ${customers.toLocaleString()} customers (anchor ${anchorDate}, seed ${seed})…`);
		report = await seedDemo(handle.db, {
			customers, seed, anchorDate, publicBaseUrl: config.publicBaseUrl, dormantDays: config.dormantDays,
			onProgress: (step) => console.log(`  ${((Date.now() - started) / 1000).toFixed(1)}s  ${step}`)
		});
	}
	printReport(report, Date.now() - started);
} finally {
	await handle.close();
}

function printReport(report: SeedReport, ms: number): void {
	console.log(`\nDone in ${(ms / 1000).toFixed(1)}s (anchor date ${report.anchorDate}, seed ${report.seed}).\n\nRows:`);
	for (const [table, n] of Object.entries(report.counts)) console.log(`  ${table.padEnd(22)} ${n.toLocaleString().padStart(12)}`);
	const total = Object.values(report.states).reduce((s, n) => s + n, 0);
	console.log(`\nCustomers by state (dormant = no purchase for ${config.dormantDays} days):`);
	for (const [state, n] of Object.entries(report.states)) {
		console.log(`  ${state.padEnd(22)} ${n.toLocaleString().padStart(12)}  ${((100 * n) / Math.max(total, 1)).toFixed(1).padStart(5)}%`);
	}
}

function fail(message: string): never {
	console.error(message);
	process.exit(1);
}
