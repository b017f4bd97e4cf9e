import { describe, expect, it } from 'vitest';
import {
	DEFAULT_TALKING_POINT_CONFIG,
	talkingPoints,
	type PurchasedItem,
	type TalkingPointFacts
} from '../../server/modules/talking-points/talking-points.ts';

// 2026-11-23 10:00 JST
const NOW = new Date('2026-11-23T01:00:00Z');
const jstDaysAgo = (days: number, hourJst = 15) => new Date(Date.UTC(2026, 10, 23 - days, hourJst - 9));

const base: TalkingPointFacts = {
	state: 'store_only',
	storePurchaseCount: 3,
	ecOrderCount: 0,
	firstPurchaseAt: jstDaysAgo(300),
	lastPurchaseAt: jstDaysAgo(60),
	birthday: '1990-04-02',
	recentItems: [],
	lastNextAction: null
};

const item = (over: Partial<PurchasedItem>): PurchasedItem => ({
	at: jstDaysAgo(30),
	productId: 1,
	name: 'レザースニーカー',
	category: 'シューズ',
	channel: 'store',
	...over
});

const ids = (facts: Partial<TalkingPointFacts>, now = NOW) => talkingPoints({ ...base, ...facts }, now).map((p) => p.id);

describe('talking points', () => {
	it('has nothing to say about an ordinary regular', () => {
		expect(talkingPoints(base, NOW)).toEqual([]);
	});

	describe('shoe care', () => {
		it('suggests care 30 days after sneakers, with the reason shown on the tablet', () => {
			const [point] = talkingPoints({ ...base, recentItems: [item({})] }, NOW);
			expect(point).toMatchObject({
				id: 'shoe_care',
				reason: 'レザースニーカー購入から30日 → シューケア用品',
				reasonEn: '30 days since buying レザースニーカー → shoe care',
				suggestCategories: ['シューケア', 'shoe_care']
			});
		});

		it.each([
			[20, false],
			[21, true],
			[45, true],
			[46, false]
		])('%i days after the purchase → %s', (days, expected) => {
			expect(ids({ recentItems: [item({ at: jstDaysAgo(days) })] }).includes('shoe_care')).toBe(expected);
		});

		it('counts calendar days in Japan, not UTC', () => {
			// bought 2026-10-24 00:30 JST (= 10-23 15:30 UTC): 30 JST days before 11-23
			const boughtJustAfterMidnight = new Date('2026-10-23T15:30:00Z');
			const [point] = talkingPoints({ ...base, recentItems: [item({ at: boughtJustAfterMidnight })] }, NOW);
			expect(point.reason).toContain('30日');
		});

		it('ignores other categories and uses the most recent pair of shoes', () => {
			expect(ids({ recentItems: [item({ category: 'トップス' })] })).toEqual([]);
			const [point] = talkingPoints(
				{ ...base, recentItems: [item({ at: jstDaysAgo(40), name: 'ローファー' }), item({ at: jstDaysAgo(25), name: 'ランニングスニーカー' })] },
				NOW
			);
			expect(point.reason).toBe('ランニングスニーカー購入から25日 → シューケア用品');
		});
	});

	it('greets an EC-only member on the first store visit', () => {
		const points = talkingPoints({ ...base, state: 'ec_only', storePurchaseCount: 0, ecOrderCount: 2 }, NOW);
		expect(points.map((p) => [p.id, p.reason])).toEqual([['ec_first_visit', 'ECのみの会員の初来店 (EC購入2回)']]);
		expect(ids({ storePurchaseCount: 1, ecOrderCount: 2 })).not.toContain('ec_first_visit');
		expect(ids({ storePurchaseCount: 0, ecOrderCount: 0, lastPurchaseAt: null })).toEqual([]);
	});

	it('marks the birthday month in Japan time', () => {
		expect(ids({ birthday: '1985-11-30' })).toEqual(['birthday_month']);
		expect(talkingPoints({ ...base, birthday: '1985-11-30' }, NOW)[0].reason).toMatch(/^誕生月 \(11月30日・あと\d+日\)$/);
		expect(ids({ birthday: '1985-12-01' })).toEqual([]);
		// 2026-11-30 16:00 UTC is already December 1st in Japan
		expect(ids({ birthday: '1985-12-24', lastPurchaseAt: jstDaysAgo(10) }, new Date('2026-11-30T16:00:00Z'))).toEqual(['birthday_month']);
	});

	it('says 「本日お誕生日」 on the day itself, and how far the birthday is otherwise', () => {
		const on = new Date('2026-12-04T03:00:00Z'); // 12:00 JST on 12月4日
		const today = talkingPoints({ ...base, birthday: '1990-12-04' }, on)[0];
		expect(today).toMatchObject({ id: 'birthday_month', title: '本日お誕生日です', reason: '今日 (12月4日) がお誕生日', titleEn: 'Birthday today' });
		expect(talkingPoints({ ...base, birthday: '1990-12-10' }, on)[0].reason).toBe('誕生月 (12月10日・あと6日)');
		expect(talkingPoints({ ...base, birthday: '1990-12-01' }, on)[0].reason).toBe('誕生月 (12月1日・3日前)');
		expect(talkingPoints({ ...base, birthday: '1990-12-01' }, on)[0].reasonEn).toBe('Birthday month (12/1, 3 days ago)');
	});

	it('welcomes a customer back after dormancy (strictly more than the threshold)', () => {
		const point = talkingPoints({ ...base, state: 'dormant', lastPurchaseAt: jstDaysAgo(200) }, NOW)[0];
		expect(point).toMatchObject({ id: 'dormant_return', reason: '休眠180日からの来店 (最終購入から200日)' });
		expect(ids({ lastPurchaseAt: jstDaysAgo(180) })).toEqual([]);
		expect(ids({ lastPurchaseAt: jstDaysAgo(181) })).toEqual(['dormant_return']);
		const config = { ...DEFAULT_TALKING_POINT_CONFIG, dormantDays: 90 };
		expect(talkingPoints({ ...base, lastPurchaseAt: jstDaysAgo(100) }, NOW, config).map((p) => p.id)).toEqual(['dormant_return']);
	});

	it('flags F2: exactly one purchase so far', () => {
		const point = talkingPoints({ ...base, state: 'first_purchase_only', storePurchaseCount: 1, lastPurchaseAt: jstDaysAgo(14) }, NOW)[0];
		expect(point).toMatchObject({ id: 'f2', reason: '2回目購入前 (F2)・初回購入 2026-11-09' });
		expect(ids({ storePurchaseCount: 2 })).toEqual([]);
	});

	describe('next action from the last consultation', () => {
		const next = (due: string) => ({ action: 'パンツの入荷連絡', due, occurredAt: jstDaysAgo(10), staffName: '佐藤' });
		it('shows a next action due today', () => {
			const [point] = talkingPoints({ ...base, lastNextAction: next('2026-11-23') }, NOW);
			expect(point).toMatchObject({ id: 'next_action_due', title: '次回アクション: パンツの入荷連絡', reason: '前回の接客の次回アクション期日 (2026-11-23・本日)' });
		});
		it('shows an overdue one, ranked higher the longer it waits', () => {
			const overdue = talkingPoints({ ...base, lastNextAction: next('2026-11-20') }, NOW)[0];
			expect(overdue.reason).toBe('前回の接客の次回アクション期日 (2026-11-20・3日超過)');
			expect(overdue.score).toBeGreaterThan(talkingPoints({ ...base, lastNextAction: next('2026-11-23') }, NOW)[0].score);
		});
		it('hides future and stale ones', () => {
			expect(ids({ lastNextAction: next('2026-11-24') })).toEqual([]);
			expect(ids({ lastNextAction: next('2026-09-01') })).toEqual([]);
		});
	});

	it('ranks by score and keeps at most five points', () => {
		const points = talkingPoints(
			{
				...base,
				state: 'dormant',
				storePurchaseCount: 0,
				ecOrderCount: 1,
				lastPurchaseAt: jstDaysAgo(200),
				birthday: '1990-11-05',
				recentItems: [item({ at: jstDaysAgo(30) })],
				lastNextAction: { action: '連絡', due: '2026-11-22', occurredAt: jstDaysAgo(30), staffName: null }
			},
			NOW
		);
		expect(points.map((p) => p.id)).toEqual(['next_action_due', 'dormant_return', 'ec_first_visit', 'f2', 'birthday_month']);
		const scores = points.map((p) => p.score);
		expect(scores).toEqual([...scores].sort((a, b) => b - a));
		const three = talkingPoints({ ...base, birthday: '1990-11-05', recentItems: [item({})], lastPurchaseAt: jstDaysAgo(200) }, NOW, {
			...DEFAULT_TALKING_POINT_CONFIG,
			maxPoints: 2
		});
		expect(three.map((p) => p.id)).toEqual(['dormant_return', 'birthday_month']);
	});
});
