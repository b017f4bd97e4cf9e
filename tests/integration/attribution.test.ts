import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findAttribution } from '../../server/modules/attribution/attribution.service.ts';
import { closeLinks, createLinks, mintLinkCode } from '../../server/modules/links/links.service.ts';
import { processInboxBatch, type InboxHandlers } from '../../server/modules/webhooks/inbox.service.ts';
import { shopifyInboxHandler } from '../../server/modules/webhooks/shopify.handler.ts';
import type { Runtime } from '../../server/runtime.ts';
import { buildOrderPayload, buildRefundPayload, shopifyHeaders, shopifyJson, type OrderPayloadInput } from '../../server/sandbox/shopify.ts';
import { testDbKinds } from '../helpers/db.ts';
import { newCustomer, newStaff, newStore } from '../helpers/factories.ts';
import { createTestRuntime, testOrders } from '../helpers/runtime.ts';

const HANDLERS: InboxHandlers = { shopify: shopifyInboxHandler(testOrders) };
let seq = 0;
const nextId = () => String(7400000000000000000n + BigInt(++seq) * 1000n + 7n);
const DAY = 86_400_000;

describe.each(testDbKinds())('attribution of EC orders on %s', (kind) => {
	let rt: Runtime;
	let store: string;
	let staffA: string;
	let staffB: string;
	beforeAll(async () => {
		rt = await createTestRuntime(kind);
		const db = rt.deps.db;
		store = (await newStore(db)).id;
		staffA = (await newStaff(db, { storeId: store, pin: null })).id;
		staffB = (await newStaff(db, { storeId: store, pin: null })).id;
	});
	afterAll(async () => {
		await closeLinks(rt.deps);
		await rt?.close();
	});
	const db = () => rt.deps.db;

	async function deliver(topic: string, input: OrderPayloadInput, webhookId = randomUUID()) {
		const body = shopifyJson(buildOrderPayload(input));
		const res = await rt.app.request('/webhooks/shopify', { method: 'POST', headers: shopifyHeaders(body, rt.config.shopify.webhookSecret, topic, webhookId), body });
		expect(res.status).toBe(200);
		await drain();
	}
	async function deliverRefund(input: Parameters<typeof buildRefundPayload>[0]) {
		const body = shopifyJson(buildRefundPayload(input));
		const res = await rt.app.request('/webhooks/shopify', { method: 'POST', headers: shopifyHeaders(body, rt.config.shopify.webhookSecret, 'refunds/create', randomUUID()), body });
		expect(res.status).toBe(200);
		await drain();
	}
	async function drain() {
		for (;;) if ((await processInboxBatch(db(), HANDLERS)).claimed === 0) return;
	}
	/** A member with a known email, and a link minted for them by `staffId`. */
	async function memberWithLink(staffId: string) {
		const email = `m${randomUUID().slice(0, 8)}@example.jp`;
		const customer = await newCustomer(db(), { email });
		await db().insertInto('customer_identities').values({ customer_id: customer.id, kind: 'email', value: email }).execute();
		const code = await linkFor(staffId, customer.id);
		return { customerId: customer.id, email, code };
	}
	async function linkFor(staffId: string, customerId: string | null) {
		const code = mintLinkCode();
		await createLinks(db(), [{ code, follow_up_id: null, staff_id: staffId, store_id: store, customer_id: customerId, product_id: null, target_url: 'https://shop.example.jp/p/1' }]);
		return code;
	}
	async function click(code: string, customerId: string, at: Date) {
		const clickId = randomUUID();
		await db().insertInto('link_clicks').values({ click_id: clickId, code, customer_id: customerId, clicked_at: at, user_agent: null }).execute();
		return clickId;
	}
	const attribution = (id: string) => findAttribution(db(), 'shopify', id);
	const orderedAt = new Date('2026-11-20T10:00:00+09:00');

	it('credits the ref from note_attributes to the link\'s staff member (rule ref), with the click', async () => {
		const m = await memberWithLink(staffA);
		const clickId = await click(m.code, m.customerId, new Date(orderedAt.getTime() - 3_600_000));
		const id = nextId();
		await deliver('orders/create', { id, createdAt: orderedAt.toISOString(), noteAttributes: [{ name: 'tsunagu_ref', value: m.code }], lines: [{ sku: 'X', quantity: 2, price: 5000 }] });
		expect(await attribution(id)).toMatchObject({ staff_id: staffA, store_id: store, rule: 'ref', link_code: m.code, click_id: clickId, status: 'active', gross_yen: 10_000, refunded_yen: 0 });
	});

	it('reads the ref from landing_site when the cart attribute is missing (guest order)', async () => {
		const code = await linkFor(staffB, null);
		const id = nextId();
		await deliver('orders/create', { id, createdAt: orderedAt.toISOString(), landingSite: `/products/x?tsunagu_ref=${code}&utm_source=line` });
		expect(await attribution(id)).toMatchObject({ staff_id: staffB, rule: 'ref', link_code: code, click_id: null });
	});

	it('falls back to the member\'s last click inside the window; ignores clicks outside it', async () => {
		const m = await memberWithLink(staffA);
		const newer = await linkFor(staffB, m.customerId);
		await click(m.code, m.customerId, new Date(orderedAt.getTime() - 10 * DAY));
		const last = await click(newer, m.customerId, new Date(orderedAt.getTime() - 2 * DAY));
		await click(m.code, m.customerId, new Date(orderedAt.getTime() + DAY)); // after the order
		const id = nextId();
		await deliver('orders/create', { id, createdAt: orderedAt.toISOString(), customer: { email: m.email } });
		expect(await attribution(id)).toMatchObject({ staff_id: staffB, rule: 'last_touch', link_code: newer, click_id: last, customer_id: m.customerId });

		const old = await memberWithLink(staffA);
		await click(old.code, old.customerId, new Date(orderedAt.getTime() - 31 * DAY));
		const id2 = nextId();
		await deliver('orders/create', { id: id2, createdAt: orderedAt.toISOString(), customer: { email: old.email } });
		expect(await attribution(id2)).toBeUndefined();
	});

	it('ignores an unknown ref and uses last touch instead', async () => {
		const m = await memberWithLink(staffA);
		await click(m.code, m.customerId, new Date(orderedAt.getTime() - DAY));
		const id = nextId();
		await deliver('orders/create', { id, createdAt: orderedAt.toISOString(), customer: { email: m.email }, noteAttributes: [{ name: 'tsunagu_ref', value: mintLinkCode() }] });
		expect(await attribution(id)).toMatchObject({ staff_id: staffA, rule: 'last_touch' });
	});

	it('voids on cancellation, reduces by refunds, and converges under duplicates and reordering', async () => {
		const m = await memberWithLink(staffA);
		const id = nextId();
		const base = { id, createdAt: orderedAt.toISOString(), noteAttributes: [{ name: 'tsunagu_ref', value: m.code }], lines: [{ sku: 'Y', quantity: 1, price: 20_000 }] };
		const later = new Date(orderedAt.getTime() + DAY).toISOString();
		// the refund arrives before its order
		await deliverRefund({ id: nextId(), orderId: id, amount: 3_000 });
		expect(await attribution(id)).toBeUndefined();
		// orders/updated (cancelled) arrives before orders/create; then create twice
		await deliver('orders/updated', { ...base, updatedAt: later, cancelledAt: later });
		const hook = randomUUID();
		await deliver('orders/create', base, hook);
		await deliver('orders/create', base, hook);
		await deliver('orders/create', base);
		const a = await attribution(id);
		expect(a).toMatchObject({ staff_id: staffA, status: 'void', gross_yen: 20_000, refunded_yen: 3_000 });
		const count = await db().selectFrom('attributions').select((eb) => eb.fn.countAll<number>().as('n')).where('ec_order_id', '=', id).executeTakeFirstOrThrow();
		expect(Number(count.n)).toBe(1);
	});

	it('a partial refund on an open order reduces the net', async () => {
		const m = await memberWithLink(staffB);
		const id = nextId();
		await deliver('orders/create', { id, createdAt: orderedAt.toISOString(), noteAttributes: [{ name: 'tsunagu_ref', value: m.code }], lines: [{ sku: 'Z', quantity: 1, price: 9_000 }] });
		await deliverRefund({ id: nextId(), orderId: id, amount: 4_000 });
		expect(await attribution(id)).toMatchObject({ staff_id: staffB, status: 'active', gross_yen: 9_000, refunded_yen: 4_000 });
	});
});
