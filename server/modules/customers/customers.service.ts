import { uuidV7 } from '../../shared/ids.ts';
import type { DbOrTrx, Trx } from '../../db/index.ts';
import type { IdentityKind, NewCustomer } from '../../db/types.ts';
import {
	attachIdentities,
	attachIdentitiesBatch,
	findCustomerIdsByIdentities,
	findCustomerIdsByMemberNos,
	findIdentityOwners,
	insertCustomer,
	insertCustomers,
	lockIdentities,
	lockIdentity,
	lockResolveReferences,
	nextMemberNo,
	lockOwnership,
	lockOwnedBy,
	updateOwner,
	countOwnedBy,
	applyLineStatus as applyLineStatusRow
} from './customers.repository.ts';
import { IDENTITY_PRIORITY, listIdentities, normalizeIdentities, type IdentityInput } from './identity.ts';

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

export interface BatchResolveItem {
	identities: IdentityInput;
	/**
	 * A member number printed on the member card. When it names an existing customer that
	 * customer wins; otherwise it becomes the new customer's number (like `profile.member_no`).
	 */
	memberNo?: string | null;
	/** Profile fields used only when a new customer has to be created. */
	profile?: CustomerProfile;
}

export interface ResolveBatchOptions {
	/**
	 * Write customers and identities without per-row foreign-key triggers (session replication
	 * role `replica`, for the rest of the transaction): the batch checks and locks the stores
	 * and the existing customers it points at in one statement instead. Only for a session that
	 * may (see canSkipPurchaseFkTriggers) — the POS import's bulk path.
	 */
	skipFkTriggers?: boolean;
	/** The items' ids are normalised already (normalizeEmail, normalizePhone, trimmed): not done again. */
	normalized?: boolean;
	/**
	 * Insert the new identities without ON CONFLICT. Cheaper, but when another session attaches
	 * one of them between this batch's look-up and its insert, the batch fails with a unique
	 * violation (isIdentityTaken) and the caller redoes it without this option.
	 */
	plainIdentityInsert?: boolean;
}

/** The error a batch with plainIdentityInsert fails with when another session took one of its ids. */
export function isIdentityTaken(err: unknown): boolean {
	const e = err as { code?: string; constraint?: string };
	return e?.code === '23505' && e.constraint === 'customer_identities_kind_value_key';
}

const identityKey = (kind: IdentityKind, value: string) => `${kind}\u0000${value}`;

/**
 * `resolveCustomer` for a whole batch with a handful of set-based queries: one lock statement,
 * one lookup of every identity (and member number), one insert of the new customers and one of
 * the new identities. The items are decided in order in memory, exactly as calling
 * `resolveCustomer` on each in turn would: an item sees the customers and identities that
 * earlier items of the batch created or attached. Results are in input order.
 */
export async function resolveCustomersBatch(
	trx: Trx,
	items: BatchResolveItem[],
	options: ResolveBatchOptions = {}
): Promise<Array<ResolvedCustomer | null>> {
	// both list them in IDENTITY_PRIORITY order: the strongest first
	const normalized = items.map((item) => (options.normalized ? listIdentities(item.identities) : normalizeIdentities(item.identities)));
	// Same lock key as resolveCustomer (the strongest id), so webhooks and imports serialise.
	await lockIdentities(trx, normalized.filter((ids) => ids.length > 0).map((ids) => ids[0]));

	const distinct = new Map<string, { kind: IdentityKind; value: string }>();
	for (const ids of normalized) for (const i of ids) distinct.set(identityKey(i.kind, i.value), i);
	const memberNos = [...new Set(items.map((i) => i.memberNo).filter((m): m is string => Boolean(m)))];
	const [owners, members] = await Promise.all([
		findIdentityOwners(trx, [...distinct.values()]),
		findCustomerIdsByMemberNos(trx, memberNos)
	]);
	const ownerOf = new Map(owners.map((o) => [identityKey(o.kind, o.value), o.customer_id]));
	const memberOf = new Map(members.map((m) => [m.member_no, m.customer_id]));

	const created: Array<{ id: string; memberNo: string | null; profile: CustomerProfile }> = [];
	const attach: Array<{ customer_id: string; kind: IdentityKind; value: string }> = [];
	const results = items.map((item, index): ResolvedCustomer | null => {
		const ids = normalized[index];
		const memberNo = item.memberNo || null;
		const matched = ids.filter((i) => ownerOf.has(identityKey(i.kind, i.value)));
		const byMember = memberNo ? memberOf.get(memberNo) : undefined;
		const best = byMember ?? (matched.length > 0 ? ownerOf.get(identityKey(matched[0].kind, matched[0].value)) : undefined);
		if (best) {
			// Attach only ids nobody owns: a shared family email must not pull records together.
			for (const i of ids) {
				const key = identityKey(i.kind, i.value);
				if (ownerOf.has(key)) continue;
				ownerOf.set(key, best);
				attach.push({ customer_id: best, kind: i.kind, value: i.value });
			}
			return { customerId: best, created: false };
		}
		if (ids.length === 0 && !memberNo) return null;
		const id = uuidV7();
		const number = memberNo ?? item.profile?.member_no ?? null;
		created.push({ id, memberNo: number, profile: item.profile ?? {} });
		if (number) memberOf.set(number, id);
		for (const i of ids) {
			ownerOf.set(identityKey(i.kind, i.value), id);
			attach.push({ customer_id: id, kind: i.kind, value: i.value });
		}
		return { customerId: id, created: true };
	});

	if (options.skipFkTriggers) await lockBatchReferences(trx, created, attach);
	// customers without a number get the next ones, in the order they were created
	await insertCustomers(
		trx,
		created.map((c) => ({ ...c.profile, id: c.id, member_no: c.memberNo }))
	);
	await attachIdentitiesBatch(trx, attach, { plain: options.plainIdentityInsert });
	return results;
}

/**
 * What the foreign keys would check for the rows a batch inserts, once: the home stores of
 * new customers and the existing customers that receive identities exist, locked FOR KEY
 * SHARE; then replica mode turns the per-row checks off for the inserts.
 */
async function lockBatchReferences(
	trx: Trx,
	created: Array<{ id: string; profile: CustomerProfile }>,
	attach: Array<{ customer_id: string }>
): Promise<void> {
	const createdIds = new Set(created.map((c) => c.id));
	const stores = new Set<string>();
	for (const c of created) if (c.profile.home_store_id) stores.add(c.profile.home_store_id);
	const owners = new Set<string>();
	for (const a of attach) if (!createdIds.has(a.customer_id)) owners.add(a.customer_id);
	const missing = await lockResolveReferences(trx, { stores: [...stores], customers: [...owners] });
	if (missing.stores + missing.customers > 0) {
		throw new Error(`rows a customer batch refers to were deleted meanwhile: ${JSON.stringify(missing)}`);
	}
}

// ── ownership (担当) ────────────────────────────────────────────────────────────────────────
// customers.owner_staff_id is written here only; the client book module (server/modules/
// clientbook) holds the rules (who may assign whom) and the append-only audit of every change.

export type { MatchableRow, OwnershipRow } from './customers.repository.ts';

/** Current owner and home store of some customers, locked for the caller's transaction. */
export function lockCustomerOwnership(trx: Trx, customerIds: string[]) {
	return lockOwnership(trx, customerIds);
}

/** A staff member's whole book, locked for the caller's transaction. */
export function lockCustomersOwnedBy(trx: Trx, staffId: string) {
	return lockOwnedBy(trx, staffId);
}

/** Moves customers to one owner (or the store book when null); the caller audits the change. */
export function setCustomersOwner(trx: Trx, customerIds: string[], ownerStaffId: string | null) {
	return updateOwner(trx, customerIds, ownerStaffId);
}

export function countCustomersOwnedBy(db: DbOrTrx, staffId: string) {
	return countOwnedBy(db, staffId);
}
export {
	identifiersOf,
	anonymiseCustomer,
	setMessageConsentFlag,
	updateMemberProfile,
	type MemberProfileFields
} from './customers.repository.ts';

/** Merge support (server/modules/identity): the customers module's own writes and reads. */
export {
	findMatchableCustomers,
	lockCustomersForMerge,
	MERGE_LINE_FIELDS,
	MERGE_PROFILE_FIELDS,
	reassignIdentities,
	repointMergedInto,
	updateMergeFields,
	type MergeRecord
} from './customers.repository.ts';

/** The CSV import's customer master: cell-by-cell profile updates, member numbers ahead of the sequence. */
export { updateCustomerProfiles, advanceMemberNoSequence, type CustomerProfileUpdate } from './customers.repository.ts';

/** The member card links a LINE account (members module). */
export { linkLineAndConsent } from './customers.repository.ts';

/** LINE follow/unfollow: the customer's reachability, newest event wins (reordered webhooks cannot undo a later one). */
export function applyLineStatus(trx: Trx, customerId: string, friend: boolean, at: Date): Promise<boolean> {
	return applyLineStatusRow(trx, customerId, friend, at);
}
