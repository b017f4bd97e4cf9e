import { existsSync, readFileSync, rmSync } from 'node:fs';
import pg from 'pg';

/** Drops the throwaway PostgreSQL database the e2e server used (force: it may still be connected). */
export default async function teardown(): Promise<void> {
	const file = 'test-results/e2e-database.txt';
	if (!process.env.DATABASE_URL || !existsSync(file)) return;
	const name = readFileSync(file, 'utf8').trim();
	const admin = new URL(process.env.DATABASE_URL);
	admin.pathname = '/postgres';
	const client = new pg.Client({ connectionString: admin.toString() });
	await client.connect();
	await client.query(`drop database if exists ${name} with (force)`);
	await client.end();
	rmSync(file);
}
