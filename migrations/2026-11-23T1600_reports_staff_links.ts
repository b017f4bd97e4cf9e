/** "My month" on the tablet: clicks in a period on one staff member's links (measured: 270 ms of seq scans without). */
import type { Kysely } from 'kysely';
import { runStatements } from './2026-11-23T0900_schema_v1.ts';

export async function up(db: Kysely<any>): Promise<void> {
	await runStatements(
		db,
		`create index link_clicks_clicked_at_idx on link_clicks (clicked_at);
		create index tracked_links_staff_idx on tracked_links (staff_id)`
	);
}

export async function down(db: Kysely<any>): Promise<void> {
	await runStatements(db, `drop index if exists link_clicks_clicked_at_idx;
		drop index if exists tracked_links_staff_idx`);
}
