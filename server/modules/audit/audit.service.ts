/**
 * The privacy trail: who opened which customer, from which tablet, when and how.
 * Ids only — never names or contact details in `details`.
 */
import type { DbOrTrx } from '../../db/index.ts';
import type { StaffPrincipal } from '../../http/context.ts';
import { customerAccessEntries, existingCustomerIds, insertAuditEntries, insertClientAuditEntries, listSecurityEntries } from './audit.repository.ts';

export type AuditAction = 'profile.view' | 'profile.prefetch' | 'consultations.view' | 'followup.view' | 'conversation.view';

/** Security events: lockouts, PIN changes and resets, enrollment codes. Never PINs or tokens. */
export type SecurityAction =
	| 'security.enroll_locked'
	| 'security.pin_locked'
	| 'security.pin_changed'
	| 'security.pin_reset'
	| 'security.enrollment_code_issued';

export async function recordSecurityEvent(
	db: DbOrTrx,
	event: { action: SecurityAction; actorStaffId?: string | null; deviceId?: string | null; details: Record<string, unknown> }
): Promise<void> {
	await insertAuditEntries(db, [
		{ actorStaffId: event.actorStaffId ?? null, deviceId: event.deviceId ?? null, action: event.action, customerId: null, details: event.details }
	]);
}

export interface SecurityEventOut {
	id: number;
	at: string;
	action: string;
	actorStaffId: string | null;
	deviceId: string | null;
	details: Record<string, unknown>;
}

/** The security trail, newest first, for admins (the route checks the role). */
export async function listSecurityEvents(
	db: DbOrTrx,
	query: { action?: string; beforeId?: number; limit: number }
): Promise<{ events: SecurityEventOut[] }> {
	const rows = await listSecurityEntries(db, query);
	return {
		events: rows.map((r) => ({
			id: Number(r.id),
			at: new Date(r.at).toISOString(),
			action: r.action,
			actorStaffId: r.actor_staff_id,
			deviceId: r.device_id,
			details: (typeof r.details === 'string' ? JSON.parse(r.details) : r.details) as Record<string, unknown>
		}))
	};
}

/**
 * A manager sent a message over a customer's contact limit (contact.service): who, from which
 * tablet, to whom, why, and which limit was passed. Written in the send's transaction.
 */
/**
 * A brand setting changed: which key, from what to what (settings hold no personal data), by
 * whom. Written by the settings module on every change.
 */
export async function recordSettingChange(db: DbOrTrx, event: { actorStaffId: string | null; key: string; from: unknown; to: unknown }): Promise<void> {
	await insertAuditEntries(db, [
		{ actorStaffId: event.actorStaffId, deviceId: null, action: 'settings.changed', customerId: null, details: { key: event.key, from: event.from ?? null, to: event.to } }
	]);
}

export async function recordContactOverride(
	db: DbOrTrx,
	actor: StaffPrincipal,
	event: { customerId: string; followUpId: string; reason: string; window: string; used: number; max: number }
): Promise<void> {
	await insertAuditEntries(db, [
		{
			actorStaffId: actor.id,
			deviceId: actor.deviceId,
			action: 'contact.override',
			customerId: event.customerId,
			details: { storeId: actor.storeId, followUpId: event.followUpId, reason: event.reason, window: event.window, used: event.used, max: event.max }
		}
	]);
}

export async function recordCustomerAccess(
	db: DbOrTrx,
	actor: StaffPrincipal,
	action: AuditAction,
	customerIds: string[],
	via: string | null,
	extra: Record<string, unknown> = {}
): Promise<void> {
	await insertAuditEntries(
		db,
		customerIds.map((customerId) => ({
			actorStaffId: actor.id,
			deviceId: actor.deviceId,
			action,
			customerId,
			via,
			details: { storeId: actor.storeId, ...extra }
		}))
	);
}

export interface OfflineProfileView {
	/** client-generated UUID, the idempotency key */
	id: string;
	customerId: string;
	via: 'scan' | 'search' | 'member_no' | 'recent';
	viewedAt: string;
}

/**
 * Profile views the tablet showed from its cache while offline, replayed later. The entry
 * carries the original time; a replay of an already recorded view adds nothing, and an
 * unknown customer (deleted since the tablet cached it) is skipped rather than failing
 * the whole batch, which the tablet would otherwise retry for ever.
 */
export async function recordOfflineProfileViews(
	db: DbOrTrx,
	actor: StaffPrincipal,
	views: OfflineProfileView[]
): Promise<{ recorded: number; skipped: number }> {
	const known = await existingCustomerIds(db, [...new Set(views.map((v) => v.customerId))]);
	const accepted = views.filter((v) => known.has(v.customerId));
	const recorded = await insertClientAuditEntries(
		db,
		accepted.map((v) => ({
			actorStaffId: actor.id,
			deviceId: actor.deviceId,
			action: 'profile.view' satisfies AuditAction,
			customerId: v.customerId,
			via: v.via,
			at: new Date(v.viewedAt),
			clientViewId: v.id,
			details: { storeId: actor.storeId, offline: true }
		}))
	);
	return { recorded, skipped: views.length - accepted.length };
}

/** Who viewed a customer (managers and admins; issue 16). */
export async function customerAccessLog(db: DbOrTrx, customerId: string, limit = 100) {
	const rows = await customerAccessEntries(db, customerId, limit);
	return rows.map((r) => ({
		id: Number(r.id),
		at: new Date(r.at).toISOString(),
		action: r.action,
		via: r.via,
		staffId: r.actor_staff_id,
		staffName: r.staff_name,
		deviceId: r.device_id
	}));
}

/** Merges and their undos, one entry per record involved (ids only; the ledger holds the rest). */
export async function recordMergeEvent(
	db: DbOrTrx,
	action: 'customer.merge' | 'customer.merge_undo',
	actorStaffId: string | null,
	customerIds: string[],
	details: { mergeId: string; automatic?: boolean }
): Promise<void> {
	await insertAuditEntries(
		db,
		customerIds.map((customerId) => ({ actorStaffId, deviceId: null, action, customerId, via: details.automatic ? 'auto' : 'manual', details }))
	);
}
