import { describe, expect, it } from 'vitest';
import { customerState, type PurchaseSummary } from '../../server/modules/customers/state.ts';

const now = new Date('2026-11-23T12:00:00+09:00');
const daysAgo = (d: number) => new Date(now.getTime() - d * 86_400_000);
const summary = (storeOrders: number, ecOrders: number, lastDaysAgo: number | null): PurchaseSummary => ({
	storeOrders,
	ecOrders,
	lastPurchaseAt: lastDaysAgo === null ? null : daysAgo(lastDaysAgo),
	firstPurchaseAt: lastDaysAgo === null ? null : daysAgo(lastDaysAgo + 30)
});

describe('customerState', () => {
	it('is none without purchases', () => {
		expect(customerState(summary(0, 0, null), now)).toBe('none');
	});

	it('counts one purchase in either channel as first_purchase_only', () => {
		expect(customerState(summary(1, 0, 10), now)).toBe('first_purchase_only');
		expect(customerState(summary(0, 1, 10), now)).toBe('first_purchase_only');
	});

	it('separates store-only, EC-only and cross-channel buyers', () => {
		expect(customerState(summary(3, 0, 5), now)).toBe('store_only');
		expect(customerState(summary(0, 2, 5), now)).toBe('ec_only');
		expect(customerState(summary(1, 1, 5), now)).toBe('cross_channel');
	});

	it('puts dormancy before every other state, strictly after the threshold', () => {
		expect(customerState(summary(1, 1, 181), now)).toBe('dormant');
		expect(customerState(summary(1, 0, 200), now)).toBe('dormant');
		expect(customerState(summary(2, 0, 180), now)).toBe('store_only');
	});

	it('honours a configured dormancy threshold', () => {
		expect(customerState(summary(2, 0, 100), now, 90)).toBe('dormant');
		expect(customerState(summary(2, 0, 100), now, 120)).toBe('store_only');
	});
});
