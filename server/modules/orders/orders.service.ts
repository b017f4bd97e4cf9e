/**
 * EC orders and refunds as the platforms report them, applied idempotently and in any order:
 * a delivery only wins when its platform `updated_at` is newer (or equal with a more final
 * status), refunds are keyed by their own id and may land before their order, and the order's
 * net is computed from whatever refunds exist.
 *
 * Deliveries are applied a batch at a time (`applyDeliveries`): the rules are decided in memory
 * in received order, exactly as applying them one by one would, and the database sees a fixed
 * handful of set-based statements whatever the batch size. A single delivery is a batch of one.
 */
import type { DbOrTrx, Trx } from '../../db/index.ts';
import { resolveCustomersBatch, type BatchResolveItem } from '../customers/customers.service.ts';
import {
	deleteOrderLines,
	findOrderStates,
	findOrderTotals,
	insertOrderLines,
	insertRefunds,
	lockOrderKeys,
	upsertOrders,
	type StoredOrderState
} from './orders.repository.ts';
import type { NormalizedOrder, NormalizedRefund, OrderKey } from './orders.types.ts';

export type { NormalizedOrder, NormalizedRefund, OrderKey };

/**
 * Extension point: runs inside the same transaction after deliveries changed an order (new
 * state applied or a new refund stored), with the order locked. Attribution plugs in here with
 * `registerAfterOrderChange(async (trx, key) => …)`; read the order back through this module
 * (e.g. `orderNet(trx, key.platform, key.ecOrderId)`). A hook runs once per changed order per
 * batch, after all of the batch's changes to it, so it must derive its result from the order's
 * current state (not from which delivery triggered it). An optional `many` runs once for all the
 * changed orders of a batch instead. A hook that throws rolls the batch back and the inbox
 * retries it, so hooks must be idempotent.
 */
export type AfterOrderChangeHook = ((trx: Trx, key: OrderKey) => Promise<void>) & {
	many?: (trx: Trx, keys: OrderKey[]) => Promise<void>;
};
const afterOrderChangeHooks: AfterOrderChangeHook[] = [];

/** Registers a hook once (registering the same function again is a no-op); returns an unregister function. */
export function registerAfterOrderChange(hook: AfterOrderChangeHook): () => void {
	if (!afterOrderChangeHooks.includes(hook)) afterOrderChangeHooks.push(hook);
	return () => {
		const i = afterOrderChangeHooks.indexOf(hook);
		if (i >= 0) afterOrderChangeHooks.splice(i, 1);
	};
}

async function afterOrdersChange(trx: Trx, keys: OrderKey[]): Promise<void> {
	if (keys.length === 0) return;
	for (const hook of [...afterOrderChangeHooks]) {
		if (hook.many) await hook.many(trx, keys);
		else for (const key of keys) await hook(trx, key);
	}
}

const STATUS_RANK = { open: 0, cancelled: 1 } as const;

interface OrderVersion {
	source_updated_at: Date;
	status: 'open' | 'cancelled';
}

function supersedes(order: NormalizedOrder, current: OrderVersion): boolean {
	const incoming = order.sourceUpdatedAt.getTime();
	const stored = new Date(current.source_updated_at).getTime();
	if (incoming !== stored) return incoming > stored;
	return STATUS_RANK[order.status] > STATUS_RANK[current.status];
}

export type OrderDelivery = { kind: 'order'; order: NormalizedOrder } | { kind: 'refund'; refund: NormalizedRefund };

const keyOf = (platform: string, ecOrderId: string) => `${platform}\u0000${ecOrderId}`;
const refundKeyOf = (refund: NormalizedRefund) => keyOf(refund.platform, refund.ecRefundId);
const deliveryKey = (d: OrderDelivery): OrderKey =>
	d.kind === 'order' ? { platform: d.order.platform, ecOrderId: d.order.ecOrderId } : { platform: d.refund.platform, ecOrderId: d.refund.ecOrderId };

/** Per order key, what the batch does to it. */
interface OrderPlan {
	key: OrderKey;
	stored: StoredOrderState | undefined;
	/** Indexes (into the deliveries) of the order states applied, in received order. */
	applied: number[];
	refundsAdded: boolean;
}

/**
 * Applies deliveries (orders and refunds, any mix of orders, in received order) in one go:
 * 1. lock every order key (fixed order), read the stored states in one query;
 * 2. decide in memory, delivery by delivery, which states win (`supersedes`) — later deliveries
 *    of the same order compare against the earlier ones of the batch;
 * 3. resolve the customers of every applied state in one batch (in received order, so a later
 *    delivery sees the customer an earlier one created);
 * 4. write the final state of each order, its lines and the new refunds, one statement each;
 * 5. run the afterOrderChange hooks once for the orders that changed.
 * The end state is the one applying the deliveries one by one would leave.
 */
export async function applyDeliveries(trx: Trx, deliveries: OrderDelivery[]): Promise<void> {
	const plans = new Map<string, OrderPlan>();
	for (const d of deliveries) {
		const key = deliveryKey(d);
		const k = keyOf(key.platform, key.ecOrderId);
		if (!plans.has(k)) plans.set(k, { key, stored: undefined, applied: [], refundsAdded: false });
	}
	const keys = [...plans.values()].map((p) => p.key);
	await lockOrderKeys(trx, keys);
	for (const state of await findOrderStates(trx, keys)) plans.get(keyOf(state.platform, state.ec_order_id))!.stored = state;

	// 2. which states win (indexes in received order), and every refund once
	const current = new Map<string, OrderVersion>();
	for (const [k, plan] of plans) if (plan.stored) current.set(k, plan.stored);
	const applied: number[] = [];
	const refunds = new Map<string, NormalizedRefund>();
	deliveries.forEach((d, i) => {
		const batchRefunds = d.kind === 'order' ? d.order.refunds : [d.refund];
		if (d.kind === 'order') {
			const k = keyOf(d.order.platform, d.order.ecOrderId);
			const version = current.get(k);
			if (!version || supersedes(d.order, version)) {
				current.set(k, { source_updated_at: d.order.sourceUpdatedAt, status: d.order.status });
				plans.get(k)!.applied.push(i);
				applied.push(i);
			}
		}
		for (const refund of batchRefunds) if (!refunds.has(refundKeyOf(refund))) refunds.set(refundKeyOf(refund), refund);
	});
	const orderAt = (i: number) => (deliveries[i] as { order: NormalizedOrder }).order;

	// 3. customers, for every applied state in received order
	const resolved = new Map<number, string | null>();
	if (applied.length > 0) {
		const results = await resolveCustomersBatch(trx, applied.map((i) => customerItem(orderAt(i))));
		applied.forEach((i, n) => resolved.set(i, results[n]?.customerId ?? null));
	}
	// a later guest-looking payload keeps the customer an earlier one resolved
	const finalCustomer = (plan: OrderPlan) =>
		plan.applied.reduce<string | null>((customerId, i) => resolved.get(i) ?? customerId, plan.stored?.customer_id ?? null);

	// 4. the final state of each order that changed, its lines, the refunds
	const winners = [...plans.entries()].filter(([, p]) => p.applied.length > 0);
	const written = await upsertOrders(trx, winners.map(([, p]) => ({ order: orderAt(p.applied.at(-1)!), customerId: finalCustomer(p) })));
	const idOf = new Map(written.map((w) => [keyOf(w.platform, w.ec_order_id), w.id]));
	await deleteOrderLines(trx, winners.filter(([, p]) => p.stored).map(([k]) => idOf.get(k)!));
	await insertOrderLines(trx, winners.map(([k, p]) => ({ orderId: idOf.get(k)!, lines: orderAt(p.applied.at(-1)!).lines })));
	for (const added of await insertRefunds(trx, [...refunds.values()])) {
		const refund = refunds.get(keyOf(added.platform, added.ec_refund_id))!;
		plans.get(keyOf(refund.platform, refund.ecOrderId))!.refundsAdded = true;
	}

	// 5. hooks, once per changed order
	await afterOrdersChange(trx, [...plans.values()].filter((p) => p.applied.length > 0 || p.refundsAdded).map((p) => p.key));
}

/** Total minus refunds (never below 0), 0 when cancelled; null when the order has not arrived. */
export async function orderNet(db: DbOrTrx, platform: string, ecOrderId: string): Promise<number | null> {
	const row = await findOrderTotals(db, platform, ecOrderId);
	if (!row) return null;
	if (row.status === 'cancelled') return 0;
	return Math.max(0, row.total_yen - Number(row.refunded_yen ?? 0));
}

function customerItem(order: NormalizedOrder): BatchResolveItem {
	const c = order.customer;
	return {
		identities: { ec: c.ecCustomerId, email: c.email, phone: c.phone },
		profile: { family_name: c.familyName, given_name: c.givenName, email: c.email, phone: c.phone }
	};
}
