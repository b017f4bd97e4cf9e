/**
 * Signed webhooks that used to be refused forever (500 on every redelivery) or retried for
 * nothing: each is now stored (cleaned) or parked at once with its reason, answered 200, and
 * visible to admins, who can retry it.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleLineInboxRow } from '../../server/modules/line/line.service.ts';
import { processInboxBatch, type InboxHandlers } from '../../server/modules/webhooks/inbox.service.ts';
import { shopifyInboxHandler } from '../../server/modules/webhooks/shopify.handler.ts';
import { composeModules } from '../../server/compose.ts';
import type { Runtime } from '../../server/runtime.ts';
import { signLikeLine } from '../../server/sandbox/line/platform.ts';
import { buildOrderPayload, shopifyHeaders, shopifyJson } from '../../server/sandbox/shopify.ts';
import { testDbKinds } from '../helpers/db.ts';
import { newStaff, newStore, TEST_PIN } from '../helpers/factories.ts';
import { createTestRuntime } from '../helpers/runtime.ts';

const HANDLERS: InboxHandlers = { shopify: shopifyInboxHandler(composeModules({ attributionWindowDays: 30 }).orders), line: handleLineInboxRow };
let seq = 0;
const nextId = () => String(7400000000000000000n + BigInt(++seq) * 1000n + 1n);
const USER = `U${'d'.repeat(32)}`;

describe.each(testDbKinds())('webhook faults on %s', (kind) => {
	let rt: Runtime;
	let admin = '';
	const db = () => rt.deps.db;

	beforeAll(async () => {
		rt = await createTestRuntime(kind);
		const store = await newStore(db(), { id: 'wf' });
		const boss = await newStaff(db(), { storeId: store.id, role: 'admin' });
		const enrolled = await rt.app.request('/api/devices/enroll', {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ storeId: store.id, deviceName: 'ops', staffCode: boss.staff_code, pin: TEST_PIN })
		});
		const device = `Device ${(await enrolled.json()).deviceToken}`;
		const session = await rt.app.request('/api/sessions', {
			method: 'POST',
			headers: { 'content-type': 'application/json', authorization: device },
			body: JSON.stringify({ staffId: boss.id, pin: TEST_PIN })
		});
		admin = `Bearer ${(await session.json()).token}`;
	}, 180_000);
	afterAll(async () => {
		await rt?.lineSandbox?.close();
		await rt?.close();
	});

	const postShopify = (payload: unknown, webhookId = randomUUID()) => {
		const body = shopifyJson(payload as Record<string, unknown>);
		return rt.app.request('/webhooks/shopify', { method: 'POST', headers: shopifyHeaders(body, rt.config.shopify.webhookSecret, 'orders/create', webhookId), body });
	};
	const drain = async () => {
		while ((await processInboxBatch(db(), HANDLERS)).claimed > 0);
	};
	const inboxRow = (source: string, externalId: string) =>
		db()
			.selectFrom('webhook_inbox')
			.select(['id', 'attempts', 'processed_at', 'last_error', sql<boolean>`next_attempt_at = 'infinity'`.as('parked')])
			.where('source', '=', source)
			.where('external_id', '=', externalId)
			.executeTakeFirstOrThrow();

	it('stores a signed Shopify order with NUL and lone surrogates (cleaned) and applies it', async () => {
		const id = nextId();
		const webhookId = randomUUID();
		const payload = buildOrderPayload({ id, email: 'a\u0000b@example.com', lines: [{ sku: 'SKU-\ud800', title: 'シャツ\u0000', quantity: 1, price: 5000 }] });
		const res = await postShopify(payload, webhookId);
		expect(res.status).toBe(200);
		await drain();
		expect((await inboxRow('shopify', webhookId)).processed_at).not.toBeNull();
		const order = await db().selectFrom('ec_orders').select(['total_yen']).where('ec_order_id', '=', id).executeTakeFirstOrThrow();
		expect(order.total_yen).toBe(5000);
	});

	it.each([
		['quantity 1e12', (id: string) => ({ ...buildOrderPayload({ id }), line_items: [{ id: '1', sku: 'X', title: 'x', quantity: 1e12, price: '100' }] })],
		['an absurd timestamp', (id: string) => buildOrderPayload({ id, createdAt: '9999-01-01T00:00:00Z' })],
		['a negative total', (id: string) => ({ ...buildOrderPayload({ id }), total_price: '-100' })]
	])('parks an order with %s after one attempt, with its reason, visible to admins', async (_name, build) => {
		const id = nextId();
		const webhookId = randomUUID();
		expect((await postShopify(build(id), webhookId)).status).toBe(200);
		await drain();
		const row = await inboxRow('shopify', webhookId);
		expect(row).toMatchObject({ attempts: 1, processed_at: null, parked: true });
		expect(row.last_error).toMatch(/PermanentInboxError/);
		expect(await db().selectFrom('ec_orders').select('id').where('ec_order_id', '=', id).executeTakeFirst()).toBeUndefined();
		const listed = await rt.app.request('/api/webhooks/parked', { headers: { authorization: admin } });
		expect(listed.status).toBe(200);
		const parked = (await listed.json()).parked as Array<{ id: number; reason: string }>;
		expect(parked.find((p) => p.id === row.id)?.reason).toBe(row.last_error);
	});

	it('lets an admin retry a parked delivery, and no one else', async () => {
		const webhookId = randomUUID();
		await postShopify({ ...buildOrderPayload({ id: nextId() }), total_price: '-1' }, webhookId);
		await drain();
		const row = await inboxRow('shopify', webhookId);
		expect(row.parked).toBe(true);
		expect((await rt.app.request(`/api/webhooks/parked/${row.id}/retry`, { method: 'POST' })).status).toBe(401);
		const retried = await rt.app.request(`/api/webhooks/parked/${row.id}/retry`, { method: 'POST', headers: { authorization: admin } });
		expect(retried.status).toBe(200);
		expect(await inboxRow('shopify', webhookId)).toMatchObject({ attempts: 0, parked: false });
		const again = await rt.app.request(`/api/webhooks/parked/${row.id}/retry`, { method: 'POST', headers: { authorization: admin } });
		expect(again.status).toBe(404);
		expect((await again.json()).error.code).toBe('webhook_not_found');
	});

	it('stores every event of a LINE delivery together, so the follow after a bad message is applied', async () => {
		const customerId = (await db().insertInto('customers').values({ member_no: '3900000001', line_user_id: USER, line_friend: false }).returning('id').executeTakeFirstOrThrow()).id;
		const now = Date.now();
		const event = (type: string, extra: Record<string, unknown>, at: number) => ({
			type,
			mode: 'active',
			timestamp: at,
			source: { type: 'user', userId: USER },
			webhookEventId: `01FAULT${randomUUID().replaceAll('-', '').slice(0, 19)}`,
			deliveryContext: { isRedelivery: false },
			replyToken: 'r',
			...extra
		});
		const events = [
			event('message', { message: { id: '1', type: 'text', text: 'ok' } }, now - 3000),
			event('message', { message: { id: '2', type: 'text', text: 'bad\u0000\ud800' } }, now - 2000),
			event('follow', { follow: { isUnblocked: true } }, now - 1000),
			event('message', { message: { id: '3', type: 'text', text: 'later' } }, 1e17)
		];
		const body = JSON.stringify({ destination: 'Ubot', events });
		const res = await rt.app.request('/webhooks/line', {
			method: 'POST',
			headers: { 'content-type': 'application/json', 'x-line-signature': signLikeLine(body, rt.config.line.channelSecret) },
			body
		});
		expect(res.status).toBe(200);
		await drain();
		const rows = await Promise.all(events.map((e) => inboxRow('line', e.webhookEventId)));
		expect(rows.slice(0, 3).every((r) => r.processed_at !== null)).toBe(true);
		// the absurd timestamp is parked at once, not retried
		expect(rows[3]).toMatchObject({ attempts: 1, parked: true });
		expect(rows[3].last_error).toMatch(/timestamp out of range/);
		const customer = await db().selectFrom('customers').select('line_friend').where('id', '=', customerId).executeTakeFirstOrThrow();
		expect(customer.line_friend).toBe(true);
		const texts = await db().selectFrom('line_events').select('message_text').where('line_user_id', '=', USER).where('type', '=', 'message:text').execute();
		expect(texts.map((t) => t.message_text).sort()).toEqual(['bad\ufffd', 'ok']);
	});
});
