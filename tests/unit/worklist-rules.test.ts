/** Today's list rules at their boundaries: JST days, 29 February, missing birthday or purchases. */
import { describe, expect, it } from 'vitest';
import {
	birthdayIn,
	birthdayKeysInWindow,
	birthdayRule,
	crossChannelRule,
	daysBetween,
	dormancyRiskRule,
	eligibleForContact,
	groupOf,
	nextActionRule,
	nextBirthday,
	placeOnList,
	secondPurchaseRule,
	thankYouRule,
	type CustomerSummary
} from '../../server/modules/worklist/rules.ts';
import { DEFAULT_RULE_SETTINGS as S } from '../../server/modules/worklist/settings.ts';
import { describeItem } from '../../server/modules/worklist/sentences.ts';
import { applyCaps } from '../../server/modules/worklist/worklist.service.ts';
import { jstDate } from '../../server/shared/jst.ts';

const customer = (over: Partial<CustomerSummary> = {}): CustomerSummary => ({
	customerId: 'c1',
	ownerStaffId: null,
	homeStoreId: 'shibuya',
	birthday: null,
	storeOrders: 0,
	ecOrders: 0,
	firstPurchaseDay: null,
	lastPurchaseDay: null,
	lastEcDay: null,
	ltvYen: 0,
	...over
});

describe('JST days', () => {
	it('a purchase at 23:59 JST belongs to that day, one at 00:00 JST to the next', () => {
		expect(jstDate('2026-12-06T14:59:59Z')).toBe('2026-12-06');
		expect(jstDate('2026-12-06T15:00:00Z')).toBe('2026-12-07');
	});
	it('thank-you: only yesterday (JST) counts', () => {
		const sale = { purchaseId: 1, customerId: 'c1', staffId: 's1', storeId: 'shibuya', storeName: '渋谷店', totalYen: 12800, product: 'スニーカー' };
		const today = '2026-12-07';
		expect(thankYouRule({ ...sale, purchaseDay: jstDate('2026-12-06T14:59:59Z') }, today, S.thankYou)).not.toBeNull();
		expect(thankYouRule({ ...sale, purchaseDay: jstDate('2026-12-06T15:00:00Z') }, today, S.thankYou)).toBeNull(); // today
		expect(thankYouRule({ ...sale, purchaseDay: jstDate('2026-12-05T14:59:59Z') }, today, S.thankYou)).toBeNull(); // two days ago
		const item = thankYouRule({ ...sale, purchaseDay: '2026-12-06' }, today, S.thankYou)!;
		expect(item).toMatchObject({ staffId: 's1', reason: 'thank_you', occasion: 'purchase:1', dueOn: today, expiresOn: '2026-12-09' });
		expect(thankYouRule({ ...sale, staffId: null, purchaseDay: '2026-12-06' }, today, S.thankYou)).toBeNull();
		expect(thankYouRule({ ...sale, purchaseDay: '2026-12-06' }, today, { ...S.thankYou, enabled: false })).toBeNull();
	});
});

describe('birthdays', () => {
	it('29 February falls on 28 February in other years, on 29 February in leap years', () => {
		expect(birthdayIn('1992-02-29', 2027)).toBe('2027-02-28');
		expect(birthdayIn('1992-02-29', 2028)).toBe('2028-02-29');
		expect(birthdayIn('1992-02-29', 2100)).toBe('2100-02-28');
		expect(birthdayIn('1992-02-29', 2000)).toBe('2000-02-29');
		expect(nextBirthday('1992-02-29', '2027-02-28')).toBe('2027-02-28');
		expect(nextBirthday('1992-02-29', '2027-03-01')).toBe('2028-02-29');
	});
	it('the SQL keys of the window include 02-29 whenever 28 February of a non-leap year is in it', () => {
		expect(birthdayKeysInWindow('2027-02-25', 7)).toContain('02-29');
		expect(birthdayKeysInWindow('2028-02-25', 7)).toContain('02-29');
		expect(birthdayKeysInWindow('2027-03-01', 7)).not.toContain('02-29');
		expect(birthdayKeysInWindow('2026-12-28', 7)).toEqual(['12-28', '12-29', '12-30', '12-31', '01-01', '01-02', '01-03', '01-04']);
	});
	it('within N days (default 7) inclusive, today included; none without a birthday', () => {
		const today = '2026-12-07';
		expect(birthdayRule(customer({ birthday: '1990-12-07' }), today, S.birthday)).toMatchObject({ dueOn: '2026-12-07', occasion: 'birthday:2026', facts: { daysUntil: 0 } });
		expect(birthdayRule(customer({ birthday: '1990-12-14' }), today, S.birthday)).toMatchObject({ dueOn: '2026-12-14', facts: { daysUntil: 7 } });
		expect(birthdayRule(customer({ birthday: '1990-12-15' }), today, S.birthday)).toBeNull();
		expect(birthdayRule(customer({ birthday: '1990-12-06' }), today, S.birthday)).toBeNull(); // next one is a year away
		expect(birthdayRule(customer({ birthday: null }), today, S.birthday)).toBeNull();
		expect(birthdayRule(customer({ birthday: '1990-12-10' }), today, { ...S.birthday, withinDays: 2 })).toBeNull();
	});
	it('crosses the year end', () => {
		expect(birthdayRule(customer({ birthday: '1985-01-02' }), '2026-12-28', S.birthday)).toMatchObject({ dueOn: '2027-01-02', occasion: 'birthday:2027' });
	});
	it('a 29 February birthday in a non-leap year is due on 28 February', () => {
		expect(birthdayRule(customer({ birthday: '1996-02-29' }), '2027-02-22', S.birthday)).toMatchObject({ dueOn: '2027-02-28', facts: { daysUntil: 6 } });
		expect(birthdayRule(customer({ birthday: '1996-02-29' }), '2028-02-22', S.birthday)).toMatchObject({ dueOn: '2028-02-29', facts: { daysUntil: 7 } });
	});
	it('goes to the owner, else the store book; nowhere without a home store', () => {
		expect(birthdayRule(customer({ birthday: '1990-12-08', ownerStaffId: 's9' }), '2026-12-07', S.birthday)).toMatchObject({ staffId: 's9', storeId: 'shibuya' });
		expect(birthdayRule(customer({ birthday: '1990-12-08' }), '2026-12-07', S.birthday)).toMatchObject({ staffId: null, storeId: 'shibuya' });
		expect(birthdayRule(customer({ birthday: '1990-12-08', homeStoreId: null }), '2026-12-07', S.birthday)).toBeNull();
		expect(placeOnList({ ownerStaffId: 's1', homeStoreId: null })).toBeNull();
	});
});

describe('second-purchase nudge', () => {
	const first = (day: string, over: Partial<CustomerSummary> = {}) =>
		customer({ storeOrders: 1, firstPurchaseDay: day, lastPurchaseDay: day, firstProductName: '撥水レザースニーカー', firstChannelName: '渋谷店', ...over });
	it('21 to 45 days after the only purchase, both ends included', () => {
		const today = '2026-12-07';
		expect(secondPurchaseRule(first(addDaysTo(today, -20)), today, S.secondPurchase)).toBeNull();
		expect(secondPurchaseRule(first(addDaysTo(today, -21)), today, S.secondPurchase)).toMatchObject({ facts: { daysSinceFirst: 21 } });
		expect(secondPurchaseRule(first(addDaysTo(today, -45)), today, S.secondPurchase)).toMatchObject({ expiresOn: today });
		expect(secondPurchaseRule(first(addDaysTo(today, -46)), today, S.secondPurchase)).toBeNull();
	});
	it('not after a second purchase, not without purchases', () => {
		expect(secondPurchaseRule(first('2026-11-09', { ecOrders: 1 }), '2026-12-07', S.secondPurchase)).toBeNull();
		expect(secondPurchaseRule(customer(), '2026-12-07', S.secondPurchase)).toBeNull();
	});
	it('says why, with its facts', () => {
		const item = secondPurchaseRule(first('2026-11-09'), '2026-12-07', S.secondPurchase)!;
		expect(describeItem(item.reason, item.facts, item.dueOn, '2026-12-07').ja).toBe('初回購入から28日 · 撥水レザースニーカー · 渋谷店');
		expect(describeItem(item.reason, item.facts, item.dueOn, '2026-12-07').en).toBe('28 days since first purchase · 撥水レザースニーカー · 渋谷店');
	});
});

describe('dormancy risk', () => {
	const today = '2026-12-07';
	const last = (daysAgo: number, ltvYen = 100_000) => customer({ storeOrders: 3, lastPurchaseDay: addDaysTo(today, -daysAgo), firstPurchaseDay: '2025-01-01', ltvYen });
	it('from DORMANT_DAYS − leadDays to DORMANT_DAYS days since the last purchase', () => {
		expect(dormancyRiskRule(last(149), today, 50_000, S.dormancy, 180)).toBeNull();
		expect(dormancyRiskRule(last(150), today, 50_000, S.dormancy, 180)).not.toBeNull();
		expect(dormancyRiskRule(last(180), today, 50_000, S.dormancy, 180)).toMatchObject({ expiresOn: today });
		expect(dormancyRiskRule(last(181), today, 50_000, S.dormancy, 180)).toBeNull(); // already dormant
	});
	it('only above the store median; never without purchases or a median', () => {
		expect(dormancyRiskRule(last(160, 50_000), today, 50_000, S.dormancy, 180)).toBeNull();
		expect(dormancyRiskRule(last(160, 50_001), today, 50_000, S.dormancy, 180)).not.toBeNull();
		expect(dormancyRiskRule(customer(), today, 50_000, S.dormancy, 180)).toBeNull();
		expect(dormancyRiskRule(last(160), today, null, S.dormancy, 180)).toBeNull();
	});
	it('follows DORMANT_DAYS', () => {
		expect(dormancyRiskRule(last(80), today, 0, S.dormancy, 90)).not.toBeNull();
		expect(dormancyRiskRule(last(50), today, 0, S.dormancy, 90)).toBeNull();
	});
});

describe('cross-channel invitation', () => {
	const today = '2026-12-07';
	it('EC-only customers of a store book, not store buyers, not dormant ones, not without a home store', () => {
		const ec = customer({ ecOrders: 2, lastEcDay: '2026-11-01', lastPurchaseDay: '2026-11-01', firstPurchaseDay: '2026-10-01' });
		expect(crossChannelRule(ec, today, S.crossChannel, 180)).toMatchObject({ reason: 'cross_channel', storeId: 'shibuya', staffId: null });
		expect(crossChannelRule({ ...ec, storeOrders: 1 }, today, S.crossChannel, 180)).toBeNull();
		expect(crossChannelRule({ ...ec, homeStoreId: null }, today, S.crossChannel, 180)).toBeNull();
		expect(crossChannelRule({ ...ec, lastEcDay: addDaysTo(today, -181) }, today, S.crossChannel, 180)).toBeNull();
		expect(crossChannelRule({ ...ec, lastEcDay: addDaysTo(today, -180) }, today, S.crossChannel, 180)).not.toBeNull();
		expect(crossChannelRule(customer(), today, S.crossChannel, 180)).toBeNull();
	});
});

describe('next actions', () => {
	const base = { consultationId: 'k1', customerId: 'c1', staffId: 's1', storeId: 'shibuya', storeName: '渋谷店', staffName: '鈴木', action: '入荷連絡', occurredOn: '2026-11-20' };
	it('due today or overdue, however old; upcoming within the look-ahead; no expiry', () => {
		expect(nextActionRule({ ...base, dueOn: '2026-12-07' }, '2026-12-07', S.nextAction)).toMatchObject({ expiresOn: null, occasion: 'consultation:k1' });
		expect(nextActionRule({ ...base, dueOn: '2024-01-01' }, '2026-12-07', S.nextAction)).toMatchObject({ dueOn: '2024-01-01' });
		expect(nextActionRule({ ...base, dueOn: '2026-12-10' }, '2026-12-07', S.nextAction)).toMatchObject({ visibleFrom: '2026-12-07' });
		expect(nextActionRule({ ...base, dueOn: '2026-12-11' }, '2026-12-07', S.nextAction)).toBeNull();
		expect(nextActionRule({ ...base, dueOn: '2026-12-07', action: '  ' }, '2026-12-07', S.nextAction)).toBeNull();
		expect(nextActionRule({ ...base, dueOn: null }, '2026-12-07', S.nextAction)).toBeNull();
	});
	it('an overdue next action stays in the overdue group however old', () => {
		const item = nextActionRule({ ...base, dueOn: '2025-06-01' }, '2025-06-01', S.nextAction)!;
		const open = { state: 'open', dueOn: item.dueOn, visibleFrom: item.visibleFrom, expiresOn: item.expiresOn, snoozedUntil: null };
		expect(groupOf(open, '2026-12-07')).toBe('overdue');
		expect(describeItem('next_action', item.facts, item.dueOn, '2025-06-04').ja).toContain('期限から3日超過');
	});
});

describe('groups', () => {
	const item = { state: 'open', dueOn: '2026-12-07', visibleFrom: '2026-12-01', expiresOn: '2026-12-09', snoozedUntil: null };
	it('overdue / today / upcoming by due date; hidden when expired, not yet visible, done or snoozed', () => {
		expect(groupOf(item, '2026-12-07')).toBe('today');
		expect(groupOf(item, '2026-12-08')).toBe('overdue');
		expect(groupOf(item, '2026-12-09')).toBe('overdue');
		expect(groupOf(item, '2026-12-10')).toBeNull();
		expect(groupOf(item, '2026-12-05')).toBe('upcoming');
		expect(groupOf(item, '2026-11-30')).toBeNull();
		expect(groupOf({ ...item, state: 'done' }, '2026-12-07')).toBeNull();
		expect(groupOf({ ...item, state: 'snoozed', snoozedUntil: '2026-12-08' }, '2026-12-07')).toBeNull();
		expect(groupOf({ ...item, state: 'snoozed', snoozedUntil: '2026-12-08' }, '2026-12-08')).toBe('overdue');
	});
});

describe('eligibility and caps', () => {
	const ok = { line_user_id: 'U1', line_friend: true, line_blocked_at: null, consent_messages: true, merged_into: null };
	it('reachable on LINE with consent only', () => {
		expect(eligibleForContact(ok)).toBe(true);
		expect(eligibleForContact({ ...ok, line_blocked_at: new Date() })).toBe(false);
		expect(eligibleForContact({ ...ok, consent_messages: false })).toBe(false);
		expect(eligibleForContact({ ...ok, line_friend: false })).toBe(false);
		expect(eligibleForContact({ ...ok, line_user_id: null })).toBe(false);
		expect(eligibleForContact({ ...ok, merged_into: 'x' })).toBe(false);
	});
	it('caps open items per list and reason, best ranked first', () => {
		const mk = (id: string, ltv: number) => dormancyRiskRule(customer({ customerId: id, storeOrders: 2, lastPurchaseDay: '2026-07-01', ltvYen: ltv }), '2026-12-07', 0, S.dormancy, 180)!;
		const picked = applyCaps([mk('a', 1), mk('b', 3), mk('c', 2)], new Map([['book:shibuya|dormancy_risk', 3]]), { ...S, dormancy: { ...S.dormancy, maxOpenPerList: 5 } });
		expect(picked.map((c) => c.customerId)).toEqual(['b', 'c']);
	});
});

function addDaysTo(date: string, days: number): string {
	return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}
