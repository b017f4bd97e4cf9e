/**
 * Merging two customer records into one, and undoing it.
 *
 * A merge, in one transaction:
 * - locks both records; refuses a record into itself, a record already merged, and a cycle;
 * - moves every row that names the merged record to the survivor, through each owning module's
 *   "reassign customer" function: identities, store receipts, EC orders, staff credits
 *   (attributions), consultations, follow-ups, tracked links, link clicks, LINE conversations
 *   and LINE events; records merged into the merged record earlier forward to the survivor;
 * - fills the survivor's empty profile fields from the merged record, and moves the LINE
 *   membership (LINE user, friend state, consent) when the survivor has none;
 * - marks the merged record `merged_into` the survivor (lookups of its ids forward there);
 * - writes the ledger (`customer_merges`, with every moved row id and every changed field) and
 *   an audit entry per record; closes the suggestion.
 * The KPI facts and the rollups are marked dirty by triggers in the same transaction and are
 * refreshed right after the commit.
 *
 * An undo (an admin, within 30 days) moves exactly the rows the merge moved back (those that
 * still name the survivor), restores the changed fields that still hold the merged value,
 * clears `merged_into`, and marks the suggestion "not the same person". See docs/identity.md.
 */
import type { Db, Trx } from '../../db/index.ts';
import type { MatchEvidence, MergeMoved, MergeProfileChanges } from '../../db/types.ts';
import { AppError, badRequest, conflict, forbidden, notFound } from '../../errors.ts';
import type { ReassignOptions } from '../../shared/reassign-customer.ts';
import { recordMergeEvent } from '../audit/audit.service.ts';
import { reassignAttributions } from '../attribution/attribution.service.ts';
import { reassignConsultations } from '../consultations/consultations.service.ts';
import { reassignConversations } from '../conversations/conversations.service.ts';
import {
	lockCustomersForMerge,
	MERGE_LINE_FIELDS,
	MERGE_PROFILE_FIELDS,
	reassignIdentities,
	repointMergedInto,
	updateMergeFields,
	type MergeRecord
} from '../customers/customers.service.ts';
import { reassignFollowUps } from '../followups/followups.service.ts';
import { reassignStorePurchases } from '../purchases/purchases.service.ts';
import { reassignLineEvents } from '../line/line.service.ts';
import { reassignLinkClicks, reassignTrackedLinks } from '../links/links.service.ts';
import { reassignEcOrders } from '../orders/orders.service.ts';
import { refreshReportsNow } from '../reports/reports.service.ts';
import * as repo from './identity.repository.ts';
import { orderedPair, qualifiesForAutoMerge, type AutoMergePolicy } from './matcher.ts';

/** An admin may undo a merge for this long. */
export const UNDO_DAYS = 30;

type Reassign = (trx: Trx, from: string, to: string, options?: ReassignOptions) => Promise<string[]>;

/** Every table with a customer, by its owner's reassign function (the ledger's `moved` keys). */
export const REASSIGN: Record<string, Reassign> = {
	customer_identities: reassignIdentities,
	store_purchases: reassignStorePurchases,
	ec_orders: reassignEcOrders,
	attributions: reassignAttributions,
	consultations: reassignConsultations,
	follow_ups: reassignFollowUps,
	tracked_links: reassignTrackedLinks,
	link_clicks: reassignLinkClicks,
	conversations: reassignConversations,
	line_events: reassignLineEvents
};

export interface MergeInput {
	survivorId: string;
	mergedId: string;
	/** Staff who decided; null for an automatic merge. */
	by: string | null;
	automatic?: boolean;
	suggestionId?: string | null;
	now?: Date;
}

export interface MergeResult {
	mergeId: string;
	survivorId: string;
	mergedId: string;
	moved: Record<string, number>;
}

const count = (moved: MergeMoved) => Object.fromEntries(Object.entries(moved).map(([k, ids]) => [k, ids.length]));
const same = (x: unknown, y: unknown) => JSON.stringify(x instanceof Date ? x.toISOString() : x) === JSON.stringify(y instanceof Date ? y.toISOString() : y);

function checkPair(survivor: MergeRecord | undefined, merged: MergeRecord | undefined, survivorId: string, mergedId: string) {
	if (!survivor || !merged) throw notFound('merge_customer_not_found', `No customer ${!survivor ? survivorId : mergedId}`);
	if (survivor.merged_into === merged.id) throw conflict('merge_cycle', 'The surviving record was merged into the other one: merging back would make a cycle');
	if (survivor.merged_into !== null) throw conflict('merge_already_merged', 'The surviving record has already been merged into another record');
	if (merged.merged_into !== null) throw conflict('merge_already_merged', 'This record has already been merged into another record');
}

/** Merges `mergedId` into `survivorId` (see the file comment). */
export async function mergeCustomers(db: Db, input: MergeInput): Promise<MergeResult> {
	const { survivorId, mergedId } = input;
	if (survivorId === mergedId) throw badRequest('merge_self', 'A record cannot be merged into itself');
	const now = input.now ?? new Date();
	const result = await db.transaction().execute(async (trx) => {
		const rows = await lockCustomersForMerge(trx, [survivorId, mergedId]);
		const survivor = rows.find((r) => r.id === survivorId);
		const merged = rows.find((r) => r.id === mergedId);
		checkPair(survivor, merged, survivorId, mergedId);
		const s = survivor!;
		const m = merged!;

		const moved: MergeMoved = {};
		for (const [table, reassign] of Object.entries(REASSIGN)) moved[table] = await reassign(trx, m.id, s.id);

		const changes: MergeProfileChanges = { survivor: {}, merged: {}, forwarded: [] };
		const survivorSet: Record<string, unknown> = {};
		for (const field of MERGE_PROFILE_FIELDS) {
			if (s[field] == null && m[field] != null) {
				survivorSet[field] = m[field];
				changes.survivor[field] = [null, m[field]];
			}
		}
		const mergedSet: Record<string, unknown> = { merged_into: s.id };
		changes.merged.merged_into = [null, s.id];
		if (s.line_user_id == null && m.line_user_id != null) {
			// the LINE membership moves as one (the user id is unique: cleared on the merged record first)
			mergedSet.line_user_id = null;
			changes.merged.line_user_id = [m.line_user_id, null];
			for (const field of MERGE_LINE_FIELDS) {
				if (!same(s[field], m[field])) {
					survivorSet[field] = m[field];
					changes.survivor[field] = [s[field], m[field]];
				}
			}
		}
		await updateMergeFields(trx, m.id, mergedSet);
		await updateMergeFields(trx, s.id, survivorSet);
		changes.forwarded = await repointMergedInto(trx, m.id, s.id);

		// the queue: the pair is decided; the merged record's other suggestions lost their record
		const [a, b] = orderedPair(s.id, m.id);
		const suggestion = input.suggestionId ? await repo.findSuggestion(trx, input.suggestionId) : await repo.findSuggestionOfPair(trx, a, b);
		if (suggestion) await repo.setSuggestionStatus(trx, suggestion.id, 'merged', input.by);
		await repo.dropOpenSuggestionsOf(trx, m.id, suggestion?.id ?? null);
		await repo.deleteAllKeys(trx, [m.id]);
		await repo.markDirty(trx, [s.id]);

		const mergeId = await repo.insertMerge(trx, {
			survivor_id: s.id,
			merged_id: m.id,
			suggestion_id: suggestion?.id ?? null,
			score: suggestion?.score ?? null,
			evidence: (suggestion?.evidence as MatchEvidence[] | undefined) ?? [],
			automatic: Boolean(input.automatic),
			merged_by: input.by,
			merged_at: now,
			moved,
			profile_changes: changes
		});
		await recordMergeEvent(trx, 'customer.merge', input.by, [s.id, m.id], { mergeId, automatic: Boolean(input.automatic) });
		return { mergeId, survivorId: s.id, mergedId: m.id, moved: count(moved) };
	});
	await refreshReportsNow(db);
	return result;
}

export interface UndoResult {
	mergeId: string;
	restored: Record<string, number>;
}

/** Undoes a merge (see the file comment); `role` must be admin. */
export async function undoMerge(db: Db, mergeId: string, by: { id: string; role: string }, now = new Date()): Promise<UndoResult> {
	if (by.role !== 'admin') throw forbidden('merge_undo_admin_only', 'Only an admin can undo a merge');
	const result = await db.transaction().execute(async (trx) => {
		const merge = await repo.findMerge(trx, mergeId, { lock: true });
		if (!merge) throw notFound('merge_not_found', 'No such merge');
		if (merge.undone_at) throw conflict('merge_already_undone', 'This merge has already been undone');
		if (now.getTime() - new Date(merge.merged_at).getTime() > UNDO_DAYS * 86_400_000) {
			throw conflict('merge_undo_expired', `A merge can be undone within ${UNDO_DAYS} days only`);
		}
		const rows = await lockCustomersForMerge(trx, [merge.survivor_id, merge.merged_id]);
		const s = rows.find((r) => r.id === merge.survivor_id)!;
		const m = rows.find((r) => r.id === merge.merged_id)!;
		if (s.merged_into !== null) throw conflict('merge_undo_blocked', 'The surviving record has since been merged into another record: undo that merge first');
		if (m.merged_into !== s.id) throw conflict('merge_undo_blocked', 'The merged record no longer forwards to the survivor');

		const moved = merge.moved as MergeMoved;
		const restored: MergeMoved = {};
		for (const [table, reassign] of Object.entries(REASSIGN)) {
			restored[table] = await reassign(trx, s.id, m.id, { onlyIds: moved[table] ?? [] });
		}
		const changes = merge.profile_changes as MergeProfileChanges;
		// the LINE user id goes back to the merged record only after the survivor let it go
		const survivorSet: Record<string, unknown> = {};
		for (const [field, [before, after]] of Object.entries(changes.survivor)) {
			if (same(s[field as keyof MergeRecord], after)) survivorSet[field] = before;
		}
		await updateMergeFields(trx, s.id, survivorSet);
		const mergedSet: Record<string, unknown> = {};
		for (const [field, [before]] of Object.entries(changes.merged)) mergedSet[field] = before;
		await updateMergeFields(trx, m.id, mergedSet);
		restored.customers = await repointMergedInto(trx, s.id, m.id, changes.forwarded);

		if (merge.suggestion_id) await repo.setSuggestionStatus(trx, merge.suggestion_id, 'rejected', by.id);
		await repo.markDirty(trx, [s.id, m.id]);
		await repo.markMergeUndone(trx, merge.id, by.id, now);
		await recordMergeEvent(trx, 'customer.merge_undo', by.id, [s.id, m.id], { mergeId: merge.id });
		return { mergeId: merge.id, restored: count(restored) };
	});
	await refreshReportsNow(db);
	return result;
}

export type SuggestionDecision = 'merge' | 'reject' | 'later';

/** A manager's decision on a suggestion. `survivorId` (merge): which of the two records stays. */
export async function decideSuggestion(
	db: Db,
	suggestionId: string,
	decision: SuggestionDecision,
	by: string,
	survivorId?: string
): Promise<{ status: string; merge?: MergeResult }> {
	const suggestion = await repo.findSuggestion(db, suggestionId);
	if (!suggestion) throw notFound('suggestion_not_found', 'No such merge suggestion');
	if (suggestion.status === 'merged' || suggestion.status === 'rejected') {
		throw conflict('suggestion_decided', 'This suggestion has already been decided');
	}
	if (decision === 'merge') {
		const survivor = survivorId ?? suggestion.customer_a;
		if (survivor !== suggestion.customer_a && survivor !== suggestion.customer_b) {
			throw badRequest('merge_not_in_pair', 'The surviving record must be one of the two records of the suggestion');
		}
		const merged = survivor === suggestion.customer_a ? suggestion.customer_b : suggestion.customer_a;
		const merge = await mergeCustomers(db, { survivorId: survivor, mergedId: merged, by, suggestionId });
		return { status: 'merged', merge };
	}
	const status = decision === 'reject' ? 'rejected' : 'later';
	await db.transaction().execute((trx) => repo.setSuggestionStatus(trx, suggestionId, status, by));
	return { status };
}

/** A staff member asked the customer in the store: the suggestion goes to the top of the queue. */
export async function confirmInStore(db: Db, suggestionId: string, staffId: string): Promise<void> {
	const suggestion = await repo.findSuggestion(db, suggestionId);
	if (!suggestion) throw notFound('suggestion_not_found', 'No such merge suggestion');
	if (suggestion.status === 'merged' || suggestion.status === 'rejected') {
		throw conflict('suggestion_decided', 'This suggestion has already been decided');
	}
	await repo.confirmSuggestion(db, suggestionId, staffId);
}

/** Automatic merges of the open suggestions the brand's policy allows (the identity worker). */
export async function autoMergePass(db: Db, policy: AutoMergePolicy, verifiedKinds: readonly string[], log: (msg: string, data: object) => void, limit = 50): Promise<number> {
	const candidates = await repo.autoMergeCandidates(db, policy.minScore, policy.verified ? verifiedKinds : [], limit);
	let merged = 0;
	for (const c of candidates) {
		if (!qualifiesForAutoMerge(c.score, c.evidence, policy)) continue;
		const rows = await repo.pairAges(db, [c.customer_a, c.customer_b]);
		// the older record survives (member numbers are assigned in order)
		rows.sort((x, y) => new Date(x.created_at).getTime() - new Date(y.created_at).getTime() || x.member_no.localeCompare(y.member_no));
		if (rows.length < 2) continue;
		try {
			await mergeCustomers(db, { survivorId: rows[0].id, mergedId: rows[1].id, by: null, automatic: true, suggestionId: c.id });
			merged++;
			log('automatic merge', { suggestionId: c.id, survivorId: rows[0].id, mergedId: rows[1].id, score: c.score });
		} catch (err) {
			if (!(err instanceof AppError)) throw err;
			await db.transaction().execute((trx) => repo.setSuggestionStatus(trx, c.id, 'later', null));
			log('automatic merge refused; left for a person', { suggestionId: c.id, code: err.code });
		}
	}
	return merged;
}
