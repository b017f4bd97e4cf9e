/** audit_log writes: Kysely only. */
import type { DbOrTrx } from '../../db/index.ts';

export interface AuditEntry {
	actorStaffId: string | null;
	deviceId: string | null;
	action: string;
	customerId: string | null;
	via?: string | null;
	details?: Record<string, unknown>;
}

export async function insertAuditEntries(db: DbOrTrx, entries: AuditEntry[]): Promise<void> {
	if (entries.length === 0) return;
	await db
		.insertInto('audit_log')
		.values(
			entries.map((e) => ({
				actor_staff_id: e.actorStaffId,
				device_id: e.deviceId,
				action: e.action,
				customer_id: e.customerId,
				via: e.via ?? null,
				details: JSON.stringify(e.details ?? {})
			}))
		)
		.execute();
}
