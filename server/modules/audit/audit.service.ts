/**
 * The privacy trail: who opened which customer, from which tablet, when and how.
 * Ids only — never names or contact details in `details`.
 */
import type { DbOrTrx } from '../../db/index.ts';
import type { StaffPrincipal } from '../../http/context.ts';
import { insertAuditEntries } from './audit.repository.ts';

export type AuditAction = 'profile.view' | 'profile.prefetch' | 'consultations.view';

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
