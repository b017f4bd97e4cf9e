/**
 * Attribution as the orders module's change hook (`createAttribution`, composed in
 * server/compose.ts): after any change to orders (new state, new refund, webhook or CSV),
 * recompute their attribution from what the database holds now, write that, and append every
 * change of credit to the ledger (`attribution_changes`, see ledger.ts) with its cause. The
 * orders are locked by the orders service, so recomputes of one order never interleave. A batch
 * of orders costs the same few statements as one: the stored credits, facts + last-touch
 * candidates, ref links, the upsert, the delete, the ledger entries.
 */
import * as v from 'valibot';
import type { Trx, DbOrTrx } from '../../db/index.ts';
import { defineSetting, readSetting } from '../settings/settings.service.ts';
import type { OrderChange, OrderKey, OrdersChangeHook } from '../orders/orders.service.ts';
import {
	appendCreditChanges,
	deleteAttributions,
	findAttribution,
	findCreditHistory,
	findCredits,
	type CreditHistoryRow,
	type CreditChangeInsert,
	type StoredCredit,
	findOrdersForAttribution,
	findRefLinks,
	upsertAttributions,
	type AttributionWrite,
	type OrderForAttribution
} from './attribution.repository.ts';
import { creditChange, type Credit, type CreditVia } from './ledger.ts';
import { decideAttribution, refCodesOf, type RefLink } from './rules.ts';

/**
 * Recomputes the given orders' credit. `via` tells the ledger where the change came from, per
 * order key (default webhook). Orders not stored yet (a refund ahead of its order) are skipped:
 * decided when the order arrives.
 */
export async function recomputeAttributions(
	trx: Trx | DbOrTrx,
	keys: OrderKey[],
	windowDays: number,
	via: (key: OrderKey) => CreditVia = () => 'webhook'
): Promise<void> {
	const [orders, stored] = await Promise.all([findOrdersForAttribution(trx, keys, windowDays), findCredits(trx, keys)]);
	if (orders.length === 0) return;
	const before = new Map<string, StoredCredit>(stored.map((c) => [`${c.platform}\u0000${c.ec_order_id}`, c]));
	const ledger: CreditChangeInsert[] = [];
	const codes = orders.map((o) => refCodesOf(parseNotes(o.note_attributes), o.ref_code, o.landing_site));
	const refs = await refLinksByOrder(trx, orders, codes);
	const writes: AttributionWrite[] = [];
	const voided: OrderKey[] = [];
	orders.forEach((order, i) => {
		const key = { platform: order.platform, ecOrderId: order.ec_order_id };
		const orderedAt = new Date(order.ordered_at);
		const found = refs[i];
		// last touch only decides when no ref does
		const clicks = found.length === 0 ? order.recentClicks : [];
		const decision = decideAttribution(
			{ orderedAt, customerId: order.customer_id, status: order.status, totalYen: order.total_yen, refundedYen: Number(order.refunded_yen ?? 0) },
			found,
			clicks,
			windowDays
		);
		if (decision) writes.push({ key, customerId: order.customer_id, orderedAt, decision });
		else voided.push(key);
		const after: Credit = decision
			? { staff_id: decision.staffId, store_id: decision.storeId, status: decision.status, gross_yen: decision.grossYen, refunded_yen: decision.refundedYen }
			: null;
		const entry = creditChange(key, before.get(`${key.platform}\u0000${key.ecOrderId}`) ?? null, after, via(key));
		if (entry) ledger.push(entry);
	});
	await upsertAttributions(trx, writes);
	await deleteAttributions(trx, voided);
	await appendCreditChanges(trx, ledger);
}

/**
 * Re-decides orders after their customer changed (e.g. two customers merged): the ledger records
 * the change as `reattributed`. No merge flow calls it yet; it is the entry point for one.
 */
export async function reattributeOrders(trx: Trx, keys: OrderKey[], windowDays: number): Promise<void> {
	await recomputeAttributions(trx, keys, windowDays, () => 'merge');
}

/** Per order, the tracked links of its ref codes in the codes' priority order. */
async function refLinksByOrder(trx: Trx | DbOrTrx, orders: OrderForAttribution[], codes: string[][]): Promise<RefLink[][]> {
	const requests = orders.flatMap((o, i) => codes[i].map((code) => ({ order: i, code, orderedAt: new Date(o.ordered_at) })));
	const found = new Map<string, RefLink>();
	for (const { order, ...link } of await findRefLinks(trx, requests)) found.set(`${order}\u0000${link.code}`, link);
	return codes.map((list, i) => list.flatMap((code) => found.get(`${i}\u0000${code}`) ?? []));
}

function parseNotes(value: unknown): Array<{ name: string; value: string }> {
	const list = typeof value === 'string' ? safeJson(value) : value;
	if (!Array.isArray(list)) return [];
	return list.filter((n): n is { name: string; value: string } => typeof n?.name === 'string' && typeof n?.value === 'string');
}

function safeJson(text: string): unknown {
	try {
		return JSON.parse(text);
	} catch {
		return null;
	}
}

export interface Attribution {
	/** The orders module's change hook: recomputes the changed orders' credit (composed in runtime.ts). */
	onOrdersChange: OrdersChangeHook;
}

/** Attribution with its window (days of last touch), composed into the orders module by runtime.ts. */
export function createAttribution(options: { windowDays: number }): Attribution {
	return {
		onOrdersChange: (trx: Trx, changes: OrderChange[]) => {
			const via = new Map(changes.map((c) => [`${c.key.platform}\u0000${c.key.ecOrderId}`, c.via]));
			return recomputeAttributions(trx, changes.map((c) => c.key), options.windowDays, (k) => via.get(`${k.platform}\u0000${k.ecOrderId}`) ?? 'webhook');
		}
	};
}

/**
 * The brand's holding period: credit for an order counts as 確定 (confirmed) once this many
 * days have passed since the order (the usual return window), 未確定 (pending) before.
 */
export const CREDIT_HOLDING_DAYS = defineSetting('attribution.holding_days', v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(365)), 14);

/** Orders placed before this instant have confirmed credit. */
export async function confirmedBefore(db: DbOrTrx, now = new Date()): Promise<Date> {
	const days = await readSetting(db, CREDIT_HOLDING_DAYS);
	return new Date(now.getTime() - days * 86_400_000);
}

export type CreditHistoryEntry = Omit<CreditHistoryRow, 'ecOrderId' | 'changedAt'> & { changedAt: string };

/** Each order's credit history (oldest first), from the ledger. */
export async function creditHistories(db: DbOrTrx, platform: string, ecOrderIds: string[]): Promise<Map<string, CreditHistoryEntry[]>> {
	const out = new Map<string, CreditHistoryEntry[]>();
	for (const { ecOrderId, changedAt, ...entry } of await findCreditHistory(db, platform, ecOrderIds)) {
		const list = out.get(ecOrderId) ?? [];
		list.push({ ...entry, changedAt: new Date(changedAt).toISOString() });
		out.set(ecOrderId, list);
	}
	return out;
}

export { findAttribution };

/** Merge support: the owning repository's "reassign customer" function (server/modules/identity/merge.service.ts). */
export { reassignAttributions } from './attribution.repository.ts';
