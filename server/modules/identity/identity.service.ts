/**
 * The matcher: keeps each customer's blocking keys, finds the records sharing one, scores the
 * pairs (matcher.ts) and keeps the suggestions queue. It runs
 * - incrementally: on customers marked dirty (new or changed records, new identities: triggers
 *   in the writer's transaction), by the identity worker, and at once in an EC order's
 *   transaction (the orders change hook, composed in server/compose.ts) for the order's new
 *   customer and for a purchase through a link sent to someone else;
 * - fully, on a schedule (daily), rebuilding every key and every pair from the rows.
 * Neither compares all customers pairwise: candidates come from an index look-up per key.
 */
import * as v from 'valibot';
import type { Db, DbOrTrx, Trx } from '../../db/index.ts';
import type { MatchEvidence } from '../../db/types.ts';
import type { OrderChange } from '../orders/orders.service.ts';
import { findMatchableCustomers } from '../customers/customers.service.ts';
import { defineSetting, readSetting } from '../settings/settings.service.ts';
import * as repo from './identity.repository.ts';
import { evidence, matchKeys, orderedPair, scorePair, SUGGEST_MIN_SCORE, VERIFIED_KINDS, type AutoMergePolicy, type MatchableCustomer, type MatchKey } from './matcher.ts';

/** Merge automatically at or above this score (40–100); null = off (the default). */
export const AUTO_MERGE_SCORE = defineSetting('identity.autoMergeScore', v.nullable(v.pipe(v.number(), v.integer(), v.minValue(40), v.maxValue(100))), null);
/** Merge automatically on an exact match of a verified identity (the same LINE user); on by default. */
export const AUTO_MERGE_VERIFIED = defineSetting('identity.autoMergeVerified', v.boolean(), true);

export async function autoMergePolicy(db: DbOrTrx): Promise<AutoMergePolicy> {
	return { minScore: await readSetting(db, AUTO_MERGE_SCORE), verified: await readSetting(db, AUTO_MERGE_VERIFIED) };
}

/** Scores candidate rows into suggestions (one per unordered pair, at or above SUGGEST_MIN_SCORE). */
export function suggestionsFrom(rows: repo.CandidateRow[]): repo.SuggestionUpsert[] {
	const pairs = new Map<string, { a: string; b: string; items: MatchEvidence[] }>();
	for (const row of rows) {
		if (row.self === row.other) continue;
		const [a, b] = orderedPair(row.self, row.other);
		const key = `${a}|${b}`;
		let pair = pairs.get(key);
		if (!pair) pairs.set(key, (pair = { a, b, items: [] }));
		pair.items.push(row.kind === 'link' ? evidence('link', row.detail ?? '', null) : evidence(row.kind, row.key));
	}
	const out: repo.SuggestionUpsert[] = [];
	for (const pair of pairs.values()) {
		const { score, evidence: list } = scorePair(pair.items);
		if (score >= SUGGEST_MIN_SCORE) out.push({ a: pair.a, b: pair.b, score, evidence: list });
	}
	return out;
}

export interface MatchOutcome {
	customers: number;
	suggestions: number;
}

/** The blocking keys of these records, each tagged with its customer. */
function keysOf(rows: MatchableCustomer[]): Array<MatchKey & { customer_id: string }> {
	const keys: Array<MatchKey & { customer_id: string }> = [];
	for (const row of rows) for (const key of matchKeys(row)) keys.push({ ...key, customer_id: row.id });
	return keys;
}

/**
 * Recomputes the keys and suggestions of these records (already read), in the caller's
 * transaction: one statement replaces the keys and finds the candidates, one upserts.
 */
async function matchRows(trx: DbOrTrx, rows: repo.MatchableRow[]): Promise<MatchOutcome> {
	const live = rows.filter((r) => r.merged_into === null).map((r) => ({ ...r, identities: r.identities ?? [] }));
	const merged = rows.filter((r) => r.merged_into !== null).map((r) => r.id);
	const candidates = await repo.replaceKeysAndFindCandidates(trx, live.map((r) => r.id), merged, keysOf(live));
	const touched = await repo.upsertSuggestions(trx, suggestionsFrom(candidates));
	return { customers: live.length, suggestions: touched.length };
}

/** Recomputes these customers' keys and their suggestions, in the caller's transaction. */
export async function matchCustomers(trx: DbOrTrx, customerIds: string[]): Promise<MatchOutcome> {
	const ids = [...new Set(customerIds)];
	if (ids.length === 0) return { customers: 0, suggestions: 0 };
	return matchRows(trx, await findMatchableCustomers(trx, ids));
}

/**
 * One batch of dirty customers (the worker's tick); other processes take other rows. Four
 * round trips: begin, claim and read, replace keys and find candidates, upsert and commit.
 */
export async function matchDirty(db: Db, limit = 500): Promise<MatchOutcome> {
	return db.transaction().execute(async (trx) => matchRows(trx, await repo.claimDirtyMatchable(trx, limit)));
}

/**
 * The orders change hook: an order through a tracked link sent to customer A that landed on
 * customer B is evidence (a `link` key on B), and B is matched at once, so that suggestion
 * exists when the order's transaction commits. The batch's other new customers keep their dirty
 * markers for the identity worker (seconds later): matching them all inside the order's
 * transaction halved bench:orders. While a full run rewrites the keys the hook waits for it
 * (orders are applied from the inbox, so webhooks are still accepted; the run is nightly).
 */
export async function onOrdersChange(trx: Trx, changes: OrderChange[]): Promise<void> {
	const links = await repo.linkPurchases(trx, changes.map((c) => c.key));
	if (links.length === 0) return;
	await repo.takeKeysLockShared(trx);
	await repo.insertLinkKeys(trx, links);
	const buyers = links.map((l) => l.buyer);
	await repo.takeDirty(trx, buyers);
	await matchCustomers(trx, buyers);
}

export interface FullRunOutcome extends MatchOutcome {
	pairs: number;
	/** The keys were loaded into an emptied table and indexed once (first run, after an import). */
	bulk: boolean;
	timings: { keys: number; pairs: number; apply: number };
}

/**
 * A full run: every customer's keys computed page by page into a staging table, `link` keys
 * from the orders, every pair sharing a staged key scored, then identity_match_keys replaced
 * by the staged keys (repo.applyStagedKeys). Returns null when another process is running one.
 */
export async function fullMatch(db: Db, options: { pageSize?: number } = {}): Promise<FullRunOutcome | null> {
	const pageSize = options.pageSize ?? 20_000;
	const startedAt = new Date();
	const outcome = await db.transaction().execute(async (trx) => {
		if (!(await repo.tryRunLock(trx))) return null;
		await repo.takeKeysLock(trx);
		// markers written before this point are covered by the run; later ones stay for the worker
		await repo.clearAllDirty(trx);
		await repo.tuneFullRun(trx);
		const timings = { keys: 0, pairs: 0, apply: 0 };
		let t0 = Date.now();
		await repo.createStagedKeys(trx);
		let customers = 0;
		let after: string | null = null;
		for (;;) {
			const rows = await repo.matchableCustomersAfter(trx, after, pageSize);
			if (rows.length === 0) break;
			after = rows[rows.length - 1].id;
			await repo.stageProfileKeys(trx, keysOf(rows.map((r) => ({ ...r, identities: r.identities ?? [] }))));
			customers += rows.length;
		}
		await repo.stageLinkKeys(trx);
		timings.keys = Date.now() - t0;
		t0 = Date.now();
		const suggestions = suggestionsFrom(await repo.stagedCandidatePairs(trx));
		let touched = 0;
		for (let i = 0; i < suggestions.length; i += 1000) touched += (await repo.upsertSuggestions(trx, suggestions.slice(i, i + 1000))).length;
		timings.pairs = Date.now() - t0;
		t0 = Date.now();
		const { bulk } = await repo.applyStagedKeys(trx);
		timings.apply = Date.now() - t0;
		await repo.recordRun(trx, startedAt, { customers, pairs: suggestions.length, suggestions: touched });
		return { customers, pairs: suggestions.length, suggestions: touched, bulk, timings };
	});
	if (outcome) await repo.vacuumDirty(db);
	return outcome;
}

export { VERIFIED_KINDS };

/** Erasure support (server/modules/privacy): the identity module's own tables. */
export { eraseIdentityDataOf } from './identity.repository.ts';
