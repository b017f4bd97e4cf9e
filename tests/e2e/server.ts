/**
 * The server the e2e suite drives: the real main.ts in demo mode (sandbox + seed), on a fresh
 * in-memory PGlite, or on a throwaway PostgreSQL database when DATABASE_URL is set.
 */
import { writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

const E2E_DB_FILE = 'test-results/e2e-database.txt';

async function prepareDatabase(): Promise<void> {
	const serverUrl = process.env.DATABASE_URL;
	if (!serverUrl) {
		process.env.PGLITE_DIR = 'memory://';
		return;
	}
	const name = `tsunagu_e2e_${randomBytes(5).toString('hex')}`;
	const admin = new URL(serverUrl);
	admin.pathname = '/postgres';
	const client = new pg.Client({ connectionString: admin.toString() });
	await client.connect();
	await client.query(`create database ${name}`);
	await client.end();
	const url = new URL(serverUrl);
	url.pathname = `/${name}`;
	process.env.DATABASE_URL = url.toString();
	writeFileSync(E2E_DB_FILE, name);
}

await import('node:fs').then((fs) => fs.mkdirSync('test-results', { recursive: true }));
await prepareDatabase();
process.env.TSUNAGU_MODE = 'demo';
process.env.HOST = '127.0.0.1';
process.env.LOG_LEVEL = process.env.LOG_LEVEL ?? 'warn';
await import('../../server/main.ts');
