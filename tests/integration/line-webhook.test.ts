import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import type { Runtime } from '../../server/runtime.ts';
import { signLikeLine } from '../../server/sandbox/line/platform.ts';
import { handleLineInboxRow } from '../../server/modules/line/line.service.ts';
import { processInboxBatch } from '../../server/modules/webhooks/inbox.service.ts';
import { testDbKinds } from '../helpers/db.ts';
import { createTestRuntime } from '../helpers/runtime.ts';

const USER = `U${'c'.repeat(32)}`;
let eventSeq = 0;
const eventId = () => `01TEST${String(++eventSeq).padStart(20, '0')}`;

function lineEvent(type: 'follow' | 'unfollow' | 'message', at: number, extra: Record<string, unknown> = {}) {
	const base = { type, mode: 'active', timestamp: at, source: { type: 'user', userId: USER }, webhookEventId: eventId(), deliveryContext: { isRedelivery: false } };
	if (type === 'follow') return { ...base, replyToken: 'r', follow: { isUnblocked: true }, ...extra };
	if (type === 'message') return { ...base, replyToken: 'r', message: { id: '1', type: 'text', quoteToken: 'q', text: 'サイズ交換できますか？' }, ...extra };
	return { ...base, ...extra };
}

describe.each(testDbKinds())('LINE webhook on %s', (kind) => {
	let rt: Runtime;
	let customerId: string;
	let staffId: string;

	const post = (body: string, signature?: string | null) =>
		rt.app.request('/webhooks/line', {
			method: 'POST',
			headers: {
				'content-type': 'application/json',
				...(signature === null ? {} : { 'x-line-signature': signature ?? signLikeLine(body, rt.config.line.channelSecret) })
			},
			body
		});
	const send = (...events: unknown[]) => post(JSON.stringify({ destination: 'Ubot', events }));
	const processAll = () => processInboxBatch(rt.deps.db, { line: handleLineInboxRow });
	const inboxCount = async () => (await sql<{ n: number }>`select count(*)::int as n from webhook_inbox where source = 'line'`.execute(rt.deps.db)).rows[0].n;
	const customer = () => rt.deps.db.selectFrom('customers').select(['line_friend', 'line_blocked_at', 'line_status_changed_at']).where('id', '=', customerId).executeTakeFirstOrThrow();
	const followUpStatuses = async () =>
		(await rt.deps.db.selectFrom('follow_ups').select(['body', 'status', 'failure_reason']).where('customer_id', '=', customerId).orderBy('body').execute());

	beforeAll(async () => {
		rt = await createTestRuntime(kind);
		await rt.deps.db.insertInto('stores').values({ id: 'shibuya', name: '渋谷店', name_en: 'Shibuya' }).execute();
		staffId = (await rt.deps.db.insertInto('staff').values({ staff_code: 'S1', display_name: '鈴木', sender_name: '渋谷店 鈴木', role: 'staff', home_store_id: 'shibuya' }).returning('id').executeTakeFirstOrThrow()).id;
		customerId = (await rt.deps.db.insertInto('customers').values({ member_no: '3000000001', line_user_id: USER, line_friend: true }).returning('id').executeTakeFirstOrThrow()).id;
	});
	afterAll(async () => {
		await rt?.lineSandbox?.close();
		await rt?.close();
	});
	beforeEach(async () => {
		await rt.deps.db.deleteFrom('follow_ups').execute();
		await rt.deps.db.updateTable('customers').set({ line_friend: true, line_blocked_at: null, line_status_changed_at: null }).where('id', '=', customerId).execute();
	});

	it('rejects a bad signature with 401 and stores nothing', async () => {
		const body = JSON.stringify({ destination: 'Ubot', events: [lineEvent('unfollow', Date.now())] });
		const before = await inboxCount();
		for (const sig of [signLikeLine(body, 'wrong-secret'), null, 'short']) {
			const res = await post(body, sig);
			expect(res.status).toBe(401);
			expect((await res.json()).error.code).toBe('bad_signature');
		}
		// a body changed after signing
		const res = await post(body.replace('unfollow', 'follow'), signLikeLine(body, rt.config.line.channelSecret));
		expect(res.status).toBe(401);
		expect(await inboxCount()).toBe(before);
	});

	it('parks malformed JSON and a non-LINE shape (correctly signed) with their reason, answering 200', async () => {
		const reasons = async () =>
			(await sql<{ last_error: string }>`select last_error from webhook_inbox where source = 'line' and topic = 'unreadable' order by id`.execute(rt.deps.db)).rows.map((r) => r.last_error);
		const bad = await post('{"events": [');
		expect(bad.status).toBe(200);
		expect(await bad.json()).toEqual({ ok: true, parked: true });
		const shape = await post(JSON.stringify({ hello: 'world' }));
		expect(shape.status).toBe(200);
		expect(await post('{"events": [')).toHaveProperty('status', 200); // a redelivery: still one row
		expect(await reasons()).toEqual(['malformed_json: not valid JSON', 'malformed_webhook: body must be an object with an events array']);
	});

	it('rejects a 1 MB body with 413 before looking at it', async () => {
		const body = JSON.stringify({ destination: 'Ubot', events: [], pad: 'x'.repeat(1024 * 1024) });
		const res = await post(body);
		expect(res.status).toBe(413);
		expect((await res.json()).error.code).toBe('payload_too_large');
	});

	it('answers 200 to an empty events list (LINE console verification)', async () => {
		const before = await inboxCount();
		const res = await send();
		expect(res.status).toBe(200);
		expect(await inboxCount()).toBe(before);
	});

	it('keeps a message in the timeline once, however often LINE delivers it', async () => {
		const event = lineEvent('message', Date.now());
		expect((await send(event)).status).toBe(200);
		expect((await send({ ...event, deliveryContext: { isRedelivery: true } })).status).toBe(200);
		await processAll();
		expect((await send(event)).status).toBe(200);
		await processAll();
		const rows = await rt.deps.db.selectFrom('line_events').selectAll().where('webhook_event_id', '=', event.webhookEventId).execute();
		expect(rows).toHaveLength(1);
		expect(rows[0]).toMatchObject({ customer_id: customerId, type: 'message:text', message_text: 'サイズ交換できますか？', line_user_id: USER });
		expect((await sql<{ n: number }>`select count(*)::int as n from webhook_inbox where external_id = ${event.webhookEventId}`.execute(rt.deps.db)).rows[0].n).toBe(1);
	});

	it('unfollow marks the customer blocked and cancels every queued follow-up at once, leaving sent ones', async () => {
		await rt.deps.db
			.insertInto('follow_ups')
			.values([
				{ customer_id: customerId, staff_id: staffId, store_id: 'shibuya', body: 'a-queued', messages: '[]' },
				{ customer_id: customerId, staff_id: staffId, store_id: 'shibuya', body: 'b-queued', messages: '[]' },
				{ customer_id: customerId, staff_id: staffId, store_id: 'shibuya', body: 'c-sent', messages: '[]', status: 'sent' }
			])
			.execute();
		const at = Date.now();
		expect((await send(lineEvent('unfollow', at))).status).toBe(200);
		await processAll();
		const c = await customer();
		expect(c.line_friend).toBe(false);
		expect(c.line_blocked_at?.getTime()).toBe(at);
		expect(await followUpStatuses()).toEqual([
			{ body: 'a-queued', status: 'cancelled', failure_reason: 'blocked' },
			{ body: 'b-queued', status: 'cancelled', failure_reason: 'blocked' },
			{ body: 'c-sent', status: 'sent', failure_reason: null }
		]);
	});

	it('follow after unfollow makes the customer reachable again', async () => {
		const t = Date.now();
		await send(lineEvent('unfollow', t));
		await send(lineEvent('follow', t + 1000));
		await processAll();
		const c = await customer();
		expect(c.line_friend).toBe(true);
		expect(c.line_blocked_at).toBeNull();
	});

	it('converges on the latest state when follow and unfollow arrive out of order', async () => {
		await rt.deps.db.insertInto('follow_ups').values({ customer_id: customerId, staff_id: staffId, store_id: 'shibuya', body: 'queued-after-refollow', messages: '[]' }).execute();
		const t = Date.now();
		// the newer follow arrives (and is processed) before the older unfollow
		await send(lineEvent('follow', t));
		await processAll();
		await send(lineEvent('unfollow', t - 5000));
		await processAll();
		const c = await customer();
		expect(c.line_friend).toBe(true);
		expect(c.line_status_changed_at?.getTime()).toBe(t);
		expect(await followUpStatuses()).toEqual([{ body: 'queued-after-refollow', status: 'queued', failure_reason: null }]);

		// and the other way round: an old follow after a newer unfollow leaves them blocked
		await send(lineEvent('unfollow', t + 10_000));
		await send(lineEvent('follow', t + 5_000));
		await processAll();
		expect((await customer()).line_friend).toBe(false);
	});

	it('accepts a webhook the LINE sandbox signs and delivers, for a user who is not a member yet', async () => {
		const stranger = `U${'d'.repeat(32)}`;
		const res = await fetch(`${rt.lineSandbox!.url}/_sandbox/webhook/send`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ type: 'message', userId: stranger, text: 'こんにちは' })
		});
		expect(await res.json()).toMatchObject({ delivered: 200 });
		await processAll();
		const row = await rt.deps.db.selectFrom('line_events').selectAll().where('line_user_id', '=', stranger).executeTakeFirstOrThrow();
		expect(row).toMatchObject({ customer_id: null, message_text: 'こんにちは' });
	});
	it('applies a block that happened before the LINE user became a member when they link', async () => {
		const userId = `U${'9'.repeat(32)}`;
		await send({ ...lineEvent('unfollow', Date.now() - 60_000), source: { type: 'user', userId } });
		await processAll();
		const login = await fetch(`${rt.lineSandbox!.url}/_sandbox/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId }) });
		const { idToken } = (await login.json()) as { idToken: string };
		const res = await rt.app.request('/api/member/consent', {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ idToken, termsAccepted: true, messagesOptIn: true })
		});
		expect(res.status).toBe(201);
		const row = await rt.deps.db.selectFrom('customers').select(['line_friend', 'line_blocked_at']).where('line_user_id', '=', userId).executeTakeFirstOrThrow();
		expect(row.line_friend).toBe(false);
		expect(row.line_blocked_at).not.toBeNull();
	});
});
