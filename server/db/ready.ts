/**
 * Bounded checks that the database answers: the health probe (a load balancer must get its
 * 503 in time, whatever the pool is doing) and the wait at startup (exit with a clear message
 * instead of hanging when the database is unreachable or stalled).
 */
import { sql } from 'kysely';
import type { Logger } from '../logger.ts';
import type { Db } from './index.ts';
import { DatabaseUnavailableError } from './unavailable.ts';

/** Resolves when `select 1` answers within `ms`; rejects with DatabaseUnavailableError otherwise. */
export async function pingDatabase(db: Db, ms: number): Promise<void> {
	let timer: NodeJS.Timeout | undefined;
	const timeout = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(new DatabaseUnavailableError(`no answer within ${ms} ms`)), ms);
	});
	try {
		await Promise.race([sql`select 1`.execute(db), timeout]);
	} finally {
		clearTimeout(timer);
	}
}

/**
 * Pings until the database answers or `totalMs` has passed, then throws a message naming the
 * server (never its password) and the last failure.
 */
export async function waitForDatabase(db: Db, target: string, totalMs: number, logger: Logger): Promise<void> {
	const started = Date.now();
	let attempt = 0;
	for (;;) {
		attempt++;
		const remaining = totalMs - (Date.now() - started);
		try {
			await pingDatabase(db, Math.max(500, Math.min(5000, remaining)));
			if (attempt > 1) logger.info({ attempt }, 'database answers');
			return;
		} catch (err) {
			const reason = err instanceof Error ? err.message : String(err);
			if (Date.now() - started + 1000 >= totalMs) {
				throw new DatabaseUnavailableError(
					`PostgreSQL at ${target} did not answer within ${Math.round(totalMs / 1000)} s (${attempt} attempts; last: ${reason})`
				);
			}
			logger.warn({ attempt, reason }, 'database not answering yet; retrying');
			await new Promise((r) => setTimeout(r, 1000));
		}
	}
}

/** host:port/database of a connection string, without credentials (for messages and logs). */
export function describeDatabaseUrl(url: string): string {
	try {
		const u = new URL(url);
		return `${u.hostname}:${u.port || 5432}${u.pathname}`;
	} catch {
		return '(unparsable DATABASE_URL)';
	}
}
