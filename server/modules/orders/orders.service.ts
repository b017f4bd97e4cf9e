/**
 * EC orders and refunds as the platforms report them, applied idempotently and in any order:
 * a delivery only wins when its platform `updated_at` is newer (or equal with a more final
 * status), refunds are keyed by their own id and may land before their order, and the order's
 * net is computed from whatever refunds exist.
 */
import type { DbOrTrx, Trx } from '../../db/index.ts';
import { resolveCustomer } from '../customers/customers.service.ts';
import { findOrderState, findOrderTotals, insertRefund, lockOrderKey, replaceOrderLines, upsertOrder } from './orders.repository.ts';
import type { NormalizedOrder, NormalizedRefund, OrderKey } from './orders.types.ts';

export type { NormalizedOrder, NormalizedRefund, OrderKey };

/**
 * Extension point: runs inside the same transaction after an order or refund changed anything
 * (new state applied or a new refund stored), with the order locked. Attribution plugs in here
 * with `registerAfterOrderChange(async (trx, key) => …)`; read the order back through this
 * module (e.g. `orderNet(trx, key.platform, key.ecOrderId)`). A hook that throws rolls the
 * delivery back and the inbox retries it, so hooks must be idempotent.
 */
export type AfterOrderChangeHook = (trx: Trx, key: OrderKey) => Promise<void>;
const afterOrderChangeHooks: AfterOrderChangeHook[] = [];

/** Registers a hook once (registering the same function again is a no-op); returns an unregister function. */
export function registerAfterOrderChange(hook: AfterOrderChangeHook): () => void {
	if (!afterOrderChangeHooks.includes(hook)) afterOrderChangeHooks.push(hook);
	return () => {
		const i = afterOrderChangeHooks.indexOf(hook);
		if (i >= 0) afterOrderChangeHooks.splice(i, 1);
	};
}

async function afterOrderChange(trx: Trx, key: OrderKey): Promise<void> {
	for (const hook of afterOrderChangeHooks) await hook(trx, key);
}

const STATUS_RANK = { open: 0, cancelled: 1 } as const;

function supersedes(order: NormalizedOrder, current: { source_updated_at: Date; status: 'open' | 'cancelled' }): boolean {
	const incoming = order.sourceUpdatedAt.getTime();
	const stored = new Date(current.source_updated_at).getTime();
	if (incoming !== stored) return incoming > stored;
	return STATUS_RANK[order.status] > STATUS_RANK[current.status];
}

export interface ApplyResult {
	/** The delivered state replaced the stored one (false: older or the same). */
	applied: boolean;
	refundsAdded: number;
	customerId: string | null;
}

export async function applyOrder(trx: Trx, order: NormalizedOrder): Promise<ApplyResult> {
	const key = { platform: order.platform, ecOrderId: order.ecOrderId };
	await lockOrderKey(trx, key.platform, key.ecOrderId);
	const current = await findOrderState(trx, key.platform, key.ecOrderId);
	let applied = false;
	let customerId = current?.customer_id ?? null;
	if (!current || supersedes(order, current)) {
		// a later guest-looking payload keeps the customer an earlier one resolved
		customerId = (await resolveOrderCustomer(trx, order)) ?? customerId;
		const orderId = await upsertOrder(trx, order, customerId);
		await replaceOrderLines(trx, orderId, order.lines, { fresh: !current });
		applied = true;
	}
	let refundsAdded = 0;
	for (const refund of order.refunds) if (await insertRefund(trx, refund)) refundsAdded++;
	if (applied || refundsAdded > 0) await afterOrderChange(trx, key);
	return { applied, refundsAdded, customerId };
}

/** Stores a refund once, whether or not its order has arrived yet. */
export async function applyRefund(trx: Trx, refund: NormalizedRefund): Promise<{ applied: boolean }> {
	const key = { platform: refund.platform, ecOrderId: refund.ecOrderId };
	await lockOrderKey(trx, key.platform, key.ecOrderId);
	const applied = await insertRefund(trx, refund);
	if (applied) await afterOrderChange(trx, key);
	return { applied };
}

/** Total minus refunds (never below 0), 0 when cancelled; null when the order has not arrived. */
export async function orderNet(db: DbOrTrx, platform: string, ecOrderId: string): Promise<number | null> {
	const row = await findOrderTotals(db, platform, ecOrderId);
	if (!row) return null;
	if (row.status === 'cancelled') return 0;
	return Math.max(0, row.total_yen - Number(row.refunded_yen ?? 0));
}

async function resolveOrderCustomer(trx: Trx, order: NormalizedOrder): Promise<string | null> {
	const c = order.customer;
	const resolved = await resolveCustomer(
		trx,
		{ ec: c.ecCustomerId, email: c.email, phone: c.phone },
		{ family_name: c.familyName, given_name: c.givenName, email: c.email, phone: c.phone }
	);
	return resolved?.customerId ?? null;
}
