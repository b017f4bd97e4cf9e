/**
 * The Kysely instance: PostgreSQL through `pg` when a URL is given, otherwise an embedded
 * PGlite (real Postgres compiled to WASM) in a local directory — or in memory for tests.
 */
import { mkdirSync } from 'node:fs';
import { Kysely, PostgresDialect, PGliteDialect, type Transaction } from 'kysely';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import type { Database } from './types.ts';

export type Db = Kysely<Database>;
export type Trx = Transaction<Database>;
/** Repositories take either; functions that must run inside a transaction take `Trx`. */
export type DbOrTrx = Db | Trx;

export interface DatabaseHandle {
	db: Db;
	kind: 'postgres' | 'pglite';
	/** The pg pool, for COPY and LISTEN; absent on PGlite. */
	pool?: pg.Pool;
	/** The PGlite instance, absent on PostgreSQL. */
	pglite?: PGlite;
	close(): Promise<void>;
}

// Shared type parsing so both drivers return the same shapes:
// int8 → number (our ids and counts stay far below 2^53; vendor ids are text columns),
// date → 'YYYY-MM-DD' string (no local time-zone shift).
const INT8 = 20;
const DATE = 1082;
pg.types.setTypeParser(INT8, (v: string) => Number(v));
pg.types.setTypeParser(DATE, (v: string) => v);

export interface OpenOptions {
	url?: string;
	/** PGlite data directory; `memory://` for an in-memory database. */
	pgliteDir?: string;
	poolSize?: number;
}

export async function openDatabase(options: OpenOptions): Promise<DatabaseHandle> {
	if (options.url) return openPostgres(options.url, options.poolSize ?? 10);
	return openPglite(options.pgliteDir ?? 'memory://');
}

function openPostgres(url: string, poolSize: number): DatabaseHandle {
	const pool = new pg.Pool({ connectionString: url, max: poolSize });
	// An idle client losing its connection must not crash the process.
	pool.on('error', () => {});
	const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
	return { db, kind: 'postgres', pool, close: () => db.destroy() };
}

async function openPglite(dir: string): Promise<DatabaseHandle> {
	if (!dir.startsWith('memory://')) mkdirSync(dir, { recursive: true });
	const pglite = await PGlite.create(dir, {
		parsers: { [INT8]: (v: string) => Number(v), [DATE]: (v: string) => v }
	});
	const db = new Kysely<Database>({ dialect: new PGliteDialect({ pglite }) });
	return {
		db,
		kind: 'pglite',
		pglite,
		close: async () => {
			await db.destroy();
			if (!pglite.closed) await pglite.close();
		}
	};
}
