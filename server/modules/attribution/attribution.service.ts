/**
 * Attribution as the orders module's change hook (`createAttribution`, composed in runtime.ts): after any change to orders (new state, new
 * refund), recompute their attribution from what the database holds now and write that. The
 * orders are locked by the orders service, so recomputes of one order never interleave. A batch
 * of orders costs the same few statements as one: facts + last-touch candidates, ref links,
 * the upsert, the delete.
 */
import type { Trx, DbOrTrx } from '../../db/index.ts';
import type { OrderChange, OrderKey, OrdersChangeHook } from '../orders/orders.service.ts';
import {
	deleteAttributions,
	findAttribution,
	findOrdersForAttribution,
	findRefLinks,
	upsertAttributions,
	type AttributionWrite,
	type OrderForAttribution
} from './attribution.repository.ts';
import { decideAttribution, refCodesOf, type RefLink } from './rules.ts';

export async function recomputeAttribution(trx: Trx | DbOrTrx, key: OrderKey, windowDays: number): Promise<void> {
	await recomputeAttributions(trx, [key], windowDays);
}

/** Orders not stored yet (a refund ahead of its order) are skipped: decided when the order arrives. */
export async function recomputeAttributions(trx: Trx | DbOrTrx, keys: OrderKey[], windowDays: number): Promise<void> {
	const orders = await findOrdersForAttribution(trx, keys, windowDays);
	if (orders.length === 0) return;
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
	});
	await upsertAttributions(trx, writes);
	await deleteAttributions(trx, voided);
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
		onOrdersChange: (trx: Trx, changes: OrderChange[]) => recomputeAttributions(trx, changes.map((c) => c.key), options.windowDays)
	};
}

export { findAttribution };
