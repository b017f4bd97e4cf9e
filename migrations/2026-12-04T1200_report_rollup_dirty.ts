/**
 * Dirty markers for the daily report rollups (issue 17: a report could miss an order committed
 * while a refresh ran). The refresh used to look for rows changed since its last run by their
 * timestamps and click ids, but those are taken before commit: a transaction still open during
 * a refresh committed rows "older" than it, and the day stayed stale until the worker's
 * look-back pass. Now every write that can change a rollup row inserts a marker in the same
 * transaction (triggers), so the marker becomes visible exactly when the change does; a refresh
 * deletes the markers it sees and rebuilds what they name (see docs/report-freshness.md).
 *
 * A marker names a sales day, a funnel day, a follow-up or a link code; follow-ups and links
 * are turned into funnel days at refresh time, from the rows as they are then. Statement-level
 * triggers with transition tables keep bulk writes at one insert per statement. The triggers are
 * ALWAYS triggers: they fire under `session_replication_role = replica` too (bulk imports).
 * The rollups are rebuilt in full once (the state row is removed): they may hold stale days.
 */
import { sql, type Kysely } from 'kysely';
import { runStatements } from './2026-11-23T0900_schema_v1.ts';

const TABLE = `
	-- one of the four columns is set per row; duplicates allowed (no index: inserts stay cheap)
	create table report_rollup_dirty (
		sales_day date,
		funnel_day date,
		follow_up_id uuid,
		link_code text
	)
`;

const DAY = (col: string) => `(${col} at time zone 'Asia/Tokyo')::date`;

/** plpgsql bodies hold semicolons: each statement is run whole (runStatements splits on them). */
const FUNCTIONS = [
	// attributions: the sales day of the order, and the follow-up it credits (funnel orders)
	`create function report_rollup_dirty_attributions() returns trigger language plpgsql as $$
	begin
		if TG_OP <> 'INSERT' then
			insert into report_rollup_dirty (sales_day) select distinct ${DAY('ordered_at')} from old_rows;
			insert into report_rollup_dirty (follow_up_id) select distinct follow_up_id from old_rows where follow_up_id is not null;
		end if;
		if TG_OP <> 'DELETE' then
			insert into report_rollup_dirty (sales_day) select distinct ${DAY('ordered_at')} from new_rows;
			insert into report_rollup_dirty (follow_up_id) select distinct follow_up_id from new_rows where follow_up_id is not null;
		end if;
		return null;
	end $$`,
	// follow-ups: their own funnel day (old and new: a change may move one between days)
	`create function report_rollup_dirty_follow_ups() returns trigger language plpgsql as $$
	begin
		if TG_OP <> 'INSERT' then
			insert into report_rollup_dirty (funnel_day) select distinct ${DAY('created_at')} from old_rows;
		end if;
		if TG_OP <> 'DELETE' then
			insert into report_rollup_dirty (funnel_day) select distinct ${DAY('created_at')} from new_rows;
		end if;
		return null;
	end $$`,
	// tracked links: the follow-up whose clicks they carry
	`create function report_rollup_dirty_tracked_links() returns trigger language plpgsql as $$
	begin
		if TG_OP <> 'INSERT' then
			insert into report_rollup_dirty (follow_up_id) select distinct follow_up_id from old_rows where follow_up_id is not null;
		end if;
		if TG_OP <> 'DELETE' then
			insert into report_rollup_dirty (follow_up_id) select distinct follow_up_id from new_rows where follow_up_id is not null;
		end if;
		return null;
	end $$`,
	// clicks: the link (its follow-up, if any, is looked up by the refresh)
	`create function report_rollup_dirty_link_clicks() returns trigger language plpgsql as $$
	begin
		if TG_OP <> 'INSERT' then
			insert into report_rollup_dirty (link_code) select distinct code from old_rows;
		end if;
		if TG_OP <> 'DELETE' then
			insert into report_rollup_dirty (link_code) select distinct code from new_rows;
		end if;
		return null;
	end $$`
];

const TABLES = ['attributions', 'follow_ups', 'tracked_links', 'link_clicks'];

/** Transition tables allow one event per trigger: three per table. */
function triggers(table: string): string {
	const fn = `report_rollup_dirty_${table}()`;
	return `
		create trigger report_rollup_dirty_ins after insert on ${table}
			referencing new table as new_rows for each statement execute function ${fn};
		create trigger report_rollup_dirty_upd after update on ${table}
			referencing old table as old_rows new table as new_rows for each statement execute function ${fn};
		create trigger report_rollup_dirty_del after delete on ${table}
			referencing old table as old_rows for each statement execute function ${fn};
		alter table ${table} enable always trigger report_rollup_dirty_ins;
		alter table ${table} enable always trigger report_rollup_dirty_upd;
		alter table ${table} enable always trigger report_rollup_dirty_del`;
}

export async function up(db: Kysely<any>): Promise<void> {
	await runStatements(db, TABLE);
	for (const statement of FUNCTIONS) await sql.raw(statement).execute(db);
	await runStatements(db, TABLES.map(triggers).join(';'));
	// built with the old timestamp scan: rebuild every day once
	await runStatements(db, `delete from report_rollup_state where name = 'daily'`);
}

export async function down(db: Kysely<any>): Promise<void> {
	const drops = TABLES.flatMap((t) => ['ins', 'upd', 'del'].map((e) => `drop trigger if exists report_rollup_dirty_${e} on ${t}`));
	await runStatements(
		db,
		`${drops.join(';\n')};
		drop function if exists ${TABLES.map((t) => `report_rollup_dirty_${t}()`).join(', ')};
		drop table if exists report_rollup_dirty;
		delete from report_rollup_state where name = 'daily'`
	);
}
