import type { Trx } from '../../db/index.ts';
import type { NewCustomer } from '../../db/types.ts';
import {
	attachIdentities,
	findCustomerIdsByIdentities,
	insertCustomer,
	lockIdentity,
	nextMemberNo
} from './customers.repository.ts';
import { IDENTITY_PRIORITY, normalizeIdentities, type IdentityInput } from './identity.ts';

export interface ResolvedCustomer {
	customerId: string;
	created: boolean;
}

/** Profile fields used only when a new customer has to be created. */
export type CustomerProfile = Omit<NewCustomer, 'id' | 'member_no'> & { member_no?: string };

/**
 * Finds the one customer behind a set of identities (EC customer id, email, phone, POS code,
 * LINE user id), attaching any new ids to them; creates the customer when nothing matches.
 * Returns null when no usable identity was given (a guest order stays unlinked).
 */
export async function resolveCustomer(
	trx: Trx,
	input: IdentityInput,
	profile: CustomerProfile = {}
): Promise<ResolvedCustomer | null> {
	const identities = normalizeIdentities(input);
	if (identities.length === 0) return null;
	const strongest = identities.sort((a, b) => IDENTITY_PRIORITY.indexOf(a.kind) - IDENTITY_PRIORITY.indexOf(b.kind))[0];
	await lockIdentity(trx, strongest.kind, strongest.value);

	const matches = await findCustomerIdsByIdentities(trx, identities);
	const best = matches.sort((a, b) => IDENTITY_PRIORITY.indexOf(a.kind) - IDENTITY_PRIORITY.indexOf(b.kind))[0];
	if (best) {
		// Attach only ids nobody else owns: a shared family email must not pull records together.
		const owned = new Set(matches.map((m) => m.kind));
		await attachIdentities(trx, best.customer_id, identities.filter((i) => !owned.has(i.kind)));
		return { customerId: best.customer_id, created: false };
	}
	const memberNo = profile.member_no ?? (await nextMemberNo(trx));
	const customerId = await insertCustomer(trx, { ...profile, member_no: memberNo });
	await attachIdentities(trx, customerId, identities);
	return { customerId, created: true };
}
