/**
 * The inbox applies a claimed batch of Shopify deliveries set-based (orders.service
 * applyDeliveries). These tests hold it to the one-by-one result: the same deliveries, received
 * in the same order, processed as one batch on one database and one row per transaction on
 * another, leave the same orders, lines, refunds, customers and attributions.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../server/db/index.ts';
import { closeLinks } from '../../server/modules/links/links.service.ts';
import { processInboxBatch, type InboxHandlers } from '../../server/modules/webhooks/inbox.service.ts';
import { shopifyInboxHandler } from '../../server/modules/webhooks/shopify.handler.ts';
import type { Runtime } from '../../server/runtime.ts';
import { buildOrderPayload, buildRefundPayload, shopifyHeaders, shopifyJson, type OrderPayloadInput, type RefundPayloadInput } from '../../server/sandbox/shopify.ts';
import { testDbKinds } from '../helpers/db.ts';
import { createTestRuntime, testOrders } from '../helpers/runtime.ts';

const HANDLERS: InboxHandlers = { shopify: shopifyInboxHandler(testOrders) };
const DAY = 86_400_000;
const ORDERED = '2026-11-20T10:00:00+09:00';
const at = (offsetMs: number) => new Date(new Date(ORDERED).getTime() + offsetMs).toISOString();

// fixtures with fixed ids, so both databases hold the very same ones
const STORE = 'st_batch';
const STAFF_A = '00000000-0000-4000-8000-00000000000a';
const STAFF_B = '00000000-0000-4000-8000-00000000000b';
const MEMBER_1 = { id: '00000000-0000-4000-8000-000000000101', email: 'batch-m1@example.jp' };
const MEMBER_2 = { id: '00000000-0000-4000-8000-000000000102', email: 'batch-m2@example.jp' };
const LINK_1 = 'BatchLinkCode0001';
const LINK_2 = 'BatchLinkCode0002';

async function seedFixtures(db: Db) {
	await db.insertInto('stores').values({ id: STORE, name: 'バッチ店', name_en: 'Batch' }).execute();
	await db
		.insertInto('staff')
		.values([STAFF_A, STAFF_B].map((id, i) => ({ id, staff_code: `BT${i}`, display_name: `バッチ ${i}`, sender_name: 'バッチ', role: 'staff' as const, home_store_id: STORE })))
		.execute();
	await db.insertInto('customers').values([MEMBER_1, MEMBER_2].map((m, i) => ({ id: m.id, member_no: String(3_900_000_000 + i), email: m.email }))).execute();
	await db.insertInto('customer_identities').values([MEMBER_1, MEMBER_2].map((m) => ({ customer_id: m.id, kind: 'email' as const, value: m.email }))).execute();
	await db
		.insertInto('tracked_links')
		.values([
			{ code: LINK_1, staff_id: STAFF_A, store_id: STORE, customer_id: MEMBER_1.id, target_url: 'https://shop.example.jp/p/1' },
			{ code: LINK_2, staff_id: STAFF_B, store_id: STORE, customer_id: MEMBER_2.id, target_url: 'https://shop.example.jp/p/2' }
		])
		.execute();
	await db
		.insertInto('link_clicks')
		.values([
			{ click_id: 'click-1', code: LINK_1, customer_id: MEMBER_1.id, clicked_at: new Date(at(-DAY)), user_agent: null },
			{ click_id: 'click-2', code: LINK_2, customer_id: MEMBER_2.id, clicked_at: new Date(at(-2 * DAY)), user_agent: null }
		])
		.execute();
}

type Delivery = { topic: string; order: OrderPayloadInput; webhookId?: string } | { topic: 'refunds/create'; refund: RefundPayloadInput; webhookId?: string };

/**
 * Creates, updates, refunds and cancels of the same and of different orders, in an order that
 * exercises every rule: update before create, refund before its order, a redelivered state,
 * a cancel, refunds embedded in an older update, a new customer seen twice, a guest.
 */
function scenario(base: bigint): { deliveries: Delivery[]; ids: Record<string, string> } {
	const id = (n: number) => String(base + BigInt(n) * 1000n + 3n);
	const ids = { a: id(1), b: id(2), c: id(3), d: id(4), e: id(5), f: id(6), g: id(7), h: id(8), i: id(9) };
	const refund = (n: number) => String(base + 900_000n + BigInt(n));
	const lines = (sku: string, price: number, quantity = 1) => [{ sku, quantity, price, title: sku }];
	const member1 = { email: MEMBER_1.email };
	const newcomer = { id: String(base + 800_001n), email: `newcomer-${base}@example.jp`, first_name: '花子', last_name: '山田' };
	const phone = `+81 90-1234-${5600n + (base / 10n ** 16n) % 100n}`; // one per scenario
	const deliveries: Delivery[] = [
		// a: ref order, then a newer update (other lines), a refund, then the create redelivered (new webhook id: ignored)
		{ topic: 'orders/create', order: { id: ids.a, createdAt: ORDERED, customer: member1, noteAttributes: [{ name: 'tsunagu_ref', value: LINK_1 }], lines: lines('A-1', 5000) } },
		{ topic: 'orders/updated', order: { id: ids.a, createdAt: ORDERED, updatedAt: at(3_600_000), customer: member1, noteAttributes: [{ name: 'tsunagu_ref', value: LINK_1 }], lines: [...lines('A-1', 5000), ...lines('A-2', 3000, 2)] } },
		// b: its refund first, then the create, then the cancel
		{ topic: 'refunds/create', refund: { id: refund(1), orderId: ids.b, amount: 1000 } },
		{ topic: 'refunds/create', refund: { id: refund(2), orderId: ids.a, amount: 2000 } },
		{ topic: 'orders/create', order: { id: ids.b, createdAt: ORDERED, customer: { email: MEMBER_2.email }, lines: lines('B-1', 8000) } },
		{ topic: 'orders/create', order: { id: ids.a, createdAt: ORDERED, customer: member1, noteAttributes: [{ name: 'tsunagu_ref', value: LINK_1 }], lines: lines('A-1', 5000) } },
		{ topic: 'orders/cancelled', order: { id: ids.b, createdAt: ORDERED, updatedAt: at(7_200_000), cancelledAt: at(7_200_000), customer: { email: MEMBER_2.email }, lines: lines('B-1', 8000) } },
		// c: the update arrives before the create (the older create must not win)
		{ topic: 'orders/updated', order: { id: ids.c, createdAt: ORDERED, updatedAt: at(60_000), landingSite: `/p/2?tsunagu_ref=${LINK_2}`, lines: lines('C-2', 4200) } },
		{ topic: 'orders/create', order: { id: ids.c, createdAt: ORDERED, landingSite: `/p/2?tsunagu_ref=${LINK_2}`, lines: lines('C-1', 9900) } },
		// d and e: a customer nobody knows, twice (one customer), the second time with a phone
		{ topic: 'orders/create', order: { id: ids.d, createdAt: ORDERED, customer: newcomer, lines: lines('D-1', 1200) } },
		{ topic: 'orders/create', order: { id: ids.e, createdAt: at(60_000), customer: { ...newcomer, phone }, lines: lines('E-1', 2400) } },
		// f: last touch for member 2 (no ref)
		{ topic: 'orders/create', order: { id: ids.f, createdAt: ORDERED, customer: { email: MEMBER_2.email }, lines: lines('F-1', 6000) } },
		// g: cancelled, then an older update that still carries a new refund
		{ topic: 'orders/cancelled', order: { id: ids.g, createdAt: ORDERED, updatedAt: at(600_000), cancelledAt: at(600_000), customer: member1, lines: lines('G-1', 7000) } },
		{ topic: 'orders/updated', order: { id: ids.g, createdAt: ORDERED, updatedAt: at(300_000), customer: member1, lines: lines('G-1', 7000), refunds: [{ id: refund(3), orderId: ids.g, amount: 700 }] } },
		// h: a guest without any identity; i: a refund whose order never comes
		{ topic: 'orders/create', order: { id: ids.h, createdAt: ORDERED, customer: null, email: null, lines: lines('H-1', 500) } },
		{ topic: 'refunds/create', refund: { id: refund(4), orderId: ids.i, amount: 100 } },
		// a's refund redelivered inside an update with the same state
		{ topic: 'orders/updated', order: { id: ids.a, createdAt: ORDERED, updatedAt: at(3_600_000), customer: member1, noteAttributes: [{ name: 'tsunagu_ref', value: LINK_1 }], lines: [...lines('A-1', 5000), ...lines('A-2', 3000, 2)], refunds: [{ id: refund(2), orderId: ids.a, amount: 2000 }] } }
	];
	return { deliveries, ids };
}

/** Everything the deliveries decide, with generated ids (customers, serials) and clock times left out. */
async function snapshot(db: Db, ecOrderIds: string[]) {
	const identitiesOf = async (customerId: string | null) => {
		if (!customerId) return null;
		const rows = await db.selectFrom('customer_identities').select(['kind', 'value']).where('customer_id', '=', customerId).execute();
		const customer = await db.selectFrom('customers').select(['family_name', 'given_name', 'email']).where('id', '=', customerId).executeTakeFirstOrThrow();
		return { ...customer, identities: rows.map((r) => `${r.kind}:${r.value}`).sort() };
	};
	const orders = await db
		.selectFrom('ec_orders')
		.select(['id', 'ec_order_id', 'order_name', 'customer_id', 'ec_customer_id', 'ordered_at', 'subtotal_yen', 'total_yen', 'status', 'cancelled_at', 'landing_site', 'ref_code', 'note_attributes', 'source_updated_at'])
		.where('ec_order_id', 'in', ecOrderIds)
		.orderBy('ec_order_id')
		.execute();
	const result = [];
	for (const { id, customer_id, ...o } of orders) {
		const lines = await db.selectFrom('ec_order_lines').select(['line_no', 'sku', 'name', 'quantity', 'unit_price_yen', 'amount_yen', 'product_id']).where('order_id', '=', id).orderBy('line_no').execute();
		result.push({ ...o, customer: await identitiesOf(customer_id), lines });
	}
	const refunds = await db.selectFrom('ec_refunds').select(['ec_refund_id', 'ec_order_id', 'amount_yen', 'refunded_at']).where('ec_order_id', 'in', ecOrderIds).orderBy('ec_refund_id').execute();
	const attributions = await db
		.selectFrom('attributions')
		.select(['ec_order_id', 'staff_id', 'store_id', 'customer_id', 'rule', 'link_code', 'click_id', 'follow_up_id', 'status', 'ordered_at', 'gross_yen', 'refunded_yen'])
		.where('ec_order_id', 'in', ecOrderIds)
		.orderBy('ec_order_id')
		.execute();
	const attributed = [];
	for (const { customer_id, ...a } of attributions) attributed.push({ ...a, customer: await identitiesOf(customer_id) });
	return { orders: result, refunds, attributions: attributed };
}

describe.each(testDbKinds())('Shopify deliveries applied as one batch on %s', (kind) => {
	let batched: Runtime;
	let oneByOne: Runtime;
	beforeAll(async () => {
		[batched, oneByOne] = await Promise.all([createTestRuntime(kind), createTestRuntime(kind)]);
		await seedFixtures(batched.deps.db);
		await seedFixtures(oneByOne.deps.db);
	});
	afterAll(async () => {
		for (const rt of [batched, oneByOne]) {
			await closeLinks(rt?.deps);
			await rt?.close();
		}
	});

	async function receive(rt: Runtime, deliveries: Delivery[]) {
		for (const d of deliveries) {
			const body = shopifyJson('refund' in d ? buildRefundPayload(d.refund) : buildOrderPayload(d.order));
			const res = await rt.app.request('/webhooks/shopify', { method: 'POST', headers: shopifyHeaders(body, rt.config.shopify.webhookSecret, d.topic, d.webhookId ?? randomUUID()), body });
			expect(res.status).toBe(200);
		}
	}
	async function drain(rt: Runtime, batchSize: number, handlers: InboxHandlers = HANDLERS) {
		const totals = { claimed: 0, processed: 0, failed: 0 };
		for (;;) {
			const r = await processInboxBatch(rt.deps.db, handlers, { batchSize });
			if (r.claimed === 0) return totals;
			totals.claimed += r.claimed;
			totals.processed += r.processed;
			totals.failed += r.failed;
		}
	}
	/** Rows processed in one transaction share its now(). */
	async function transactionsUsed(rt: Runtime, since: number) {
		const row = await rt.deps.db
			.selectFrom('webhook_inbox')
			.select(sql<number>`count(distinct processed_at)::int`.as('n'))
			.where('id', '>', since)
			.executeTakeFirstOrThrow();
		return row.n;
	}
	const lastInboxId = async (rt: Runtime) =>
		(await rt.deps.db.selectFrom('webhook_inbox').select(sql<number>`coalesce(max(id), 0)::int8`.as('id')).executeTakeFirstOrThrow()).id;

	it('a batch mixing creates, updates, refunds and cancels converges to the one-by-one state', async () => {
		const { deliveries, ids } = scenario(7700000000000000000n);
		const since = await lastInboxId(batched);
		await receive(batched, deliveries);
		await receive(oneByOne, deliveries);
		expect(await drain(batched, 50)).toEqual({ claimed: deliveries.length, processed: deliveries.length, failed: 0 });
		expect(await transactionsUsed(batched, since)).toBe(1);
		expect(await drain(oneByOne, 1)).toEqual({ claimed: deliveries.length, processed: deliveries.length, failed: 0 });

		const all = Object.values(ids);
		const state = await snapshot(batched.deps.db, all);
		expect(state).toEqual(await snapshot(oneByOne.deps.db, all));

		// and that state is the right one
		const order = (id: string) => state.orders.find((o) => o.ec_order_id === id)!;
		const attribution = (id: string) => state.attributions.find((a) => a.ec_order_id === id);
		expect(order(ids.a)).toMatchObject({ total_yen: 11_000, status: 'open', lines: [{ sku: 'A-1' }, { sku: 'A-2', quantity: 2 }] });
		expect(attribution(ids.a)).toMatchObject({ rule: 'ref', staff_id: STAFF_A, link_code: LINK_1, click_id: 'click-1', status: 'active', gross_yen: 11_000, refunded_yen: 2000 });
		expect(order(ids.b)).toMatchObject({ status: 'cancelled', total_yen: 8000 });
		expect(attribution(ids.b)).toMatchObject({ rule: 'last_touch', staff_id: STAFF_B, status: 'void', refunded_yen: 1000 });
		expect(order(ids.c)).toMatchObject({ lines: [{ sku: 'C-2' }], total_yen: 4200 });
		expect(attribution(ids.c)).toMatchObject({ rule: 'ref', staff_id: STAFF_B, link_code: LINK_2, click_id: 'click-2' });
		expect(order(ids.d).customer).toEqual(order(ids.e).customer);
		expect(order(ids.d).customer).toMatchObject({ family_name: '山田', identities: expect.arrayContaining(['phone:09012345670', `email:newcomer-7700000000000000000@example.jp`]) });
		expect(attribution(ids.d)).toBeUndefined();
		expect(attribution(ids.f)).toMatchObject({ rule: 'last_touch', staff_id: STAFF_B, click_id: 'click-2', status: 'active', customer: { email: MEMBER_2.email } });
		expect(order(ids.g)).toMatchObject({ status: 'cancelled' });
		expect(attribution(ids.g)).toMatchObject({ status: 'void', refunded_yen: 700, staff_id: STAFF_A });
		expect(order(ids.h).customer).toBeNull();
		expect(state.orders.some((o) => o.ec_order_id === ids.i)).toBe(false);
		expect(state.refunds.map((r) => r.ec_order_id).sort()).toEqual([ids.a, ids.b, ids.g, ids.i].sort());
		// vendor ids stay exact strings
		expect(order(ids.a).ec_order_id).toBe('7700000000000001003');
	});

	it('the same deliveries split over batches of any size still converge', async () => {
		const { deliveries, ids } = scenario(7710000000000000000n);
		await receive(batched, deliveries);
		await receive(oneByOne, deliveries);
		await drain(batched, 4);
		await drain(oneByOne, 1);
		const all = Object.values(ids);
		expect(await snapshot(batched.deps.db, all)).toEqual(await snapshot(oneByOne.deps.db, all));
	});

	it('a bad delivery fails the batch, then is parked alone while the rest go through', async () => {
		const { deliveries, ids } = scenario(7720000000000000000n);
		const poisonHook = randomUUID();
		const poisoned: Delivery[] = [...deliveries.slice(0, 5), { topic: 'orders/create', order: { id: ids.h, currency: 'USD' }, webhookId: poisonHook }, ...deliveries.slice(5)];
		const since = await lastInboxId(batched);
		await receive(batched, poisoned);
		await receive(oneByOne, deliveries);
		expect(await drain(batched, 50)).toEqual({ claimed: poisoned.length, processed: deliveries.length, failed: 1 });
		expect(await transactionsUsed(batched, since)).toBe(deliveries.length); // the per-row fallback
		await drain(oneByOne, 1);
		const parked = await batched.deps.db.selectFrom('webhook_inbox').select(['processed_at', 'last_error']).where('external_id', '=', poisonHook).executeTakeFirstOrThrow();
		expect(parked.processed_at).toBeNull();
		expect(parked.last_error).toMatch(/unsupported currency USD/);
		const all = Object.values(ids);
		expect(await snapshot(batched.deps.db, all)).toEqual(await snapshot(oneByOne.deps.db, all));
	});

	it.runIf(kind === 'postgres')('concurrent workers applying overlapping batches neither deadlock nor lose a change', async () => {
		const { deliveries, ids } = scenario(7730000000000000000n);
		const second = scenario(7740000000000000000n);
		// interleave two scenarios, each delivered twice (new webhook ids): many rows per order
		const mixed = deliveries.flatMap((d, i) => [d, second.deliveries[i]].filter(Boolean));
		await receive(batched, [...mixed, ...mixed]);
		await receive(oneByOne, [...deliveries, ...second.deliveries]);
		const results = await Promise.all([drain(batched, 5), drain(batched, 5), drain(batched, 5)]);
		expect(results.reduce((n, r) => n + r.failed, 0)).toBe(0);
		await drain(oneByOne, 1);
		const all = [...Object.values(ids), ...Object.values(second.ids)];
		expect(await snapshot(batched.deps.db, all)).toEqual(await snapshot(oneByOne.deps.db, all));
	});
});
