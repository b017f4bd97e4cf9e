/**
 * Customer state (顧客の状態) from purchase history — the one definition shared by the demo
 * seed summary, the customer profile and the reports. Pure: callers count the purchases.
 */

export type CustomerState = 'none' | 'first_purchase_only' | 'store_only' | 'ec_only' | 'cross_channel' | 'dormant';

export const DEFAULT_DORMANT_DAYS = 180;

export interface PurchaseSummary {
	/** Store receipts of kind 'sale' (returns are not purchases). */
	storeOrders: number;
	/** EC orders that are not cancelled. */
	ecOrders: number;
	lastPurchaseAt: Date | null;
	firstPurchaseAt: Date | null;
}

const DAY_MS = 86_400_000;

/**
 * dormant when the last purchase is older than `dormantDays`; otherwise cross_channel when both
 * channels were used, first_purchase_only after exactly one purchase, else store_only / ec_only.
 */
export function customerState(summary: PurchaseSummary, now: Date, dormantDays = DEFAULT_DORMANT_DAYS): CustomerState {
	const total = summary.storeOrders + summary.ecOrders;
	if (total <= 0 || !summary.lastPurchaseAt) return 'none';
	if (now.getTime() - summary.lastPurchaseAt.getTime() > dormantDays * DAY_MS) return 'dormant';
	if (summary.storeOrders > 0 && summary.ecOrders > 0) return 'cross_channel';
	if (total === 1) return 'first_purchase_only';
	return summary.storeOrders > 0 ? 'store_only' : 'ec_only';
}

/** Every state, in the order summaries and reports list them. */
export const CUSTOMER_STATES: CustomerState[] = [
	'cross_channel',
	'store_only',
	'ec_only',
	'first_purchase_only',
	'dormant',
	'none'
];
