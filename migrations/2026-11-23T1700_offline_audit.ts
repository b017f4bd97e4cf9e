/**
 * Offline profile views: the tablet replays views it showed from its cache with a
 * client-generated id; a unique index on that id makes the replay idempotent.
 * Frozen once shipped. Kysely<any> and raw SQL only.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
	await sql
		.raw(
			`create unique index audit_log_client_view_idx on audit_log ((details->>'clientViewId'))
			where (details->>'clientViewId') is not null`
		)
		.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
	await sql.raw(`drop index if exists audit_log_client_view_idx`).execute(db);
}
