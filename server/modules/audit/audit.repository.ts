/** audit_log writes: Kysely only. */
import { sql } from 'kysely';
import type { DbOrTrx } from '../../db/index.ts';

export interface AuditEntry {
	actorStaffId: string | null;
	deviceId: string | null;
	action: string;
	customerId: string | null;
	via?: string | null;
	details?: Record<string, unknown>;
}

/** An entry as an audit_log row (`at` defaults to now() in the table). */
function auditRow(e: AuditEntry, details: Record<string, unknown> = e.details ?? {}) {
	return {
		actor_staff_id: e.actorStaffId,
		device_id: e.deviceId,
		action: e.action,
		customer_id: e.customerId,
		via: e.via ?? null,
		details: JSON.stringify(details)
	};
}

export async function insertAuditEntries(db: DbOrTrx, entries: AuditEntry[]): Promise<void> {
	if (entries.length === 0) return;
	await db.insertInto('audit_log').values(entries.map((e) => auditRow(e))).execute();
}

export interface ClientAuditEntry extends AuditEntry {
	at: Date;
	/** the tablet's id for the event; the unique index audit_log_client_view_idx makes replays no-ops */
	clientViewId: string;
}

/** Inserts entries recorded on a tablet; returns how many were new (replays insert nothing). */
export async function insertClientAuditEntries(db: DbOrTrx, entries: ClientAuditEntry[]): Promise<number> {
	if (entries.length === 0) return 0;
	const inserted = await db
		.insertInto('audit_log')
		.values(
			entries.map((e) => ({ ...auditRow(e, { ...e.details, clientViewId: e.clientViewId }), at: e.at }))
		)
		.onConflict((oc) =>
			oc
				.expression(sql`(details->>'clientViewId')`)
				.where(sql<string>`(details->>'clientViewId')`, 'is not', null)
				.doNothing()
		)
		.returning('id')
		.execute();
	return inserted.length;
}

/** Which of these customer ids exist (merged records included: they still exist). */
export async function existingCustomerIds(db: DbOrTrx, ids: string[]): Promise<Set<string>> {
	if (ids.length === 0) return new Set();
	const rows = await db.selectFrom('customers').select('id').where('id', 'in', ids).execute();
	return new Set(rows.map((r) => r.id));
}

/** Security entries (action `security.*`), newest first; keyset-paged by id. */
export async function listSecurityEntries(db: DbOrTrx, query: { action?: string; beforeId?: number; limit: number }) {
	let q = db
		.selectFrom('audit_log')
		.select(['id', 'at', 'action', 'actor_staff_id', 'device_id', 'details'])
		.where('action', 'like', 'security.%')
		.orderBy('at', 'desc')
		.orderBy('id', 'desc')
		.limit(query.limit);
	if (query.action) q = q.where('action', '=', query.action);
	if (query.beforeId !== undefined) q = q.where('id', '<', query.beforeId);
	return q.execute();
}

/** Who opened one customer's data (profile, consultations, follow-ups, conversations), newest first. */
export async function customerAccessEntries(db: DbOrTrx, customerId: string, limit: number) {
	return db
		.selectFrom('audit_log as a')
		.leftJoin('staff as s', 's.id', 'a.actor_staff_id')
		.select(['a.id', 'a.at', 'a.action', 'a.via', 'a.actor_staff_id', 's.display_name as staff_name', 'a.device_id'])
		.where('a.customer_id', '=', customerId)
		.orderBy('a.id', 'desc')
		.limit(limit)
		.execute();
}
