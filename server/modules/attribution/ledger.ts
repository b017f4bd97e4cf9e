/**
 * The attribution ledger's rule (pure): given an order's credit before and after a recompute,
 * the entry to append, if the credit changed, and its cause. Causes: `created` (first credit),
 * `cancelled` (active → void), `refunded` (net went down by refunds), `reattributed` (another
 * staff member, or after a customer merge), `updated` (anything else: total changed, credit
 * withdrawn). `via` says where the change came from (webhook, CSV import, merge).
 */
import type { AttributionCause } from '../../db/type-overrides.ts';
import type { CreditChangeInsert, StoredCredit } from './attribution.repository.ts';

export type CreditVia = 'webhook' | 'csv' | 'merge';

/** A credit as the ledger sees it; `null` when the order is not attributed. */
export type Credit = Pick<StoredCredit, 'staff_id' | 'store_id' | 'status' | 'gross_yen' | 'refunded_yen'> | null;

export const netOf = (c: Credit): number => (c && c.status === 'active' ? Math.max(0, c.gross_yen - c.refunded_yen) : 0);

function sameCredit(a: Credit, b: Credit): boolean {
	if (a === null || b === null) return a === b;
	return a.staff_id === b.staff_id && a.status === b.status && a.gross_yen === b.gross_yen && a.refunded_yen === b.refunded_yen;
}

function causeOf(before: Credit, after: Credit, via: CreditVia): AttributionCause {
	if (via === 'merge') return 'reattributed';
	if (before === null) return 'created';
	if (after && after.staff_id !== before.staff_id) return 'reattributed';
	if (after && after.status === 'void' && before.status === 'active') return 'cancelled';
	if (after && after.refunded_yen > before.refunded_yen) return 'refunded';
	return 'updated';
}

/** The ledger entry for one order's recompute, or null when its credit did not change. */
export function creditChange(key: { platform: string; ecOrderId: string }, before: Credit, after: Credit, via: CreditVia): CreditChangeInsert | null {
	if (sameCredit(before, after)) return null;
	return {
		platform: key.platform,
		ec_order_id: key.ecOrderId,
		staff_id: after?.staff_id ?? before?.staff_id ?? null,
		store_id: after?.store_id ?? before?.store_id ?? null,
		status: after?.status ?? 'none',
		gross_yen: after?.gross_yen ?? before?.gross_yen ?? 0,
		refunded_yen: after?.refunded_yen ?? before?.refunded_yen ?? 0,
		net_yen: netOf(after),
		previous_staff_id: before?.staff_id ?? null,
		previous_net_yen: before === null ? null : netOf(before),
		cause: causeOf(before, after, via),
		via
	};
}
