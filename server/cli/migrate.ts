/** `npm run migrate`: applies pending migrations to DATABASE_URL (or the local PGlite). */
import { loadConfig } from '../config.ts';
import { openDatabase } from '../db/index.ts';
import { migrateToLatest } from '../db/migrate.ts';

const config = loadConfig();
const handle = await openDatabase({ url: config.database.url, pgliteDir: config.database.pgliteDir });
try {
	const result = await migrateToLatest(handle.db);
	const applied = result.results ?? [];
	if (applied.length === 0) console.log('Database is up to date.');
	for (const r of applied) console.log(`${r.status === 'Success' ? '✔' : '✘'} ${r.migrationName}`);
} finally {
	await handle.close();
}
