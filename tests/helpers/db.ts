/**
 * Real databases for tests: an in-memory PGlite always, and a throwaway database on the
 * PostgreSQL server named by DATABASE_URL when it is set (created here, dropped after).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type DatabaseHandle } from '../../server/db/index.ts';
import { migrateToLatest } from '../../server/db/migrate.ts';

export type TestDbKind = 'pglite' | 'postgres';

/** The databases every integration suite runs against: `describe.each(testDbKinds())`. */
export function testDbKinds(): TestDbKind[] {
	return process.env.DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];
}

export interface TestDatabase extends DatabaseHandle {
	/** Closes the connection and drops the throwaway database. */
	dispose(): Promise<void>;
	/** Connection string of the throwaway PostgreSQL database (for child processes). */
	url?: string;
}

export async function createTestDatabase(kind: TestDbKind, { migrate = true } = {}): Promise<TestDatabase> {
	if (kind === 'pglite') {
		const handle = await openDatabase({ pgliteDir: 'memory://' });
		if (migrate) await migrateToLatest(handle.db);
		return { ...handle, dispose: () => handle.close() };
	}
	const serverUrl = process.env.DATABASE_URL;
	if (!serverUrl) throw new Error('DATABASE_URL is not set');
	const name = `tsunagu_t_${randomBytes(6).toString('hex')}`;
	await adminQuery(serverUrl, `create database ${name}`);
	const url = withDatabase(serverUrl, name);
	const handle = await openDatabase({ url, poolSize: 5 });
	if (migrate) await migrateToLatest(handle.db);
	return {
		...handle,
		url,
		dispose: async () => {
			await handle.close();
			await adminQuery(serverUrl, `drop database if exists ${name} with (force)`);
		}
	};
}

function withDatabase(url: string, database: string): string {
	const u = new URL(url);
	u.pathname = `/${database}`;
	return u.toString();
}

async function adminQuery(serverUrl: string, text: string): Promise<void> {
	const client = new pg.Client({ connectionString: withDatabase(serverUrl, 'postgres') });
	await client.connect();
	try {
		await client.query(text);
	} finally {
		await client.end();
	}
}
