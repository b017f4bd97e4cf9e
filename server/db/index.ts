/**
 * The Kysely instance: PostgreSQL through `pg` when a URL is given, otherwise an embedded
 * PGlite (real Postgres compiled to WASM) in a local directory — or in memory for tests.
 */
import { mkdirSync } from 'node:fs';
import { Kysely, PostgresDialect, PGliteDialect, type Transaction } from 'kysely';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import type { Database } from './types.ts';
import { isConnectionFailure } from './unavailable.ts';

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
	/** PostgreSQL only; 0 or absent = none (CLIs and bulk imports run without them). */
	timeouts?: PoolTimeouts;
}

export interface PoolTimeouts {
	/** Opening a connection, and waiting for a free one from the pool. */
	connectMs: number;
	/** Server-side `statement_timeout`: a query running longer is cancelled by PostgreSQL. */
	statementMs: number;
	/**
	 * Client-side read timeout: a query whose answer has not arrived by then fails, and its
	 * connection is destroyed. This is what ends a stall (TCP up, server silent), where a
	 * server-side timeout can never arrive.
	 */
	queryMs: number;
}

export async function openDatabase(options: OpenOptions): Promise<DatabaseHandle> {
	if (options.url) return openPostgres(options.url, options.poolSize ?? 10, options.timeouts);
	return openPglite(options.pgliteDir ?? 'memory://');
}

function openPostgres(url: string, poolSize: number, timeouts?: PoolTimeouts): DatabaseHandle {
	const pool = new pg.Pool({
		connectionString: url,
		max: poolSize,
		...(timeouts?.connectMs ? { connectionTimeoutMillis: timeouts.connectMs } : {}),
		...(timeouts?.statementMs ? { statement_timeout: timeouts.statementMs } : {}),
		...(timeouts?.queryMs ? { query_timeout: timeouts.queryMs } : {}),
		// a dead peer behind a NAT or proxy is noticed by the kernel, not only by a timeout
		keepAlive: true
	});
	// An idle client losing its connection must not crash the process.
	pool.on('error', () => {});
	const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: discardingFailedConnections(pool) }) });
	return { db, kind: 'postgres', pool, close: () => db.destroy() };
}

/**
 * The pool as Kysely sees it, except that a connection on which a query failed at the
 * connection level (read timeout, reset, terminated) is destroyed on release instead of going
 * back to the pool. node-postgres keeps a timed-out query active on its client, so a reused
 * client would hang every later query: after a stall the process would stay stuck until the
 * sockets died, instead of recovering as soon as the database answers again.
 */
function discardingFailedConnections(pool: pg.Pool) {
	return {
		async connect() {
			const client = await pool.connect();
			let failed = false;
			const query = (...args: unknown[]): unknown => {
				const result = (client.query as (...a: unknown[]) => unknown)(...args);
				if (result instanceof Promise) {
					return result.catch((err: unknown) => {
						if (isConnectionFailure(err)) failed = true;
						throw err;
					});
				}
				return result; // a cursor (stream): Kysely reads it itself
			};
			return {
				query,
				release: () => client.release(failed || undefined),
				get processID() {
					return (client as unknown as { processID?: number }).processID;
				}
			} as unknown as pg.PoolClient;
		},
		end: () => pool.end(),
		options: pool.options,
		Client: pg.Client
	};
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
