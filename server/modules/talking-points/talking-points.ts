/**
 * Talking points (会話のきっかけ): a pure rules engine. Given what we know about the customer
 * in front of the staff member and today's date, it returns at most `maxPoints` ranked points,
 * each with the reason shown on the tablet (Japanese and English). No database, no clock:
 * callers pass `now`, tests pass fixed dates.
 */
import type { CustomerState } from '../customers/state.ts';

export interface PurchasedItem {
	at: Date;
	productId: number | null;
	name: string;
	category: string | null;
	channel: 'store' | 'ec';
}

export interface TalkingPointFacts {
	state: CustomerState;
	storePurchaseCount: number;
	ecOrderCount: number;
	firstPurchaseAt: Date | null;
	lastPurchaseAt: Date | null;
	/** 'YYYY-MM-DD' */
	birthday: string | null;
	/** recent purchase lines, any order */
	recentItems: PurchasedItem[];
	/** the newest consultation that set a next action */
	lastNextAction: { action: string; due: string; occurredAt: Date; staffName: string | null } | null;
}

export interface TalkingPointConfig {
	dormantDays: number;
	/** product categories that count as shoes (shoe-care rule) */
	shoeCategories: string[];
	/** categories of the care products suggested with them */
	shoeCareCategories: string[];
	/** days after a shoe purchase when care products are worth suggesting */
	shoeCareWindowDays: [number, number];
	/** overdue next actions older than this are stale and no longer shown */
	nextActionStaleDays: number;
	maxPoints: number;
	/** offset of the brand's calendar from UTC (Japan: +540) */
	utcOffsetMinutes: number;
}

export const DEFAULT_TALKING_POINT_CONFIG: TalkingPointConfig = {
	dormantDays: 180,
	shoeCategories: ['シューズ', 'スニーカー', 'shoes', 'sneakers'],
	shoeCareCategories: ['シューケア', 'shoe_care'],
	shoeCareWindowDays: [21, 45],
	nextActionStaleDays: 60,
	maxPoints: 5,
	utcOffsetMinutes: 9 * 60
};

export type TalkingPointId = 'next_action_due' | 'dormant_return' | 'ec_first_visit' | 'f2' | 'birthday_month' | 'shoe_care';

export interface TalkingPointResult {
	id: TalkingPointId;
	title: string;
	reason: string;
	titleEn: string;
	reasonEn: string;
	score: number;
	/** set by the rule when products of these categories should be attached (filled by the caller) */
	suggestCategories?: string[];
	productIds?: number[];
}

const DAY_MS = 86_400_000;

/** Calendar day number in the brand's time zone, so "30 days ago" means calendar days in Japan. */
export function localDay(date: Date, offsetMinutes: number): number {
	return Math.floor((date.getTime() + offsetMinutes * 60_000) / DAY_MS);
}

function dayOfDateString(ymd: string): number {
	return Math.floor(Date.parse(`${ymd}T00:00:00Z`) / DAY_MS);
}

function localDateParts(date: Date, offsetMinutes: number): { month: number; day: number } {
	const shifted = new Date(date.getTime() + offsetMinutes * 60_000);
	return { month: shifted.getUTCMonth() + 1, day: shifted.getUTCDate() };
}

function formatYmd(date: Date, offsetMinutes: number): string {
	return new Date(date.getTime() + offsetMinutes * 60_000).toISOString().slice(0, 10);
}

type Rule = (facts: TalkingPointFacts, today: number, now: Date, config: TalkingPointConfig) => TalkingPointResult | null;

/** 前回の接客の次回アクション: due today or overdue (not stale). */
const nextActionDue: Rule = (facts, today, _now, config) => {
	const next = facts.lastNextAction;
	if (!next) return null;
	const overdueDays = today - dayOfDateString(next.due);
	if (overdueDays < 0 || overdueDays > config.nextActionStaleDays) return null;
	const when = overdueDays === 0 ? '本日' : `${overdueDays}日超過`;
	const whenEn = overdueDays === 0 ? 'today' : `${overdueDays} days overdue`;
	return {
		id: 'next_action_due',
		title: `次回アクション: ${next.action}`,
		reason: `前回の接客の次回アクション期日 (${next.due}・${when})`,
		titleEn: `Next action: ${next.action}`,
		reasonEn: `Next action from the last consultation was due ${next.due} (${whenEn})`,
		score: 100 + Math.min(overdueDays, 30)
	};
};

/** 休眠からの来店: the last purchase is older than the dormancy threshold. */
const dormantReturn: Rule = (facts, today, _now, config) => {
	if (!facts.lastPurchaseAt) return null;
	const days = today - localDay(facts.lastPurchaseAt, config.utcOffsetMinutes);
	if (days <= config.dormantDays) return null;
	return {
		id: 'dormant_return',
		title: 'お久しぶりのご来店',
		reason: `休眠${config.dormantDays}日からの来店 (最終購入から${days}日)`,
		titleEn: 'Welcome back',
		reasonEn: `Back after ${config.dormantDays}+ days dormant (${days} days since the last purchase)`,
		score: 90
	};
};

/** ECのみの会員の初来店: bought online, never in a store. */
const ecFirstVisit: Rule = (facts) => {
	if (facts.ecOrderCount === 0 || facts.storePurchaseCount > 0) return null;
	return {
		id: 'ec_first_visit',
		title: '店舗での初めてのお買い物',
		reason: `ECのみの会員の初来店 (EC購入${facts.ecOrderCount}回)`,
		titleEn: 'First store visit',
		reasonEn: `EC-only member's first store visit (${facts.ecOrderCount} online orders)`,
		score: 85
	};
};

/** F2: one purchase so far — the second decides whether they come back. */
const f2: Rule = (facts, _today, _now, config) => {
	if (facts.storePurchaseCount + facts.ecOrderCount !== 1 || !facts.lastPurchaseAt) return null;
	const date = formatYmd(facts.lastPurchaseAt, config.utcOffsetMinutes);
	return {
		id: 'f2',
		title: '2回目のお買い物のきっかけづくり',
		reason: `2回目購入前 (F2)・初回購入 ${date}`,
		titleEn: 'Make the second purchase happen',
		reasonEn: `Before the second purchase (F2); first purchase ${date}`,
		score: 80
	};
};

/** 誕生月 */
const birthdayMonth: Rule = (facts, _today, now, config) => {
	if (!facts.birthday) return null;
	const [, month, day] = facts.birthday.split('-').map(Number);
	const current = localDateParts(now, config.utcOffsetMinutes);
	if (month !== current.month) return null;
	if (day === current.day) {
		return {
			id: 'birthday_month',
			title: '本日お誕生日です',
			reason: `今日 (${month}月${day}日) がお誕生日`,
			titleEn: 'Birthday today',
			reasonEn: `Today (${month}/${day}) is their birthday`,
			score: 90
		};
	}
	const gap = day - current.day;
	return {
		id: 'birthday_month',
		title: 'お誕生月のお祝い',
		reason: gap > 0 ? `誕生月 (${month}月${day}日・あと${gap}日)` : `誕生月 (${month}月${day}日・${-gap}日前)`,
		titleEn: 'Birthday month',
		reasonEn: gap > 0 ? `Birthday month (${month}/${day}, in ${gap} days)` : `Birthday month (${month}/${day}, ${-gap} days ago)`,
		score: 70
	};
};

/** Shoes bought 21–45 days ago → shoe care products. */
const shoeCare: Rule = (facts, today, _now, config) => {
	const shoeCategories = new Set(config.shoeCategories.map((c) => c.toLowerCase()));
	const [from, to] = config.shoeCareWindowDays;
	const candidates = facts.recentItems
		.filter((i) => i.category && shoeCategories.has(i.category.toLowerCase()))
		.map((i) => ({ item: i, days: today - localDay(i.at, config.utcOffsetMinutes) }))
		.filter((x) => x.days >= from && x.days <= to)
		.sort((a, b) => a.days - b.days);
	const hit = candidates[0];
	if (!hit) return null;
	return {
		id: 'shoe_care',
		title: 'シューケア用品のご提案',
		reason: `${hit.item.name}購入から${hit.days}日 → シューケア用品`,
		titleEn: 'Suggest shoe care',
		reasonEn: `${hit.days} days since buying ${hit.item.name} → shoe care`,
		score: 60,
		suggestCategories: config.shoeCareCategories
	};
};

const RULES: Rule[] = [nextActionDue, dormantReturn, ecFirstVisit, f2, birthdayMonth, shoeCare];

/** At most `config.maxPoints` points, highest score first (ties keep rule order). */
export function talkingPoints(
	facts: TalkingPointFacts,
	now: Date,
	config: TalkingPointConfig = DEFAULT_TALKING_POINT_CONFIG
): TalkingPointResult[] {
	const today = localDay(now, config.utcOffsetMinutes);
	return RULES.map((rule) => rule(facts, today, now, config))
		.filter((p): p is TalkingPointResult => p !== null)
		.sort((a, b) => b.score - a.score)
		.slice(0, config.maxPoints);
}
