import { describe, expect, it } from 'vitest';
import { decideAttribution, lastTouch, refCodesOf, type ClickFacts, type OrderFacts, type RefLink } from '../../server/modules/attribution/rules.ts';

const ORDERED_AT = new Date('2026-11-20T10:00:00+09:00');
const DAY = 86_400_000;

const order = (over: Partial<OrderFacts> = {}): OrderFacts => ({
	orderedAt: ORDERED_AT,
	customerId: 'cust-1',
	status: 'open',
	totalYen: 12_800,
	refundedYen: 0,
	...over
});

const click = (code: string, msBefore: number, staffId = `staff-${code}`): ClickFacts => ({
	clickId: `click-${code}-${msBefore}`,
	code,
	clickedAt: new Date(ORDERED_AT.getTime() - msBefore),
	staffId,
	storeId: 'shibuya',
	followUpId: `fu-${code}`
});

const ref = (code: string, staffId = `staff-${code}`): RefLink => ({ code, staffId, storeId: 'shinjuku', followUpId: `fu-${code}`, clickId: null });

describe('decideAttribution', () => {
	it('credits the ref link even when the customer clicked someone else more recently', () => {
		const d = decideAttribution(order(), [ref('REFCODE')], [click('OTHER', 60_000)], 30);
		expect(d).toMatchObject({ rule: 'ref', staffId: 'staff-REFCODE', storeId: 'shinjuku', linkCode: 'REFCODE', status: 'active', grossYen: 12_800 });
	});

	it('credits a ref for a guest order (no known customer)', () => {
		expect(decideAttribution(order({ customerId: null }), [ref('R1')], [], 30)?.staffId).toBe('staff-R1');
	});

	it('falls back to the most recent click of a known member (last touch)', () => {
		const d = decideAttribution(order(), [], [click('OLD', 5 * DAY), click('NEW', 2 * DAY), click('MID', 3 * DAY)], 30);
		expect(d).toMatchObject({ rule: 'last_touch', staffId: 'staff-NEW', linkCode: 'NEW', clickId: `click-NEW-${2 * DAY}`, followUpId: 'fu-NEW' });
	});

	it('gives nothing to a guest without a ref', () => {
		expect(decideAttribution(order({ customerId: null }), [], [click('A', DAY)], 30)).toBeNull();
	});

	it('includes a click exactly at the window edge and excludes one a millisecond older', () => {
		expect(decideAttribution(order(), [], [click('EDGE', 30 * DAY)], 30)?.linkCode).toBe('EDGE');
		expect(decideAttribution(order(), [], [click('PAST', 30 * DAY + 1)], 30)).toBeNull();
		// the window is configurable
		expect(decideAttribution(order(), [], [click('PAST', 30 * DAY + 1)], 31)?.linkCode).toBe('PAST');
		expect(decideAttribution(order(), [], [click('WEEK', 8 * DAY)], 7)).toBeNull();
	});

	it('ignores clicks after the order', () => {
		expect(decideAttribution(order(), [], [click('LATER', -1000)], 30)).toBeNull();
		expect(decideAttribution(order(), [], [click('LATER', -1000), click('BEFORE', 1000)], 30)?.linkCode).toBe('BEFORE');
	});

	it('voids a cancelled order but keeps who would have been credited', () => {
		const d = decideAttribution(order({ status: 'cancelled' }), [ref('R1')], [], 30);
		expect(d).toMatchObject({ status: 'void', staffId: 'staff-R1' });
	});

	it('reduces the net by a partial refund and never below zero', () => {
		expect(decideAttribution(order({ refundedYen: 3_000 }), [ref('R1')], [], 30)).toMatchObject({ grossYen: 12_800, refundedYen: 3_000 });
		expect(decideAttribution(order({ refundedYen: 99_999 }), [ref('R1')], [], 30)).toMatchObject({ refundedYen: 12_800 });
	});

	it('a refund stored before the order arrived counts once the order is decided', () => {
		// the service recomputes from current state: the refund is simply already there
		const before = decideAttribution(order({ refundedYen: 2_000 }), [ref('R1')], [], 30);
		const after = decideAttribution(order({ refundedYen: 2_000 }), [ref('R1')], [], 30);
		expect(before).toEqual(after);
		expect(before?.refundedYen).toBe(2_000);
	});

	it('is a function of its inputs: duplicates and reordering of clicks give the same answer', () => {
		const clicks = [click('A', 3 * DAY), click('B', DAY), click('C', 2 * DAY)];
		const once = decideAttribution(order(), [], clicks, 30);
		const dup = decideAttribution(order(), [], [...clicks, ...clicks].reverse(), 30);
		expect(dup).toEqual(once);
	});

	it('breaks a same-millisecond tie deterministically', () => {
		const a = { ...click('A', DAY), clickId: 'a' };
		const b = { ...click('B', DAY), clickId: 'b' };
		expect(lastTouch(ORDERED_AT, [a, b], 30)?.code).toBe('B');
		expect(lastTouch(ORDERED_AT, [b, a], 30)?.code).toBe('B');
	});
});

describe('refCodesOf', () => {
	it('prefers the cart attribute, then the extracted ref, then the landing page query', () => {
		expect(refCodesOf([{ name: 'tsunagu_ref', value: ' CART ' }], 'EXTRACTED', '/products/x?tsunagu_ref=LANDING')).toEqual(['CART', 'EXTRACTED', 'LANDING']);
		expect(refCodesOf([], null, '/products/x?utm_source=line&tsunagu_ref=LANDING')).toEqual(['LANDING']);
		expect(refCodesOf([{ name: 'tsunagu_ref', value: 'X' }], 'X', null)).toEqual(['X']);
		expect(refCodesOf(null, null, null)).toEqual([]);
		expect(refCodesOf([{ name: 'gift', value: 'yes' }], null, 'http://[bad')).toEqual([]);
	});
});
