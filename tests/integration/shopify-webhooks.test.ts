import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorker } from '../../server/jobs/worker.ts';
import { resolveCustomer } from '../../server/modules/customers/customers.service.ts';
import { createOrders, orderNet } from '../../server/modules/orders/orders.service.ts';
import { claimDueRows } from '../../server/modules/webhooks/inbox.repository.ts';
import { createInboxWorker, INBOX_DEFAULTS, processInboxBatch, type InboxHandlers } from '../../server/modules/webhooks/inbox.service.ts';
import { shopifyInboxHandler } from '../../server/modules/webhooks/shopify.handler.ts';
import type { Runtime } from '../../server/runtime.ts';
import { buildOrderPayload, buildRefundPayload, shopifyHeaders, shopifyJson, type OrderPayloadInput } from '../../server/sandbox/shopify.ts';
import { testDbKinds } from '../helpers/db.ts';
import { createTestRuntime, testOrders } from '../helpers/runtime.ts';

const HANDLERS: InboxHandlers = { shopify: shopifyInboxHandler(testOrders) };
const handleShopifyInboxRow = HANDLERS.shopify;

// Distinct order ids per test (all above 2^53, as real Shopify ids are).
let seq = 0;
const nextId = () => String(7300000000000000000n + BigInt(++seq) * 1000n + 1n);

describe.each(testDbKinds())('Shopify webhooks on %s', (kind) => {
	let rt: Runtime;
	beforeAll(async () => {
		rt = await createTestRuntime(kind);
	});
	afterAll(async () => rt?.close());

	const secret = () => rt.config.shopify.webhookSecret;
	const db = () => rt.deps.db;

	async function post(topic: string, body: string, webhookId: string = randomUUID(), headers: Record<string, string> = {}) {
		return rt.app.request('/webhooks/shopify', {
			method: 'POST',
			headers: { ...shopifyHeaders(body, secret(), topic, webhookId), ...headers },
			body
		});
	}
	const deliverOrder = (topic: string, input: OrderPayloadInput, webhookId?: string) =>
		post(topic, shopifyJson(buildOrderPayload(input)), webhookId);
	const deliverRefund = (input: Parameters<typeof buildRefundPayload>[0], webhookId?: string) =>
		post('refunds/create', shopifyJson(buildRefundPayload(input)), webhookId);

	/** Runs the worker's batches until nothing is due (what the background loop does). */
	async function drain(handlers: InboxHandlers = HANDLERS) {
		let total = 0;
		for (;;) {
			const { claimed } = await processInboxBatch(db(), handlers);
			if (claimed === 0) return total;
			total += claimed;
		}
	}
	const inboxRows = (externalId: string) =>
		db().selectFrom('webhook_inbox').select(['id', 'attempts', 'processed_at', 'last_error', 'locked_until']).where('source', '=', 'shopify').where('external_id', '=', externalId).execute();
	const order = (ecOrderId: string) =>
		db().selectFrom('ec_orders').selectAll().where('platform', '=', 'shopify').where('ec_order_id', '=', ecOrderId).executeTakeFirst();

	it('refuses a bad signature with 401 and stores nothing', async () => {
		const body = shopifyJson(buildOrderPayload({ id: nextId() }));
		const webhookId = randomUUID();
		const res = await post('orders/create', body, webhookId, { 'x-shopify-hmac-sha256': 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=' });
		expect(res.status).toBe(401);
		expect((await res.json()).error.code).toBe('invalid_signature');
		// a body changed after signing fails too
		const tampered = await rt.app.request('/webhooks/shopify', {
			method: 'POST',
			headers: shopifyHeaders(body, secret(), 'orders/create', webhookId),
			body: body.replace('12800.00', '1.00')
		});
		expect(tampered.status).toBe(401);
		expect(await inboxRows(webhookId)).toHaveLength(0);
	});

	it('parks a signed delivery with an unknown topic or malformed JSON (200, reason kept); a missing id is 400', async () => {
		const body = shopifyJson(buildOrderPayload({ id: nextId() }));
		const unknownId = randomUUID();
		const unknown = await post('products/create', body, unknownId);
		expect(unknown.status).toBe(200);
		expect(await unknown.json()).toEqual({ ok: true, parked: true });
		const webhookId = randomUUID();
		const noId = await post('orders/create', body, webhookId, { 'x-shopify-webhook-id': '' });
		expect(noId.status).toBe(400);
		expect(await inboxRows(webhookId)).toHaveLength(0);
		const malformed = await post('orders/create', '{"id": 1,\u0000', webhookId);
		expect(malformed.status).toBe(200);
		const [parked] = await inboxRows(webhookId);
		expect(parked.last_error).toMatch(/^malformed_json/);
		expect((await inboxRows(unknownId))[0].last_error).toMatch(/^unknown_topic/);
		// parked rows are never claimed by the worker
		expect(await drain()).toBe(0);
		expect((await inboxRows(webhookId))[0].processed_at).toBeNull();
	});

	it('refuses bodies over 1 MB with 413', async () => {
		const payload = buildOrderPayload({ id: nextId(), noteAttributes: [{ name: 'pad', value: 'x'.repeat(1024 * 1024) }] });
		const res = await post('orders/create', shopifyJson(payload));
		expect(res.status).toBe(413);
		expect((await res.json()).error.code).toBe('payload_too_large');
	});

	it('stores a signed order, answers 200, and the worker turns it into an order with lines and a customer', async () => {
		const id = nextId();
		const webhookId = randomUUID();
		const res = await deliverOrder(
			'orders/create',
			{
				id,
				customer: { id: '8100000000000000001', email: 'new.buyer@example.jp', last_name: '佐藤', first_name: '花' },
				lines: [
					{ sku: 'TEE-1', title: 'Tシャツ', quantity: 2, price: 3900 },
					{ sku: 'CAP-1', title: 'キャップ', quantity: 1, price: 4800 }
				]
			},
			webhookId
		);
		expect(res.status).toBe(200);
		expect(await res.json()).toEqual({ ok: true });
		const [stored] = await inboxRows(webhookId);
		expect(stored.processed_at).toBeNull();
		expect(await order(id)).toBeUndefined(); // heavy work happens after the answer

		expect(await drain()).toBeGreaterThanOrEqual(1);
		const o = await order(id);
		expect(o).toMatchObject({ ec_order_id: id, total_yen: 12600, status: 'open', ec_customer_id: '8100000000000000001' });
		const lines = await db().selectFrom('ec_order_lines').select(['line_no', 'sku', 'quantity', 'amount_yen']).where('order_id', '=', o!.id).orderBy('line_no').execute();
		expect(lines).toEqual([
			{ line_no: 1, sku: 'TEE-1', quantity: 2, amount_yen: 7800 },
			{ line_no: 2, sku: 'CAP-1', quantity: 1, amount_yen: 4800 }
		]);
		const customer = await db().selectFrom('customers').select(['family_name', 'member_no']).where('id', '=', o!.customer_id!).executeTakeFirstOrThrow();
		expect(customer.family_name).toBe('佐藤');
		expect((await inboxRows(webhookId))[0].processed_at).not.toBeNull();
		expect(await orderNet(db(), 'shopify', id)).toBe(12600);
	});

	it('stores a duplicate delivery (same webhook id) once and says so', async () => {
		const id = nextId();
		const webhookId = randomUUID();
		const first = await deliverOrder('orders/create', { id }, webhookId);
		const again = await deliverOrder('orders/create', { id }, webhookId);
		expect(first.status).toBe(200);
		expect(again.status).toBe(200);
		expect(await again.json()).toEqual({ ok: true, duplicate: true });
		expect(await inboxRows(webhookId)).toHaveLength(1);
		await drain();
		// redelivered after processing: still one row, still one order
		expect((await (await deliverOrder('orders/create', { id }, webhookId)).json()).duplicate).toBe(true);
		await drain();
		expect(await inboxRows(webhookId)).toHaveLength(1);
		const count = await db().selectFrom('ec_orders').select((eb) => eb.fn.countAll<number>().as('n')).where('ec_order_id', '=', id).executeTakeFirstOrThrow();
		expect(Number(count.n)).toBe(1);
	});

	it('keeps big ids exact end to end (order, customer, line, refund)', async () => {
		const id = '7300000000000000001';
		expect(String(JSON.parse(id))).not.toBe(id); // what a plain JSON.parse would store
		const body = shopifyJson(buildOrderPayload({ id, customer: { id: '9007199254740993' }, lines: [{ id: '9123456789012345678', sku: 'BIG-1', quantity: 1, price: 1000 }] }));
		expect(body).toContain('"id":7300000000000000001'); // a bare number on the wire, as Shopify sends
		expect((await post('orders/create', body)).status).toBe(200);
		await deliverRefund({ id: '9300000000000000007', orderId: id, amount: 400 });
		await drain();
		const o = await order(id);
		expect(o?.ec_customer_id).toBe('9007199254740993');
		const line = await db().selectFrom('ec_order_lines').select('ec_line_id').where('order_id', '=', o!.id).executeTakeFirstOrThrow();
		expect(line.ec_line_id).toBe('9123456789012345678');
		const refund = await db().selectFrom('ec_refunds').select(['ec_refund_id', 'ec_order_id']).where('ec_refund_id', '=', '9300000000000000007').executeTakeFirstOrThrow();
		expect(refund).toEqual({ ec_refund_id: '9300000000000000007', ec_order_id: id });
		expect(await orderNet(db(), 'shopify', id)).toBe(600);
	});

	it('converges when orders/updated arrives before orders/create', async () => {
		const id = nextId();
		await deliverOrder('orders/updated', { id, updatedAt: '2026-11-20T12:00:00+09:00', lines: [{ sku: 'A', quantity: 3, price: 1000 }] });
		await drain();
		await deliverOrder('orders/create', { id, updatedAt: '2026-11-20T10:00:00+09:00', lines: [{ sku: 'A', quantity: 1, price: 1000 }] });
		await drain();
		const o = await order(id);
		expect(o?.total_yen).toBe(3000);
		expect(new Date(o!.source_updated_at).toISOString()).toBe('2026-11-20T03:00:00.000Z');
		const lines = await db().selectFrom('ec_order_lines').select('quantity').where('order_id', '=', o!.id).execute();
		expect(lines).toEqual([{ quantity: 3 }]);
	});

	it('converges when a refund arrives before its order, and counts it once', async () => {
		const id = nextId();
		const refundId = nextId();
		await deliverRefund({ id: refundId, orderId: id, amount: 2000 });
		await drain();
		expect(await orderNet(db(), 'shopify', id)).toBeNull(); // the order is not here yet
		// the order arrives later, carrying the same refund embedded (orders/updated does)
		await deliverOrder('orders/updated', {
			id,
			updatedAt: '2026-11-21T10:00:00+09:00',
			lines: [{ sku: 'B', quantity: 1, price: 9000 }],
			refunds: [{ id: refundId, orderId: id, amount: 2000 }]
		});
		await deliverOrder('orders/create', { id, lines: [{ sku: 'B', quantity: 1, price: 9000 }] });
		await drain();
		expect(await orderNet(db(), 'shopify', id)).toBe(7000);
		const refunds = await db().selectFrom('ec_refunds').select('amount_yen').where('ec_order_id', '=', id).execute();
		expect(refunds).toEqual([{ amount_yen: 2000 }]);
	});

	it('applies a cancellation, which a late older update cannot undo', async () => {
		const id = nextId();
		await deliverOrder('orders/create', { id, updatedAt: '2026-11-20T10:00:00+09:00' });
		await drain();
		// cancelled with the same updated_at as the stored state: the more final status wins
		await deliverOrder('orders/cancelled', { id, updatedAt: '2026-11-20T10:00:00+09:00', cancelledAt: '2026-11-20T10:00:00+09:00' });
		await drain();
		await deliverOrder('orders/updated', { id, updatedAt: '2026-11-20T09:59:00+09:00' });
		await drain();
		const o = await order(id);
		expect(o?.status).toBe('cancelled');
		expect(new Date(o!.cancelled_at!).toISOString()).toBe('2026-11-20T01:00:00.000Z');
		expect(await orderNet(db(), 'shopify', id)).toBe(0);
	});

	it('lands an EC order on the existing customer who owns the email, attaching the EC id', async () => {
		const existing = await db().transaction().execute((trx) => resolveCustomer(trx, { pos: 'POS-SHOPIFY-1', email: 'regular@example.jp' }));
		const id = nextId();
		await deliverOrder('orders/create', { id, customer: { id: '8100000000000000077', email: 'Regular@Example.JP' } });
		await drain();
		expect((await order(id))?.customer_id).toBe(existing!.customerId);
		const ec = await db().selectFrom('customer_identities').select('customer_id').where('kind', '=', 'ec').where('value', '=', '8100000000000000077').executeTakeFirstOrThrow();
		expect(ec.customer_id).toBe(existing!.customerId);
		// a guest order without any identity stays unlinked
		const guest = nextId();
		await deliverOrder('orders/create', { id: guest, customer: null, email: null });
		await drain();
		expect((await order(guest))?.customer_id).toBeNull();
	});

	it('runs the composed change hooks in the same transaction, only when something changed', async () => {
		const seen: string[] = [];
		const orders = createOrders({
			onChange: [
				async (trx, changes) => {
					for (const { key } of changes) seen.push(`${key.ecOrderId}:${await orderNet(trx, key.platform, key.ecOrderId)}`);
				}
			]
		});
		const drainHooked = () => drain({ shopify: shopifyInboxHandler(orders) });
		{
			const id = nextId();
			const webhookId = randomUUID();
			await deliverOrder('orders/create', { id, lines: [{ sku: 'H', quantity: 1, price: 5000 }] }, webhookId);
			await drainHooked();
			await deliverOrder('orders/create', { id, lines: [{ sku: 'H', quantity: 1, price: 5000 }] }); // same state, new webhook id
			await drainHooked();
			await deliverRefund({ id: nextId(), orderId: id, amount: 1000 });
			await drainHooked();
			expect(seen).toEqual([`${id}:5000`, `${id}:4000`]);
		}
	});

	it('re-claims a delivery whose worker crashed once its lease has expired', async () => {
		const id = nextId();
		const webhookId = randomUUID();
		await deliverOrder('orders/create', { id }, webhookId);
		// a worker claims the row and dies before finishing it
		const claimed = await claimDueRows(db(), ['shopify'], 100, 60);
		expect(claimed.map((r) => r.external_id)).toContain(webhookId);
		expect(await drain()).toBe(0); // leased: nobody else takes it meanwhile
		expect(await order(id)).toBeUndefined();
		// the lease runs out
		await db().updateTable('webhook_inbox').set({ locked_until: sql<Date>`now() - interval '1 second'` }).where('external_id', '=', webhookId).execute();
		await drain();
		expect((await order(id))?.ec_order_id).toBe(id);
		const [row] = await inboxRows(webhookId);
		expect(row.attempts).toBe(2);
		expect(row.processed_at).not.toBeNull();
		expect(row.locked_until).toBeNull();
	});

	it('records a poison delivery, backs it off, and keeps processing the others', async () => {
		const poisonId = nextId();
		const goodId = nextId();
		const poisonHook = randomUUID();
		await deliverOrder('orders/create', { id: poisonId }, poisonHook);
		await deliverOrder('orders/create', { id: goodId });
		const flaky: InboxHandlers = {
			shopify: async (trx, row) => {
				if (row.external_id === poisonHook) throw new Error('boom while applying');
				await handleShopifyInboxRow(trx, row);
			}
		};
		await drain(flaky);
		expect((await order(goodId))?.ec_order_id).toBe(goodId);
		expect(await order(poisonId)).toBeUndefined();
		const [row] = await inboxRows(poisonHook);
		expect(row).toMatchObject({ attempts: 1, processed_at: null, last_error: 'Error: boom while applying', locked_until: null });
		const due = await db().selectFrom('webhook_inbox').select(sql<boolean>`next_attempt_at > now() + interval '4 seconds'`.as('later')).where('external_id', '=', poisonHook).executeTakeFirstOrThrow();
		expect(due.later).toBe(true);
		expect(await drain(flaky)).toBe(0); // not retried before its time
		// once due again and the fault is gone, it goes through
		await db().updateTable('webhook_inbox').set({ next_attempt_at: sql<Date>`now()` }).where('external_id', '=', poisonHook).execute();
		await drain();
		expect((await order(poisonId))?.ec_order_id).toBe(poisonId);
		expect((await inboxRows(poisonHook))[0]).toMatchObject({ attempts: 2, last_error: null });
	});

	it('parks a delivery whose attempts kept dying (lease expiries) instead of re-claiming it forever', async () => {
		const id = nextId();
		const webhookId = randomUUID();
		await deliverOrder('orders/create', { id }, webhookId);
		await db().updateTable('webhook_inbox').set({ attempts: INBOX_DEFAULTS.maxAttempts }).where('external_id', '=', webhookId).execute();
		await drain();
		expect(await order(id)).toBeUndefined();
		const [row] = await inboxRows(webhookId);
		expect(row.last_error).toMatch(/never finished/);
		expect(await drain()).toBe(0);
	});

	it('parks a non-JPY order with its error instead of retrying it', async () => {
		const id = nextId();
		const webhookId = randomUUID();
		expect((await deliverOrder('orders/create', { id, currency: 'USD' }, webhookId)).status).toBe(200);
		await drain();
		expect(await order(id)).toBeUndefined();
		const [row] = await inboxRows(webhookId);
		expect(row.processed_at).toBeNull();
		expect(row.last_error).toMatch(/unsupported currency USD/);
		const parked = await db().selectFrom('webhook_inbox').select(sql<boolean>`next_attempt_at = 'infinity'::timestamptz`.as('parked')).where('external_id', '=', webhookId).executeTakeFirstOrThrow();
		expect(parked.parked).toBe(true);
	});

	it('processes deliveries in the background when the worker runs, woken by the receipt', async () => {
		const worker = startWorker(createInboxWorker(rt.deps, HANDLERS), rt.logger);
		rt.wake.attach([worker]);
		try {
			const id = nextId();
			await deliverOrder('orders/create', { id });
			for (let i = 0; i < 200 && !(await order(id)); i++) await new Promise((r) => setTimeout(r, 50));
			expect((await order(id))?.ec_order_id).toBe(id);
		} finally {
			await worker.stop();
		}
	});

	it.runIf(kind === 'postgres')('never lets two concurrent claimers take or process the same row', async () => {
		const ids = Array.from({ length: 40 }, nextId);
		for (const id of ids) expect((await deliverOrder('orders/create', { id })).status).toBe(200);
		// the claim itself: two claimers racing batch after batch get disjoint rows
		const claims: number[][] = [[], []];
		const claimer = async (slot: number) => {
			for (;;) {
				const rows = await claimDueRows(db(), ['shopify'], 3, 60);
				if (rows.length === 0) return;
				claims[slot].push(...rows.map((r) => r.id));
			}
		};
		await Promise.all([claimer(0), claimer(1)]);
		const all = [...claims[0], ...claims[1]];
		expect(new Set(all).size).toBe(all.length);
		expect(all.length).toBeGreaterThanOrEqual(ids.length);
		// release the leases, then two full workers race: every delivery is applied exactly once
		await db().updateTable('webhook_inbox').set({ locked_until: null }).where('processed_at', 'is', null).where('source', '=', 'shopify').execute();
		const processed: string[] = [];
		const recording: InboxHandlers = {
			shopify: async (trx, row) => {
				processed.push(row.external_id);
				await handleShopifyInboxRow(trx, row);
			}
		};
		const worker = async () => {
			for (;;) if ((await processInboxBatch(db(), recording, { batchSize: 2 })).claimed === 0) return;
		};
		await Promise.all([worker(), worker()]);
		expect(new Set(processed).size).toBe(processed.length);
		const orders = await db().selectFrom('ec_orders').select('ec_order_id').where('ec_order_id', 'in', ids).execute();
		expect(orders).toHaveLength(ids.length);
	});
});
