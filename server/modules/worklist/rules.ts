/**
 * The rules of today's list, as pure functions: facts about one customer (or one consultation,
 * one receipt) and the JST date in, at most one candidate item out. The builder
 * (worklist.service.ts) narrows the customers in SQL, then every decision is made here, so each
 * boundary is unit-tested (tests/unit/worklist-rules.test.ts) and every item can say why it is
 * on the list. Dates are JST calendar dates 'YYYY-MM-DD' (server/shared/jst.ts).
 */
import { addDays, DAY_MS } from '../../shared/jst.ts';
import type { RuleSettings } from './settings.ts';

export type Reason = 'next_action' | 'birthday' | 'second_purchase' | 'thank_you' | 'dormancy_risk' | 'cross_channel' | 'campaign';
export const REASONS: Reason[] = ['next_action', 'birthday', 'second_purchase', 'thank_you', 'dormancy_risk', 'cross_channel', 'campaign'];

export type Facts = Record<string, string | number | null>;

export interface Candidate {
	customerId: string;
	reason: Reason;
	/** one item per (customer, reason, occasion): a rebuild never doubles it */
	occasion: string;
	/** where the item goes: a staff member's list, or null = the store book of storeId */
	staffId: string | null;
	storeId: string;
	dueOn: string;
	visibleFrom: string;
	/** after this date an open item leaves the list (null: stays until done, e.g. next actions) */
	expiresOn: string | null;
	facts: Facts;
	sourceConsultationId?: string;
	sourcePurchaseId?: number;
	campaignId?: string;
}

/** Whole days from `from` to `to` (both 'YYYY-MM-DD'); negative when `to` is earlier. */
export function daysBetween(from: string, to: string): number {
	return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);
}

export function isLeapYear(year: number): boolean {
	return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** The day a birthday falls on in `year`: 29 February is celebrated on 28 February in other years. */
export function birthdayIn(birthday: string, year: number): string {
	const md = birthday.slice(5);
	const y = String(year).padStart(4, '0');
	if (md === '02-29' && !isLeapYear(year)) return `${y}-02-28`;
	return `${y}-${md}`;
}

/** The next birthday on or after `today`. */
export function nextBirthday(birthday: string, today: string): string {
	const year = Number(today.slice(0, 4));
	const thisYear = birthdayIn(birthday, year);
	return thisYear >= today ? thisYear : birthdayIn(birthday, year + 1);
}

/**
 * The 'MM-DD' birthdays (as stored) that fall in [today, today + withinDays]: the SQL filter of
 * the birthday rule. '02-29' is included whenever 28 February of a non-leap year is in range.
 */
export function birthdayKeysInWindow(today: string, withinDays: number): string[] {
	const keys = new Set<string>();
	for (let i = 0; i <= withinDays; i++) {
		const day = addDays(today, i);
		keys.add(day.slice(5));
		if (day.slice(5) === '02-28' && !isLeapYear(Number(day.slice(0, 4)))) keys.add('02-29');
	}
	return [...keys];
}

// ---------------------------------------------------------------------------------------------

export interface Placement {
	/** 担当 when the customer has an active owner */
	ownerStaffId: string | null;
	/** the store book the customer belongs to */
	homeStoreId: string | null;
}

/** Owner's list, else the home store's book; null when the customer has neither. */
export function placeOnList(p: Placement, ownerStoreId?: string | null): { staffId: string | null; storeId: string } | null {
	if (p.ownerStaffId && (ownerStoreId ?? p.homeStoreId)) return { staffId: p.ownerStaffId, storeId: (ownerStoreId ?? p.homeStoreId)! };
	if (p.homeStoreId) return { staffId: null, storeId: p.homeStoreId };
	return null;
}

export interface NextActionInput {
	consultationId: string;
	customerId: string;
	staffId: string;
	storeId: string;
	storeName: string;
	staffName: string;
	action: string | null;
	dueOn: string | null;
	occurredOn: string;
}

/**
 * 次回アクション: on the author's list from `lookaheadDays` before it is due; no expiry — an
 * undone next action stays (overdue) however old, and a later consultation does not replace it.
 */
export function nextActionRule(c: NextActionInput, today: string, s: RuleSettings['nextAction']): Candidate | null {
	if (!s.enabled || !c.action?.trim() || !c.dueOn) return null;
	if (c.dueOn > addDays(today, s.lookaheadDays)) return null;
	return {
		customerId: c.customerId,
		reason: 'next_action',
		occasion: `consultation:${c.consultationId}`,
		staffId: c.staffId,
		storeId: c.storeId,
		dueOn: c.dueOn,
		visibleFrom: today < c.dueOn ? today : c.dueOn,
		expiresOn: null,
		facts: { action: c.action.trim(), consultedOn: c.occurredOn, storeName: c.storeName, staffName: c.staffName },
		sourceConsultationId: c.consultationId
	};
}

export interface CustomerSummary extends Placement {
	customerId: string;
	birthday: string | null;
	/** store sales receipts (returns excluded) */
	storeOrders: number;
	/** EC orders not cancelled */
	ecOrders: number;
	firstPurchaseDay: string | null;
	lastPurchaseDay: string | null;
	lastEcDay: string | null;
	ltvYen: number;
	/** name of a product of the first purchase, and where it was bought (store name or 'EC') */
	firstProductName?: string | null;
	firstChannelName?: string | null;
	lastProductName?: string | null;
}

export function birthdayRule(c: CustomerSummary, today: string, s: RuleSettings['birthday']): Candidate | null {
	if (!s.enabled || !c.birthday) return null;
	const next = nextBirthday(c.birthday, today);
	const days = daysBetween(today, next);
	if (days > s.withinDays) return null;
	const place = placeOnList(c);
	if (!place) return null;
	return {
		customerId: c.customerId,
		reason: 'birthday',
		occasion: `birthday:${next.slice(0, 4)}`,
		...place,
		dueOn: next,
		visibleFrom: today,
		expiresOn: addDays(next, s.graceDays),
		facts: { birthday: next, daysUntil: days }
	};
}

/** 初回購入のみ, 21–45 days (settings) after the first purchase: the F2 nudge. */
export function secondPurchaseRule(c: CustomerSummary, today: string, s: RuleSettings['secondPurchase']): Candidate | null {
	if (!s.enabled || c.storeOrders + c.ecOrders !== 1 || !c.firstPurchaseDay) return null;
	const days = daysBetween(c.firstPurchaseDay, today);
	if (days < s.minDays || days > s.maxDays) return null;
	const place = placeOnList(c);
	if (!place) return null;
	return {
		customerId: c.customerId,
		reason: 'second_purchase',
		occasion: `first:${c.firstPurchaseDay}`,
		...place,
		dueOn: today,
		visibleFrom: today,
		expiresOn: addDays(c.firstPurchaseDay, s.maxDays),
		facts: { daysSinceFirst: days, firstPurchaseOn: c.firstPurchaseDay, product: c.firstProductName ?? null, channel: c.firstChannelName ?? null }
	};
}

export interface StoreSaleInput {
	purchaseId: number;
	customerId: string;
	staffId: string | null;
	storeId: string;
	storeName: string;
	/** JST day of the receipt */
	purchaseDay: string;
	totalYen: number;
	product: string | null;
}

/** お礼: yesterday's (JST) store sale, on the list of the staff member who served it. */
export function thankYouRule(p: StoreSaleInput, today: string, s: RuleSettings['thankYou']): Candidate | null {
	if (!s.enabled || !p.staffId || p.purchaseDay !== addDays(today, -1)) return null;
	return {
		customerId: p.customerId,
		reason: 'thank_you',
		occasion: `purchase:${p.purchaseId}`,
		staffId: p.staffId,
		storeId: p.storeId,
		dueOn: today,
		visibleFrom: today,
		expiresOn: addDays(today, s.expireDays),
		facts: { purchasedOn: p.purchaseDay, product: p.product, totalYen: p.totalYen, storeName: p.storeName },
		sourcePurchaseId: p.purchaseId
	};
}

/**
 * 休眠リスク: the last purchase was `dormantDays - leadDays` to `dormantDays` days ago (a customer
 * becomes 休眠 after more than dormantDays days) and LTV is above the home store's median.
 */
export function dormancyRiskRule(c: CustomerSummary, today: string, storeMedianYen: number | null, s: RuleSettings['dormancy'], dormantDays: number): Candidate | null {
	if (!s.enabled || !c.lastPurchaseDay || storeMedianYen === null) return null;
	const days = daysBetween(c.lastPurchaseDay, today);
	if (days < dormantDays - s.leadDays || days > dormantDays) return null;
	if (c.ltvYen <= storeMedianYen) return null;
	const place = placeOnList(c);
	if (!place) return null;
	return {
		customerId: c.customerId,
		reason: 'dormancy_risk',
		occasion: `last:${c.lastPurchaseDay}`,
		...place,
		dueOn: today,
		visibleFrom: today,
		expiresOn: addDays(c.lastPurchaseDay, dormantDays),
		facts: { lastPurchaseOn: c.lastPurchaseDay, dormantOn: addDays(c.lastPurchaseDay, dormantDays), ltvYen: c.ltvYen, medianYen: storeMedianYen, product: c.lastProductName ?? null }
	};
}

/** ECのみ customers of this store's book: invite them to the store (not once they are dormant). */
export function crossChannelRule(c: CustomerSummary, today: string, s: RuleSettings['crossChannel'], dormantDays: number): Candidate | null {
	if (!s.enabled || c.ecOrders === 0 || c.storeOrders > 0 || !c.lastEcDay || !c.homeStoreId) return null;
	if (daysBetween(c.lastEcDay, today) > dormantDays) return null;
	const place = placeOnList(c);
	if (!place) return null;
	return {
		customerId: c.customerId,
		reason: 'cross_channel',
		occasion: `ec:${c.lastEcDay}`,
		...place,
		dueOn: today,
		visibleFrom: today,
		expiresOn: addDays(today, s.expireDays),
		facts: { ecOrders: c.ecOrders, lastEcOn: c.lastEcDay, product: c.lastProductName ?? null }
	};
}

/** Every customer-summary rule at once (the builder's inner loop). */
export function customerRules(c: CustomerSummary, today: string, storeMedianYen: number | null, s: RuleSettings): Candidate[] {
	const out: Candidate[] = [];
	for (const item of [
		birthdayRule(c, today, s.birthday),
		secondPurchaseRule(c, today, s.secondPurchase),
		dormancyRiskRule(c, today, storeMedianYen, s.dormancy, s.dormantDays),
		crossChannelRule(c, today, s.crossChannel, s.dormantDays)
	]) {
		if (item) out.push(item);
	}
	return out;
}

/** Which group an open item shows in on `today`; null = not shown (snoozed, expired, not yet visible). */
export type Group = 'overdue' | 'today' | 'upcoming';
export function groupOf(
	item: { state: string; dueOn: string; visibleFrom: string; expiresOn: string | null; snoozedUntil: string | null },
	today: string
): Group | null {
	if (item.state === 'snoozed') {
		if (!item.snoozedUntil || item.snoozedUntil > today) return null;
	} else if (item.state !== 'open') return null;
	if (item.visibleFrom > today) return null;
	if (item.expiresOn && item.expiresOn < today) return null;
	if (item.dueOn < today) return 'overdue';
	if (item.dueOn === today) return 'today';
	return 'upcoming';
}

/** Reach on LINE today: friend, not blocked, consented to messages, not merged away. */
export interface ContactFacts {
	line_user_id: string | null;
	line_friend: boolean;
	line_blocked_at: Date | string | null;
	consent_messages: boolean;
	merged_into: string | null;
}

/**
 * Whether a customer may appear on a list at all: reachable on LINE and consented. The
 * 7/30-day contact limit depends on the moment and is applied when the list is read
 * (worklist.service todayList, through the contact module's contactAllowance).
 */
export function eligibleForContact(c: ContactFacts): boolean {
	return c.merged_into === null && c.line_user_id !== null && c.line_friend && c.line_blocked_at === null && c.consent_messages;
}

/** The SQL twin of eligibleForContact (customers aliased `c`), kept next to it. */
export const ELIGIBLE_SQL = `c.merged_into is null and c.line_user_id is not null and c.line_friend and c.line_blocked_at is null and c.consent_messages`;
