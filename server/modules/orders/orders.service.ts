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
	fillOrderDetails,
	findOrderStates,
	findOrderTotals,
	insertOrderLines,
	insertRefunds,
	lockOrderKeys,
	reconcileStatedRefunds,
	recordStatedRefunds,
	upsertOrders,
	type StoredOrderState
} from './orders.repository.ts';
import type { NormalizedOrder, NormalizedRefund, OrderKey } from './orders.types.ts';

export type { NormalizedOrder, NormalizedRefund, OrderKey };

/**
 * What a change hook hears: the orders a batch changed (new state applied, details filled in, or
 * refunds added), with the order locked, inside the batch's transaction. Hooks are composed
 * explicitly (`createOrders({ onChange: [...] })` in runtime.ts); attribution is one. A hook runs
 * once per batch, after all of the batch's changes, so it must derive its result from the
 * orders' current state (read back through this module), not from which delivery triggered it.
 * A hook that throws rolls the batch back and the inbox retries it, so hooks must be idempotent.
 */
export interface OrderChange {
	key: OrderKey;
	/** The order did not exist before this batch. */
	created: boolean;
	/** New refunds were stored (or a CSV-stated refund changed). */
	refunded: boolean;
	/** Where the winning state came from: a CSV export or a webhook. */
	via: 'webhook' | 'csv';
}
export type OrdersChangeHook = (trx: Trx, changes: OrderChange[]) => Promise<void>;

/** What a batch of deliveries did (the CSV import reports these counts). */
export interface DeliveryOutcome {
	ordersWritten: number;
	linesWritten: number;
	linesUnknownSku: number;
	customersCreated: number;
	ordersWithoutCustomer: number;
}

export interface Orders {
	/** Applies deliveries and runs the composed change hooks (see `applyDeliveries`). */
	applyDeliveries(trx: Trx, deliveries: OrderDelivery[]): Promise<DeliveryOutcome>;
}

/** The orders module with its change hooks, composed once in runtime.ts. */
export function createOrders(options: { onChange?: OrdersChangeHook[] } = {}): Orders {
	const hooks = [...(options.onChange ?? [])];
	return { applyDeliveries: (trx, deliveries) => applyDeliveries(trx, deliveries, hooks) };
}

const STATUS_RANK = { open: 0, cancelled: 1 } as const;

interface OrderVersion {
	source_updated_at: Date;
	status: 'open' | 'cancelled';
	source: 'webhook' | 'csv';
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
	/** Webhook states that lost to a CSV-sourced state: they still bring ref, landing site, notes. */
	details: number[];
	refundsAdded: boolean;
	/** The largest refunded total a CSV export stated for the order in this batch. */
	stated: { amountYen: number; at: Date } | null;
}

/**
 * Applies deliveries (orders and refunds, any mix of orders, in received order) in one go:
 * 1. lock every order key (fixed order), read the stored states in one query;
 * 2. decide in memory, delivery by delivery, which states win (`supersedes`) — later deliveries
 *    of the same order compare against the earlier ones of the batch;
 * 3. resolve the customers of every applied state in one batch (in received order, so a later
 *    delivery sees the customer an earlier one created);
 * 4. write the final state of each order, its lines and the new refunds, one statement each;
 *    CSV states keep the webhook-only fields (ref, landing site, notes) and state a refunded
 *    total instead of refunds (see `reconcileStatedRefunds`);
 * 5. run the change hooks once for the orders that changed.
 * The end state is the one applying the deliveries one by one would leave, and the same whether
 * an order came by webhook, by CSV export, or both in either order.
 */
export async function applyDeliveries(trx: Trx, deliveries: OrderDelivery[], hooks: OrdersChangeHook[] = []): Promise<DeliveryOutcome> {
	const plans = new Map<string, OrderPlan>();
	for (const d of deliveries) {
		const key = deliveryKey(d);
		const k = keyOf(key.platform, key.ecOrderId);
		if (!plans.has(k)) plans.set(k, { key, stored: undefined, applied: [], details: [], refundsAdded: false, stated: null });
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
			const plan = plans.get(k)!;
			const version = current.get(k);
			if (!version || supersedes(d.order, version)) {
				current.set(k, { source_updated_at: d.order.sourceUpdatedAt, status: d.order.status, source: sourceOf(d.order) });
				plan.applied.push(i);
				applied.push(i);
			} else if (version.source === 'csv' && sourceOf(d.order) === 'webhook') {
				plan.details.push(i);
			}
			const stated = d.order.statedRefund;
			if (stated && stated.amountYen > (plan.stated?.amountYen ?? 0)) plan.stated = stated;
		}
		for (const refund of batchRefunds) if (!refunds.has(refundKeyOf(refund))) refunds.set(refundKeyOf(refund), refund);
	});
	const orderAt = (i: number) => (deliveries[i] as { order: NormalizedOrder }).order;

	// 3. customers, for every applied state in received order
	const resolved = new Map<number, string | null>();
	let customersCreated = 0;
	if (applied.length > 0) {
		const results = await resolveCustomersBatch(trx, applied.map((i) => customerItem(orderAt(i))));
		applied.forEach((i, n) => resolved.set(i, results[n]?.customerId ?? null));
		customersCreated = results.filter((r) => r?.created).length;
	}
	// a later guest-looking payload keeps the customer an earlier one resolved
	const finalCustomer = (plan: OrderPlan) =>
		plan.applied.reduce<string | null>((customerId, i) => resolved.get(i) ?? customerId, plan.stored?.customer_id ?? null);

	// 4. the final state of each order that changed, its lines, the refunds
	const winners = [...plans.entries()].filter(([, p]) => p.applied.length > 0);
	const written = await upsertOrders(trx, winners.map(([, p]) => ({ order: orderAt(p.applied.at(-1)!), customerId: finalCustomer(p) })));
	const idOf = new Map(written.map((w) => [keyOf(w.platform, w.ec_order_id), w.id]));
	await deleteOrderLines(trx, winners.filter(([, p]) => p.stored).map(([k]) => idOf.get(k)!));
	const lines = await insertOrderLines(trx, winners.map(([k, p]) => ({ orderId: idOf.get(k)!, lines: orderAt(p.applied.at(-1)!).lines })));
	const detailed = await fillOrderDetails(trx, [...plans.values()].flatMap((p) => (p.details.length > 0 ? [orderAt(p.details.at(-1)!)] : [])));
	for (const added of await insertRefunds(trx, [...refunds.values()])) {
		const refund = refunds.get(keyOf(added.platform, added.ec_refund_id))!;
		plans.get(keyOf(refund.platform, refund.ecOrderId))!.refundsAdded = true;
	}
	const statedPlans = [...plans.values()].filter((p) => p.stated);
	await recordStatedRefunds(trx, statedPlans.map((p) => ({ key: p.key, amountYen: p.stated!.amountYen, at: p.stated!.at })));
	const reconcile = [...plans.values()].filter((p) => p.stated || p.refundsAdded).map((p) => p.key);
	for (const key of await reconcileStatedRefunds(trx, reconcile)) plans.get(keyOf(key.platform, key.ecOrderId))!.refundsAdded = true;

	// 5. hooks, once per changed order
	const detailedKeys = new Set(detailed.map((d) => keyOf(d.platform, d.ecOrderId)));
	const changes = [...plans.entries()]
		.filter(([k, p]) => p.applied.length > 0 || p.refundsAdded || detailedKeys.has(k))
		.map(([, p]): OrderChange => ({
			key: p.key,
			created: !p.stored && p.applied.length > 0,
			refunded: p.refundsAdded,
			via: p.applied.length > 0 ? sourceOf(orderAt(p.applied.at(-1)!)) : (p.stored?.source ?? 'webhook')
		}));
	if (changes.length > 0) for (const hook of hooks) await hook(trx, changes);

	return {
		ordersWritten: written.length,
		linesWritten: lines.inserted,
		linesUnknownSku: lines.unknownSku,
		customersCreated,
		ordersWithoutCustomer: winners.filter(([, p]) => finalCustomer(p) === null).length
	};
}

const sourceOf = (order: NormalizedOrder): 'webhook' | 'csv' => order.source ?? 'webhook';

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

export { eraseOrdersOf } from './orders.repository.ts';
/** Merge support: the owning repository's "reassign customer" function (server/modules/identity/merge.service.ts). */
export { reassignEcOrders } from './orders.repository.ts';
