/**
 * Attribution as an `afterOrderChange` hook: after any change to an order (new state, new
 * refund), recompute its attribution from what the database holds now and write that. The
 * order is locked by the orders service, so recomputes of one order never interleave.
 */
import type { Trx, DbOrTrx } from '../../db/index.ts';
import { registerAfterOrderChange, type AfterOrderChangeHook, type OrderKey } from '../orders/orders.service.ts';
import { deleteAttribution, findAttribution, findOrderForAttribution, findRefLinks, upsertAttribution } from './attribution.repository.ts';
import { decideAttribution, refCodesOf } from './rules.ts';

export async function recomputeAttribution(trx: Trx | DbOrTrx, key: OrderKey, windowDays: number): Promise<void> {
	const order = await findOrderForAttribution(trx, key.platform, key.ecOrderId, windowDays);
	if (!order) return; // a refund ahead of its order: decided when the order arrives
	const orderedAt = new Date(order.ordered_at);
	const codes = refCodesOf(parseNotes(order.note_attributes), order.ref_code, order.landing_site);
	const refs = await findRefLinks(trx, codes, orderedAt);
	// last touch only decides when no ref does
	const clicks = refs.length === 0 ? order.recentClicks : [];
	const decision = decideAttribution(
		{ orderedAt, customerId: order.customer_id, status: order.status, totalYen: order.total_yen, refundedYen: Number(order.refunded_yen ?? 0) },
		refs,
		clicks,
		windowDays
	);
	if (decision) await upsertAttribution(trx, key, order.customer_id, orderedAt, decision);
	else await deleteAttribution(trx, key);
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

const hooks = new Map<number, AfterOrderChangeHook>();

/** Registers the hook for this window (once per window length; re-registering is a no-op). */
export function registerAttribution(windowDays: number): () => void {
	let hook = hooks.get(windowDays);
	if (!hook) {
		hook = (trx, key) => recomputeAttribution(trx, key, windowDays);
		hooks.set(windowDays, hook);
	}
	return registerAfterOrderChange(hook);
}

export { findAttribution };
