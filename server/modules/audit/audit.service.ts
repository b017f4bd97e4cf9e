/**
 * The privacy trail: who opened which customer, from which tablet, when and how.
 * Ids only — never names or contact details in `details`.
 */
import type { DbOrTrx } from '../../db/index.ts';
import type { StaffPrincipal } from '../../http/context.ts';
import { existingCustomerIds, insertAuditEntries, insertClientAuditEntries } from './audit.repository.ts';

export type AuditAction = 'profile.view' | 'profile.prefetch' | 'consultations.view' | 'conversation.view';

export async function recordCustomerAccess(
	db: DbOrTrx,
	actor: StaffPrincipal,
	action: AuditAction,
	customerIds: string[],
	via: string | null
): Promise<void> {
	await insertAuditEntries(
		db,
		customerIds.map((customerId) => ({
			actorStaffId: actor.id,
			deviceId: actor.deviceId,
			action,
			customerId,
			via,
			details: { storeId: actor.storeId }
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
