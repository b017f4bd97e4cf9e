/**
 * Follow-ups and attribution: a channel-wide per-second budget for LINE pushes (shared by
 * every worker process, so together they stay under LINE's 2,000 requests/s) and the lookups
 * the outbox and attribution make. Frozen once shipped. Kysely<any> and raw SQL only.
 */
import { sql, type Kysely } from 'kysely';

const UP = [
	`create table followup_push_budget (
		second bigint primary key,
		used integer not null,
		last_grant integer not null
	)`,
	`create index tracked_links_follow_up_idx on tracked_links (follow_up_id)`,
	`create index follow_ups_status_idx on follow_ups (status) where status in ('queued', 'sending')`
];

export async function up(db: Kysely<any>): Promise<void> {
	for (const statement of UP) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
	await sql.raw(`drop index if exists follow_ups_status_idx`).execute(db);
	await sql.raw(`drop index if exists tracked_links_follow_up_idx`).execute(db);
	await sql.raw(`drop table if exists followup_push_budget`).execute(db);
}
