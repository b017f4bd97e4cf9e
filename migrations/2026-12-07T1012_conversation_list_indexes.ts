/**
 * Conversation lists and badges at a million customers (issue 12):
 * - each tab's list reads one index in its own order — unread first, newest first, the id as
 *   the tie-break — so a page is the next 100 entries after a keyset cursor, whatever the
 *   table's size: mine (assignee), a store's queue (nobody assigned), a store (managers), all
 *   (admins). They are ascending and read backwards, so that a row comparison on
 *   ((unread_count > 0), last_message_at, id) is an index condition.
 * - the badges sum only conversations with something unread: two partial indexes (by assignee,
 *   by store) carrying what the sum needs.
 * Replaces the three list indexes of 2026-12-04T1400_conversations (their order had no tie-break).
 * Frozen once shipped. Kysely<any> and raw SQL only.
 */
import type { Kysely } from 'kysely';
import { runStatements } from './2026-11-23T0900_schema_v1.ts';

export async function up(db: Kysely<any>): Promise<void> {
	await runStatements(
		db,
		`drop index if exists conversations_staff_idx;
		drop index if exists conversations_store_idx;
		drop index if exists conversations_queue_idx;
		create index conversations_mine_list_idx on conversations (assigned_staff_id, (unread_count > 0), last_message_at, id) where assigned_staff_id is not null;
		create index conversations_queue_list_idx on conversations (store_id, (unread_count > 0), last_message_at, id) where assigned_staff_id is null;
		create index conversations_store_list_idx on conversations (store_id, (unread_count > 0), last_message_at, id);
		create index conversations_all_list_idx on conversations ((unread_count > 0), last_message_at, id);
		create index conversations_unread_staff_idx on conversations (assigned_staff_id) include (store_id, unread_count) where unread_count > 0;
		create index conversations_unread_store_idx on conversations (store_id) include (assigned_staff_id, unread_count) where unread_count > 0`
	);
}

export async function down(db: Kysely<any>): Promise<void> {
	await runStatements(
		db,
		`drop index if exists conversations_mine_list_idx;
		drop index if exists conversations_queue_list_idx;
		drop index if exists conversations_store_list_idx;
		drop index if exists conversations_all_list_idx;
		drop index if exists conversations_unread_staff_idx;
		drop index if exists conversations_unread_store_idx;
		create index conversations_staff_idx on conversations (assigned_staff_id, (unread_count > 0) desc, last_message_at desc nulls last) where assigned_staff_id is not null;
		create index conversations_store_idx on conversations (store_id, (unread_count > 0) desc, last_message_at desc nulls last);
		create index conversations_queue_idx on conversations (store_id, (unread_count > 0) desc, last_message_at desc nulls last) where assigned_staff_id is null`
	);
}
