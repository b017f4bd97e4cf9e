/** Settings and statistics for the bulk writes of an import (any table: no table is written here). */
import { sql } from 'kysely';
import type { Db, DbOrTrx, Trx } from './index.ts';
import { textArray } from './pg-array.ts';

/**
 * Fresh planner statistics for tables a big import is growing: without them the planner still
 * believes the tables are as small as when the import began and picks whole-table scans.
 */
export async function analyzeTables(db: DbOrTrx, tables: string[]): Promise<void> {
	for (const table of tables) await sql`analyze ${sql.table(table)}`.execute(db);
}

/**
 * ANALYZE a table that a load grew by more than a tenth plus 1,000 rows (autovacuum's own rule,
 * which it applies only a minute or more later): the queries right after the load — the hooks
 * on the new rows — plan with the rows that are there. The tables in parallel, one connection each.
 */
export async function analyzeIfGrown(db: DbOrTrx, grown: Array<{ table: string; added: number }>): Promise<string[]> {
	const candidates = grown.filter((g) => g.added > 1000);
	if (candidates.length === 0) return [];
	const { rows } = await sql<{ relname: string; reltuples: number }>`
		select relname, reltuples::float8 as reltuples from pg_class
		where relname = any(${candidates.map((c) => c.table)}::text[]) and relkind = 'r' and relnamespace = 'public'::regnamespace`.execute(db);
	const before = new Map(rows.map((r) => [r.relname, Math.max(0, r.reltuples)]));
	const stale = candidates.filter((c) => c.added > 1000 + 0.1 * (before.get(c.table) ?? 0)).map((c) => c.table);
	await Promise.all(stale.map((table) => sql`analyze ${sql.table(table)}`.execute(db)));
	return stale;
}

/**
 * Whether this session may write `tables` with their foreign-key triggers off
 * (`session_replication_role = replica`): only when it is allowed (superuser, or granted SET on
 * the parameter) and every trigger of their own fires in replica mode as well (ENABLE ALWAYS, or
 * disabled anyway): replica mode must skip the FK checks and nothing else. The caller then
 * checks and locks what the rows refer to itself, set-based.
 */
export async function canSkipFkTriggers(db: Db, tables: string[]): Promise<boolean> {
	const { rows } = await sql<{ n: number }>`
		select count(*)::int as n from pg_trigger
		where tgrelid = any(${textArray(tables)}::regclass[]) and not tgisinternal and tgenabled not in ('A', 'D')`.execute(db);
	if (rows[0].n > 0) return false;
	try {
		await db.transaction().execute((trx) => sql`set local session_replication_role = replica`.execute(trx));
		return true;
	} catch {
		return false;
	}
}

/**
 * Memory for the sorts and hashes, no wait for the WAL flush at commit, no JIT (this
 * transaction only); with `skipFkTriggers`, no per-row foreign-key checks: the caller
 * verifies and locks the referenced rows set-based instead (lockStagedReferences).
 */
export async function tuneBulkTransaction(trx: Trx, options: { skipFkTriggers?: boolean } = {}): Promise<void> {
	// one round trip (set_config(…, true) is SET LOCAL); row estimates of CTE chains run high:
	// JIT would compile for ~0.2 s per statement for nothing
	await sql`
		select set_config('work_mem', '256MB', true), set_config('maintenance_work_mem', '256MB', true),
			set_config('synchronous_commit', 'off', true), set_config('jit', 'off', true)
			${options.skipFkTriggers ? sql`, set_config('session_replication_role', 'replica', true)` : sql``}`.execute(trx);
}
