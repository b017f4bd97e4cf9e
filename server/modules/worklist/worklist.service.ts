/**
 * Today's list (今日の連絡): building (incremental per store on demand + the background job),
 * reading a staff member's list, idempotent state changes, and auto-done on contact.
 *
 * Building is incremental: a store is built when its first list of the JST day is read, again
 * by the background job (worklist.worker.ts, hourly), and single customers are built when a
 * consultation with a next action is recorded. Items are keyed by occasion, so building again
 * only adds what is new; nothing nightly has to finish before the first tablet signs in.
 */
import { contactAllowance } from '../contact/contact.service.ts';
import type { Db, DbOrTrx } from '../../db/index.ts';
import { badRequest, forbidden, notFound } from '../../errors.ts';
import type { StaffPrincipal } from '../../http/context.ts';
import { addDays, DAY_MS, jstDate, jstMidnight } from '../../shared/jst.ts';
import { isUuid } from '../../shared/ids.ts';
import { parseSetting, readSettings, writeSetting, type SettingDefinition } from '../settings/settings.service.ts';
import { homeStoreOf } from '../staff/staff.service.ts';
import * as repo from './worklist.repository.ts';
import {
	birthdayKeysInWindow,
	customerRules,
	groupOf,
	nextActionRule,
	placeOnList,
	thankYouRule,
	type Candidate,
	type Reason
} from './rules.ts';
import { describeItem, type Sentence } from './sentences.ts';
import type { ContactEvent } from '../../shared/contact.ts';
import {
	birthdaySetting,
	crossChannelSetting,
	dormancySetting,
	nextActionSetting,
	secondPurchaseSetting,
	thankYouSetting,
	type RuleSettings
} from './settings.ts';

export interface WorklistOptions {
	dormantDays: number;
}

export async function readRuleSettings(db: DbOrTrx, dormantDays: number): Promise<RuleSettings> {
	// one query: the list API reads them on every request
	const [nextAction, birthday, secondPurchase, thankYou, dormancy, crossChannel] = await readSettings(db, [
		nextActionSetting,
		birthdaySetting,
		secondPurchaseSetting,
		thankYouSetting,
		dormancySetting,
		crossChannelSetting
	] as const);
	return { nextAction, birthday, secondPurchase, thankYou, dormancy, crossChannel, dormantDays };
}

/** The rule settings by the names the API uses, each with its definition. */
const RULE_DEFINITIONS = {
	nextAction: nextActionSetting,
	birthday: birthdaySetting,
	secondPurchase: secondPurchaseSetting,
	thankYou: thankYouSetting,
	dormancy: dormancySetting,
	crossChannel: crossChannelSetting
} as const;
export type RuleName = keyof typeof RULE_DEFINITIONS;

/**
 * Managers change the rules' brand settings: any of the six, each whole. Every given value is
 * checked before any is stored (400 invalid_setting naming the rule), so a bad one changes
 * nothing; each change is audited by the settings module. Lists built from then on use them.
 */
export async function writeRuleSettings(db: Db, staff: StaffPrincipal, input: Partial<Record<RuleName, unknown>>, dormantDays: number): Promise<RuleSettings> {
	const names = (Object.keys(RULE_DEFINITIONS) as RuleName[]).filter((n) => input[n] !== undefined);
	// the definitions differ in type; each value is checked against its own schema
	const definition = (n: RuleName) => RULE_DEFINITIONS[n] as SettingDefinition<unknown>;
	const parsed = names.map((n) => [n, parseSetting(definition(n), input[n], n)] as const);
	if (parsed.length > 0) {
		await db.transaction().execute(async (trx) => {
			for (const [n, value] of parsed) await writeSetting(trx, definition(n), value, staff.id);
		});
	}
	return readRuleSettings(db, dormantDays);
}

/** Which reasons are capped per list per day, and how candidates are ranked for the cap. */
const CAPS: Partial<Record<Reason, { cap: (s: RuleSettings) => number; rank: (c: Candidate) => number }>> = {
	birthday: { cap: (s) => s.birthday.maxOpenPerList, rank: (c) => Number(c.facts.daysUntil ?? 0) },
	second_purchase: { cap: (s) => s.secondPurchase.maxOpenPerList, rank: (c) => -Number(c.facts.daysSinceFirst ?? 0) },
	dormancy_risk: { cap: (s) => s.dormancy.maxOpenPerList, rank: (c) => -Number(c.facts.ltvYen ?? 0) },
	cross_channel: { cap: (s) => s.crossChannel.maxOpenPerList, rank: (c) => -String(c.facts.lastEcOn ?? '').replace(/-/g, '') }
};

const listKey = (c: { staffId: string | null; storeId: string }) => (c.staffId ?? `book:${c.storeId}`);

export interface BuildResult {
	stores: number;
	candidates: number;
	created: number;
}

/** Builds the lists of these stores for `today` (JST). Safe to run again and concurrently. */
export async function buildStores(db: Db, storeIds: string[], today: string, options: WorklistOptions): Promise<BuildResult> {
	if (storeIds.length === 0) return { stores: 0, candidates: 0, created: 0 };
	const s = await readRuleSettings(db, options.dormantDays);
	const day = (d: string) => jstMidnight(d)!;
	const window: repo.SummaryWindow = {
		birthdayKeys: s.birthday.enabled ? birthdayKeysInWindow(today, s.birthday.withinDays) : [],
		firstFrom: day(addDays(today, -s.secondPurchase.maxDays)),
		firstTo: day(addDays(today, -s.secondPurchase.minDays + 1)),
		lastFrom: day(addDays(today, -s.dormantDays)),
		lastTo: day(addDays(today, -(s.dormantDays - s.dormancy.leadDays) + 1))
	};
	const [summaries, medians, nextActions, sales] = await Promise.all([
		repo.customerSummaries(db, storeIds, window),
		repo.storeMedians(db, storeIds),
		repo.nextActionCandidates(db, storeIds, addDays(today, s.nextAction.lookaheadDays)),
		repo.storeSales(db, storeIds, day(addDays(today, -1)), day(today))
	]);
	const candidates: Candidate[] = [];
	for (const c of summaries) candidates.push(...customerRules(c, today, c.homeStoreId ? (medians.get(c.homeStoreId) ?? null) : null, s));
	for (const n of nextActions) {
		const item = nextActionRule(n, today, s.nextAction);
		if (!item) continue;
		if (!n.authorActive) {
			const place = placeOnList({ ownerStaffId: n.ownerStaffId, homeStoreId: n.homeStoreId ?? n.storeId });
			if (!place) continue;
			Object.assign(item, place);
		}
		candidates.push(item);
	}
	for (const p of sales) {
		const item = thankYouRule(p, today, s.thankYou);
		if (item) candidates.push(item);
	}
	const fresh = await dropExisting(db, candidates);
	const capped = applyCaps(fresh, await repo.openCounts(db, storeIds, today), s);
	await fillProducts(db, capped);
	const created = await repo.insertItems(db, capped);
	for (const storeId of storeIds) await repo.markBuilt(db, storeId, today, created);
	return { stores: storeIds.length, candidates: candidates.length, created };
}

async function dropExisting(db: DbOrTrx, candidates: Candidate[]): Promise<Candidate[]> {
	const existing = await repo.existingOccasions(db, [...new Set(candidates.map((c) => c.customerId))]);
	const seen = new Set<string>();
	return candidates.filter((c) => {
		const k = `${c.customerId}|${c.reason}|${c.occasion}`;
		if (existing.has(k) || seen.has(k)) return false;
		seen.add(k);
		return true;
	});
}

/** At most `maxOpenPerList` open items of a capped reason per list: the best-ranked new ones fill what is free. */
export function applyCaps(candidates: Candidate[], open: Map<string, number>, s: RuleSettings): Candidate[] {
	const out: Candidate[] = [];
	const groups = new Map<string, Candidate[]>();
	for (const c of candidates) {
		if (!CAPS[c.reason]) {
			out.push(c);
			continue;
		}
		const k = `${listKey(c)}|${c.reason}`;
		const list = groups.get(k) ?? [];
		list.push(c);
		groups.set(k, list);
	}
	for (const [k, list] of groups) {
		const rule = CAPS[list[0].reason]!;
		const free = Math.max(0, rule.cap(s) - (open.get(k) ?? 0));
		list.sort((a, b) => rule.rank(a) - rule.rank(b) || a.customerId.localeCompare(b.customerId));
		out.push(...list.slice(0, free));
	}
	return out;
}

async function fillProducts(db: DbOrTrx, items: Candidate[]): Promise<void> {
	const need = items.filter((c) => c.reason === 'second_purchase' || c.reason === 'dormancy_risk' || c.reason === 'cross_channel');
	const facts = await repo.productFacts(db, [...new Set(need.map((c) => c.customerId))]);
	for (const c of need) {
		const f = facts.get(c.customerId);
		if (!f) continue;
		if (c.reason === 'second_purchase') c.facts = { ...c.facts, product: f.first, channel: f.firstChannel };
		else c.facts = { ...c.facts, product: f.last };
	}
}

/** Builds a store when it was not built yet today (the first list read of the day). */
export async function ensureBuilt(db: Db, storeId: string, today: string, options: WorklistOptions): Promise<void> {
	const built = (await repo.builds(db)).get(storeId);
	if (built?.builtOn === today) return;
	await buildStores(db, [storeId], today, options);
}

/** Stores whose lists are older than `maxAgeMs` or of another day (the background job). */
export async function staleStores(db: Db, today: string, now: Date, maxAgeMs: number): Promise<string[]> {
	const [stores, built] = await Promise.all([repo.allStoreIds(db), repo.builds(db)]);
	return stores.filter((id) => {
		const b = built.get(id);
		return !b || b.builtOn !== today || now.getTime() - b.builtAt.getTime() > maxAgeMs;
	});
}

// --- reading the list ------------------------------------------------------------------------

export interface WorklistItem {
	id: string;
	customerId: string;
	customerName: string;
	customerKana: string;
	memberNo: string;
	reason: Reason;
	sentence: Sentence;
	facts: Record<string, string | number | null>;
	dueOn: string;
	group: 'overdue' | 'today' | 'upcoming' | 'done';
	state: 'open' | 'done' | 'snoozed' | 'dismissed';
	book: boolean;
	templateKey: string | null;
	doneAt: string | null;
	doneVia: string | null;
	doneByName: string | null;
}

export interface TodayList {
	today: string;
	groups: { overdue: WorklistItem[]; today: WorklistItem[]; upcoming: WorklistItem[]; done: WorklistItem[] };
	/** Open items left off because their customer is over the contact limit (they come back when allowed). */
	heldBack: number;
}

const LIST_LIMIT = 300;

export async function todayList(db: Db, staff: StaffPrincipal, options: WorklistOptions, now = new Date()): Promise<TodayList> {
	const today = jstDate(now);
	await ensureBuilt(db, staff.storeId, today, options);
	const [rows, s] = await Promise.all([
		repo.listFor(db, staff.id, staff.storeId, today, jstMidnight(today)!, LIST_LIMIT),
		readRuleSettings(db, options.dormantDays)
	]);
	const templates: Record<Reason, string | null> = {
		next_action: s.nextAction.templateKey,
		birthday: s.birthday.templateKey,
		second_purchase: s.secondPurchase.templateKey,
		thank_you: s.thankYou.templateKey,
		dormancy_risk: s.dormancy.templateKey,
		cross_channel: s.crossChannel.templateKey,
		campaign: null
	};
	const groups: TodayList['groups'] = { overdue: [], today: [], upcoming: [], done: [] };
	// never on a list: a customer over the 7/30-day contact limit (issue 11 §3; reachability and
	// consent are already part of the list's own query)
	const overLimit = await customersOverLimit(db, rows.filter((r) => r.state !== 'done' && r.state !== 'dismissed').map((r) => r.customer_id), now);
	let heldBack = 0;
	for (const r of rows) {
		const done = r.state === 'done' || r.state === 'dismissed';
		if (!done && overLimit.has(r.customer_id)) {
			heldBack++;
			continue;
		}
		const group = done ? 'done' : groupOf({ state: r.state, dueOn: r.due_on, visibleFrom: r.visible_from, expiresOn: r.expires_on, snoozedUntil: r.snoozed_until }, today);
		if (!group) continue;
		groups[group].push({
			id: r.id,
			customerId: r.customer_id,
			customerName: [r.family_name, r.given_name].filter(Boolean).join(' ') || r.member_no,
			customerKana: [r.family_kana, r.given_kana].filter(Boolean).join(' '),
			memberNo: r.member_no,
			reason: r.reason,
			sentence: describeItem(r.reason, r.facts, r.due_on, today),
			facts: r.facts,
			dueOn: r.due_on,
			group,
			state: r.state,
			book: r.staff_id === null,
			templateKey: r.reason === 'campaign' ? r.campaign_template : templates[r.reason],
			doneAt: r.done_at ? new Date(r.done_at).toISOString() : null,
			doneVia: r.done_via,
			doneByName: r.done_by_name
		});
	}
	return { today, groups, heldBack };
}

async function customersOverLimit(db: Db, customerIds: string[], now: Date): Promise<Set<string>> {
	if (customerIds.length === 0) return new Set();
	const allowance = await contactAllowance(db, customerIds, now);
	return new Set([...allowance.values()].filter((a) => a.reason === 'limit_7d' || a.reason === 'limit_30d').map((a) => a.customerId));
}

/** The customers of a staff member's open list items (the tablet caches their profiles at sign-in). */
export async function listCustomerIds(db: Db, staff: StaffPrincipal, options: WorklistOptions, now = new Date()): Promise<string[]> {
	const list = await todayList(db, staff, options, now);
	const { overdue, today, upcoming } = list.groups;
	return [...new Set([...today, ...overdue, ...upcoming].map((i) => i.customerId))];
}

// --- state changes ---------------------------------------------------------------------------

export interface StateChange {
	clientId: string;
	state: 'open' | 'done' | 'snoozed' | 'dismissed';
	snoozedUntil?: string;
	reason?: string;
}

export const DISMISS_REASONS = ['not_relevant', 'contacted_elsewhere', 'customer_request', 'no_stock', 'other'] as const;

async function mayChange(db: DbOrTrx, staff: StaffPrincipal, item: { staff_id: string | null; store_id: string }): Promise<boolean> {
	if (item.staff_id === staff.id || (item.staff_id === null && item.store_id === staff.storeId)) return true;
	if (staff.role === 'admin') return true;
	return staff.role === 'manager' && item.store_id === ((await homeStoreOf(db as Db, staff.id)) ?? staff.storeId);
}

/**
 * Sets an item's state under the tablet's client id. A replayed client id answers with the
 * item as it is; completing an item that someone already completed is not an error — both
 * tablets see one result (done, by whoever was first).
 */
export async function changeState(db: Db, staff: StaffPrincipal, itemId: string, change: StateChange, now = new Date()) {
	if (!isUuid(itemId)) throw notFound('worklist_item_not_found', 'No such item');
	const today = jstDate(now);
	if (change.state === 'snoozed') {
		if (!change.snoozedUntil || !jstMidnight(change.snoozedUntil)) throw badRequest('snooze_date_required', 'A snooze needs a date', { snoozedUntil: 'required' });
		if (change.snoozedUntil <= today) throw badRequest('snooze_in_past', 'The snooze date must be after today (JST)', { snoozedUntil: 'after today' });
	}
	if (change.state === 'dismissed' && !change.reason) throw badRequest('dismiss_reason_required', 'A dismissal needs a reason', { reason: 'required' });
	const result = await db.transaction().execute(async (trx) => {
		const item = await repo.findItem(trx, itemId, true);
		if (!item) throw notFound('worklist_item_not_found', 'No such item');
		if (!(await mayChange(trx, staff, item))) throw forbidden('worklist_forbidden', 'This item is on someone else\'s list');
		const replay = await repo.findStateChange(trx, change.clientId);
		if (replay) {
			if (replay.item_id !== itemId || replay.staff_id !== staff.id) throw badRequest('client_id_in_use', 'This client id belongs to another change');
			return { applied: false, replay: true };
		}
		// Already finished by someone else (or auto-done): "done" again is the same result, not an error.
		const finished = item.state === 'done' || item.state === 'dismissed';
		const apply = !(finished && change.state !== 'open');
		if (apply) {
			await repo.setItemState(trx, itemId, {
				state: change.state,
				snoozedUntil: change.state === 'snoozed' ? change.snoozedUntil! : null,
				dismissReason: change.state === 'dismissed' ? change.reason! : null,
				staffId: staff.id,
				via: change.state === 'done' ? 'manual' : null,
				at: now
			});
		}
		await repo.recordStateChange(trx, {
			client_id: change.clientId,
			item_id: itemId,
			staff_id: staff.id,
			state: change.state,
			snoozed_until: change.snoozedUntil ?? null,
			dismiss_reason: change.reason ?? null,
			applied: apply
		});
		return { applied: apply, replay: false };
	});
	const item = await repo.findItem(db, itemId);
	return {
		applied: result.applied,
		item: {
			id: item!.id,
			state: item!.state,
			snoozedUntil: item!.snoozed_until,
			dismissReason: item!.dismiss_reason,
			doneAt: item!.done_at ? new Date(item!.done_at).toISOString() : null,
			doneVia: item!.done_via
		}
	};
}

// --- contact hook ----------------------------------------------------------------------------

/**
 * Auto-done: a follow-up sent or a consultation recorded by a staff member completes their
 * items about that customer (their own list and their store book). A follow-up whose template
 * is the one of an open item's reason completes the items of that reason; any other follow-up
 * completes all of them. A consultation completes all but next actions (a later consultation
 * does not erase an earlier next action) and adds the item of its own next action when due soon.
 */
export async function onContact(db: Db, options: WorklistOptions, event: ContactEvent): Promise<number> {
	if (!event.customerId) return 0;
	const at = event.at ?? new Date();
	let reasons: Reason[] | null = null;
	if (event.kind === 'followup' && event.templateKey) {
		const s = await readRuleSettings(db, options.dormantDays);
		const byTemplate = (
			[
				['next_action', s.nextAction.templateKey],
				['birthday', s.birthday.templateKey],
				['second_purchase', s.secondPurchase.templateKey],
				['thank_you', s.thankYou.templateKey],
				['dormancy_risk', s.dormancy.templateKey],
				['cross_channel', s.crossChannel.templateKey]
			] as Array<[Reason, string | null]>
		)
			.filter(([, key]) => key === event.templateKey)
			.map(([reason]) => reason);
		const open = await repo.openReasonsFor(db, event.customerId, event.staffId, event.storeId);
		const matching = byTemplate.filter((r) => open.includes(r));
		if (matching.length > 0) reasons = matching;
	}
	const done = await repo.completeForContact(db, {
		customerId: event.customerId,
		staffId: event.staffId,
		storeId: event.storeId,
		via: event.kind,
		sourceId: event.sourceId,
		at,
		reasons
	});
	if (event.kind === 'consultation') await buildNextActions(db, options, event.storeId, event.customerId, jstDate(at));
	return done;
}

async function buildNextActions(db: Db, options: WorklistOptions, storeId: string, customerId: string, today: string): Promise<void> {
	const s = await readRuleSettings(db, options.dormantDays);
	const found = await repo.nextActionCandidates(db, [storeId], addDays(today, s.nextAction.lookaheadDays), [customerId]);
	const items = found.map((n) => nextActionRule(n, today, s.nextAction)).filter((c): c is Candidate => c !== null);
	await repo.insertItems(db, items);
}

export { DAY_MS };

/** The module as compose.ts wires it: its contact hook and its options. */
export interface Worklist {
	options: WorklistOptions;
	onContact: (db: Db, event: ContactEvent) => Promise<number>;
}

export function createWorklist(options: WorklistOptions): Worklist {
	return { options, onContact: (db, event) => onContact(db, options, event) };
}
