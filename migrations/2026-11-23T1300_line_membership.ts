/**
 * LINE membership: follow/unfollow events can arrive out of order (LINE redelivers), so the
 * customer keeps the timestamp of the status change applied last; older events are ignored.
 * Frozen once shipped. Kysely<any> and raw SQL only.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
	await sql.raw(`alter table customers add column line_status_changed_at timestamptz`).execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
	await sql.raw(`alter table customers drop column if exists line_status_changed_at`).execute(db);
}
