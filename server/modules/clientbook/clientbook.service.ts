/**
 * The client book (担当顧客): who owns whom, the rules of claiming and assigning, handing a
 * leaving member's book over, and the first-contact rule. `customers.owner_staff_id` is written
 * through the customers service only; every change is appended to `customer_owner_changes` in
 * the same transaction (who, when, from, to, why).
 *
 * Roles (server/modules/staff): staff claim unowned customers of their own store; managers
 * assign, reassign and hand over within their home store; admins anywhere. A target must be an
 * active staff member (409 staff_inactive), of the manager's store (403 other_store).
 */
import { randomUUID } from 'node:crypto';
import type { Db, DbOrTrx, Trx } from '../../db/index.ts';
import { canSkipFkTriggers, tuneBulkTransaction } from '../../db/bulk.ts';
import type { OwnerChangeReason } from '../../db/types.ts';
import { AppError, badRequest, conflict, forbidden, notFound } from '../../errors.ts';
import type { StaffPrincipal } from '../../http/context.ts';
import { lockCustomerOwnership, lockCustomersOwnedBy, setCustomersOwner, countCustomersOwnedBy, type OwnershipRow } from '../customers/customers.service.ts';
import { readSetting } from '../settings/settings.service.ts';
import { deactivateStaffRow, homeStoreOf, lockStaffForAssignment, staffOfStores } from '../staff/staff.service.ts';
import { FIRST_CONTACT_OWNER } from './clientbook.settings.ts';
import * as repo from './clientbook.repository.ts';
import { splitCustomers, type Share } from './split.ts';

export const MAX_CUSTOMERS_PER_CALL = 5_000;

interface Move {
	customers: OwnershipRow[];
	to: string | null;
}

/** Applies moves (skipping customers already with that owner) and audits each change. */
async function applyMoves(
	trx: Trx,
	moves: Move[],
	meta: { actorStaffId: string | null; reason: OwnerChangeReason; note: string | null; batchId?: string | null }
): Promise<number> {
	let changed = 0;
	const batchId = meta.batchId ?? null;
	for (const move of moves) {
		const rows = move.customers.filter((c) => c.owner_staff_id !== move.to);
		if (rows.length === 0) continue;
		const ids = rows.map((r) => r.id);
		for (let i = 0; i < ids.length; i += MAX_CUSTOMERS_PER_CALL) await setCustomersOwner(trx, ids.slice(i, i + MAX_CUSTOMERS_PER_CALL), move.to);
		await repo.insertOwnerChanges(
			trx,
			rows.map((r) => ({ customerId: r.id, from: r.owner_staff_id, to: move.to })),
			{ actorStaffId: meta.actorStaffId, reason: meta.reason, note: meta.note, batchId }
		);
		if (move.to) await repo.deleteProposalsFor(trx, ids);
		changed += rows.length;
	}
	return changed;
}

/** The locked customers, every id found and not merged away (404 otherwise). */
async function lockCustomers(trx: Trx, customerIds: string[]): Promise<OwnershipRow[]> {
	const ids = [...new Set(customerIds)];
	const rows = await lockCustomerOwnership(trx, ids);
	if (rows.length !== ids.length || rows.some((r) => r.merged_into)) throw notFound('customer_not_found', 'No such customer');
	return rows;
}

/** The manager's scope: their home store (not the tablet's); admins have none (everywhere). */
async function scopeOf(db: DbOrTrx, actor: StaffPrincipal): Promise<string | null> {
	if (actor.role === 'admin') return null;
	if (actor.role !== 'manager') throw forbidden('forbidden', 'This needs the manager or admin role');
	const store = await homeStoreOf(db as Db, actor.id);
	if (!store) throw forbidden('forbidden', 'A manager without a home store cannot assign customers');
	return store;
}

/** Active staff members to give customers to, locked FOR SHARE; checked against the scope. */
async function lockTargets(trx: Trx, staffIds: string[], scope: string | null) {
	const rows = await lockStaffForAssignment(trx, [...new Set(staffIds)]);
	const byId = new Map(rows.map((r) => [r.id, r]));
	for (const id of staffIds) {
		const s = byId.get(id);
		if (!s) throw notFound('staff_not_found', 'No such staff member');
		if (!s.active) throw conflict('staff_inactive', `${s.display_name} is no longer active; choose an active staff member`);
		if (scope !== null && s.home_store_id !== scope) throw forbidden('other_store', 'This staff member works at another store; only an admin can assign across stores');
	}
	return byId;
}

function checkCustomersInScope(rows: OwnershipRow[], scope: string | null): void {
	if (scope === null) return;
	if (rows.some((r) => r.home_store_id !== scope)) throw forbidden('other_store', 'This customer belongs to another store; only an admin can assign across stores');
}

// ── claim ──────────────────────────────────────────────────────────────────────────────────

/**
 * A staff member takes unowned customers of their store (the tablet's store) into their own
 * book. Claiming a customer one already owns is a no-op; one owned by someone else is 409.
 */
export async function claim(db: Db, actor: StaffPrincipal, customerIds: string[], note: string | null = null) {
	return db.transaction().execute(async (trx) => {
		await lockTargets(trx, [actor.id], null);
		const rows = await lockCustomers(trx, customerIds);
		if (actor.role !== 'admin' && rows.some((r) => r.home_store_id !== actor.storeId)) {
			throw forbidden('other_store_customer', 'This customer belongs to another store');
		}
		if (rows.some((r) => r.owner_staff_id !== null && r.owner_staff_id !== actor.id)) {
			throw conflict('already_owned', 'This customer already has a 担当; ask a manager to reassign them');
		}
		const changed = await applyMoves(trx, [{ customers: rows, to: actor.id }], { actorStaffId: actor.id, reason: 'claim', note });
		return { changed };
	});
}

// ── assign / reassign ──────────────────────────────────────────────────────────────────────

/** Managers (own store) and admins (anywhere): give customers to a staff member, or to the store book (null). */
export async function assign(db: Db, actor: StaffPrincipal, input: { customerIds: string[]; toStaffId: string | null; note?: string | null }) {
	const scope = await scopeOf(db, actor);
	return db.transaction().execute(async (trx) => {
		if (input.toStaffId) await lockTargets(trx, [input.toStaffId], scope);
		const rows = await lockCustomers(trx, input.customerIds);
		checkCustomersInScope(rows, scope);
		const changed = await applyMoves(trx, [{ customers: rows, to: input.toStaffId }], {
			actorStaffId: actor.id,
			reason: 'assign',
			note: input.note ?? null
		});
		return { changed };
	});
}

// ── handover (leaving staff) ───────────────────────────────────────────────────────────────

export type HandoverTarget = { storeBook: true } | { shares: Share[] };

export interface HandoverInput {
	fromStaffId: string;
	/** some of their customers; the whole book when omitted */
	customerIds?: string[];
	to: HandoverTarget;
	note?: string | null;
}

function checkShares(shares: Share[], fromStaffId: string): void {
	if (shares.length === 0) throw badRequest('shares_not_100', 'Name at least one staff member', { shares: 'required' });
	if (new Set(shares.map((s) => s.staffId)).size !== shares.length) {
		throw badRequest('duplicate_share', 'Each staff member may appear once', { shares: 'duplicate' });
	}
	if (shares.some((s) => s.staffId === fromStaffId)) throw badRequest('handover_to_self', 'The book cannot be handed to the staff member who leaves', { shares: 'self' });
	const total = shares.reduce((a, s) => a + s.percent, 0);
	if (total !== 100) throw badRequest('shares_not_100', `The proportions add up to ${total}%, not 100%`, { shares: `${total}` });
}

async function handoverIn(trx: Trx, actor: StaffPrincipal, scope: string | null, input: HandoverInput, reason: OwnerChangeReason) {
	if ('shares' in input.to) checkShares(input.to.shares, input.fromStaffId);
	const leaving = await lockTargetsAnyState(trx, input.fromStaffId, scope);
	const targets = 'shares' in input.to ? input.to.shares.map((s) => s.staffId) : [];
	await lockTargets(trx, targets, scope);
	let rows: OwnershipRow[];
	if (input.customerIds) {
		rows = await lockCustomers(trx, input.customerIds);
		if (rows.some((r) => r.owner_staff_id !== input.fromStaffId)) {
			throw conflict('not_owned_by', `Some of these customers are not in ${leaving.display_name}'s book`);
		}
	} else {
		rows = await lockCustomersOwnedBy(trx, input.fromStaffId);
	}
	const batchId = randomUUID();
	const moves: Move[] = 'shares' in input.to
		? splitCustomers(rows, input.to.shares).map((b) => ({ customers: b.customers, to: b.staffId }))
		: [{ customers: rows, to: null }];
	await applyMoves(trx, moves, { actorStaffId: actor.id, reason, note: input.note ?? null, batchId });
	return {
		batchId,
		moved: rows.length,
		to: moves.map((m) => ({ staffId: m.to, customers: m.customers.length }))
	};
}

/** The leaving member's row (active or not), in the actor's scope. */
async function lockTargetsAnyState(trx: Trx, staffId: string, scope: string | null) {
	const [row] = await lockStaffForAssignment(trx, [staffId]);
	if (!row) throw notFound('staff_not_found', 'No such staff member');
	if (scope !== null && row.home_store_id !== scope) throw forbidden('other_store', 'This staff member works at another store; only an admin can reassign across stores');
	return row;
}

/** Moves some or all of a staff member's customers to named staff in proportions, or to the store book. */
export async function handover(db: Db, actor: StaffPrincipal, input: HandoverInput) {
	const scope = await scopeOf(db, actor);
	return db.transaction().execute((trx) => handoverIn(trx, actor, scope, input, 'handover'));
}

// ── deactivation ───────────────────────────────────────────────────────────────────────────

/**
 * Deactivates a staff member. While they own customers it is refused (409 staff_owns_customers,
 * with the count) unless the request says where their book goes; then the book moves and the
 * member is deactivated in one transaction.
 */
export async function deactivateStaff(db: Db, actor: StaffPrincipal, staffId: string, input: { handover?: HandoverTarget; note?: string | null }) {
	const scope = await scopeOf(db, actor);
	if (staffId === actor.id) throw badRequest('cannot_deactivate_self', 'You cannot deactivate yourself');
	return db.transaction().execute(async (trx) => {
		const member = await lockTargetsAnyState(trx, staffId, scope);
		if (!member.active) throw conflict('staff_inactive', `${member.display_name} is already inactive`);
		if (member.role === 'admin' && actor.role !== 'admin') throw forbidden('forbidden', 'Only an admin can deactivate an admin');
		const owned = await countCustomersOwnedBy(trx, staffId);
		let result: Awaited<ReturnType<typeof handoverIn>> | null = null;
		if (owned > 0) {
			if (!input.handover) {
				throw new AppError(409, 'staff_owns_customers', `${member.display_name} still owns ${owned} customers; choose who takes them over first`, {
					owned: String(owned)
				});
			}
			result = await handoverIn(trx, actor, scope, { fromStaffId: staffId, to: input.handover, note: input.note }, 'deactivation');
		}
		await repo.deleteProposalsOf(trx, staffId);
		await deactivateStaffRow(trx, staffId);
		return { deactivated: true, moved: result?.moved ?? 0, to: result?.to ?? [] };
	});
}

// ── first contact: consultation and store sale hooks (wired in server/compose.ts) ─────────────

export interface ContactEvent {
	customerId: string | null;
	staffId: string;
	storeId: string;
}

/**
 * After a consultation: when the customer has no 担当 and belongs to the staff member's store
 * (or none), propose them as owner or make them owner, as the brand setting says.
 */
export async function onConsultation(db: Db, event: ContactEvent): Promise<void> {
	if (!event.customerId) return;
	const mode = await readSetting(db, FIRST_CONTACT_OWNER);
	if (mode === 'off') return;
	await db.transaction().execute(async (trx) => {
		const [row] = await lockCustomerOwnership(trx, [event.customerId!]);
		if (!row || row.merged_into || row.owner_staff_id !== null) return;
		if (row.home_store_id !== null && row.home_store_id !== event.storeId) return;
		const [staff] = await lockStaffForAssignment(trx, [event.staffId]);
		if (!staff?.active || staff.home_store_id !== event.storeId) return;
		if (mode === 'assign') await applyMoves(trx, [{ customers: [row], to: staff.id }], { actorStaffId: null, reason: 'first_contact', note: null });
		else await repo.insertProposals(trx, [{ customer_id: row.id, staff_id: staff.id }], 'consultation');
	});
}

/**
 * After a POS import: the first sale receipt of each unowned customer since `afterPurchaseId`
 * proposes (or makes) its staff member the owner. Set-based: one query for the candidates.
 */
export async function onStoreSales(db: Db, event: { afterPurchaseId: number }): Promise<{ proposed: number; assigned: number }> {
	const mode = await readSetting(db, FIRST_CONTACT_OWNER);
	if (mode === 'off') return { proposed: 0, assigned: 0 };
	if (mode === 'propose') return { proposed: await proposeFirstSales(db, event.afterPurchaseId), assigned: 0 };
	const candidates = await repo.firstSalesOfUnowned(db, event.afterPurchaseId);
	let assigned = 0;
	const byStaff = new Map<string, string[]>();
	for (const c of candidates) {
		const ids = byStaff.get(c.staff_id);
		if (ids) ids.push(c.customer_id);
		else byStaff.set(c.staff_id, [c.customer_id]);
	}
	for (const [staffId, ids] of byStaff) {
		for (let i = 0; i < ids.length; i += MAX_CUSTOMERS_PER_CALL) {
			assigned += await db.transaction().execute(async (trx) => {
				// still unowned now (a claim may have come first)
				const rows = (await lockCustomerOwnership(trx, ids.slice(i, i + MAX_CUSTOMERS_PER_CALL))).filter((r) => r.owner_staff_id === null && !r.merged_into);
				return applyMoves(trx, [{ customers: rows, to: staffId }], { actorStaffId: null, reason: 'store_sale', note: null });
			});
		}
	}
	return { proposed: 0, assigned };
}

/**
 * The propose mode of onStoreSales in one transaction: without the per-row FK triggers when the
 * session may (the query locks what the proposals point at instead), with the bulk settings
 * (memory for the sort; its commit is flushed by the import run's own commit right after).
 */
async function proposeFirstSales(db: Db, afterPurchaseId: number): Promise<number> {
	const skipFkTriggers = await canSkipFkTriggers(db, ['customer_owner_proposals']);
	return db.transaction().execute(async (trx) => {
		await tuneBulkTransaction(trx, { skipFkTriggers });
		return repo.proposeFirstSalesOfUnowned(trx, afterPurchaseId, { skipFkTriggers });
	});
}

/** A proposal the staff member turns down. */
export async function dismissProposal(db: Db, actor: StaffPrincipal, customerId: string): Promise<void> {
	const n = await repo.deleteProposal(db, customerId, actor.id);
	if (n === 0) throw notFound('proposal_not_found', 'No such proposal');
}

// ── reads ──────────────────────────────────────────────────────────────────────────────────

/** The staff of the actor's scope with how many customers each owns, and the store book's size. */
export async function staffBooks(db: Db, actor: StaffPrincipal) {
	const scope = await scopeOf(db, actor);
	const staff = await staffOfStores(db, scope === null ? null : [scope]);
	const counts = await repo.ownedCounts(db, staff.map((s) => s.id));
	const storeId = scope ?? actor.storeId;
	return {
		storeId,
		storeBook: await repo.storeBookCount(db, storeId),
		staff: staff.map((s) => ({
			id: s.id,
			displayName: s.display_name,
			role: s.role,
			staffCode: s.staff_code,
			storeId: s.home_store_id,
			active: s.active,
			owned: counts.get(s.id) ?? 0
		}))
	};
}

/** The ownership audit, newest first: managers see their store's customers, admins all. */
export async function ownerChanges(db: Db, actor: StaffPrincipal, filter: { customerId?: string; staffId?: string; beforeId?: number; limit: number }) {
	const scope = await scopeOf(db, actor);
	const rows = await repo.listOwnerChanges(db, { ...filter, storeId: scope });
	return {
		changes: rows.map((r) => ({
			id: Number(r.id),
			at: new Date(r.at).toISOString(),
			customerId: r.customer_id,
			customerName: [r.family_name, r.given_name].filter(Boolean).join(' '),
			from: r.from_staff_id ? { id: r.from_staff_id, name: r.from_name ?? '' } : null,
			to: r.to_staff_id ? { id: r.to_staff_id, name: r.to_name ?? '' } : null,
			actor: r.actor_staff_id ? { id: r.actor_staff_id, name: r.actor_name ?? '' } : null,
			reason: r.reason,
			note: r.note,
			batchId: r.batch_id
		}))
	};
}

/** Demo data (server/seed/books.ts): gives customers to staff, audited with reason 'seed'. */
export async function seedOwners(trx: Trx, books: Array<{ staffId: string; customerIds: string[] }>): Promise<number> {
	let changed = 0;
	for (const book of books) {
		const rows = await lockCustomerOwnership(trx, book.customerIds);
		changed += await applyMoves(trx, [{ customers: rows, to: book.staffId }], { actorStaffId: null, reason: 'seed', note: null });
	}
	return changed;
}
