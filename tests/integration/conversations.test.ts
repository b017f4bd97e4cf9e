import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMessagingClient } from '../../server/integrations/line/client.ts';
import { linkMember } from '../../server/modules/conversations/conversations.service.ts';
import { processOutboxBatch } from '../../server/modules/followups/outbox.ts';
import { handleLineInboxRow } from '../../server/modules/line/line.service.ts';
import { signSession } from '../../server/modules/staff/tokens.ts';
import { processInboxBatch } from '../../server/modules/webhooks/inbox.service.ts';
import type { Runtime } from '../../server/runtime.ts';
import { testDbKinds } from '../helpers/db.ts';
import { newCustomer, newProduct, newStaff, newStore } from '../helpers/factories.ts';
import { createTestRuntime } from '../helpers/runtime.ts';

type Json = Record<string, any>;
const lineId = () => `U${randomUUID().replace(/-/g, '')}`;

describe.each(testDbKinds())('LINE conversations on %s', (kind) => {
	let rt: Runtime;
	let clock = new Date();
	const auth: Record<string, string> = {};
	const ids: Record<string, string> = {};
	let productId: number;

	const db = () => rt.deps.db;
	const sandbox = () => rt.lineSandbox!;
	const call = async (method: string, path: string, who: string, body?: unknown) => {
		const res = await rt.app.request(`/api${path}`, {
			method,
			headers: { authorization: `Bearer ${auth[who]}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
			body: body !== undefined ? JSON.stringify(body) : undefined
		});
		return { status: res.status, body: (await res.json()) as Json };
	};
	/** The customer writes in LINE: a signed webhook from the sandbox, then the inbox worker's pass. */
	const customerWrites = async (userId: string, text: string, messageType = 'text') => {
		const res = await fetch(`${sandbox().url}/_sandbox/webhook/send`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ type: 'message', userId, text, messageType })
		});
		expect((await res.json()).delivered).toBe(200);
		await processInboxBatch(db(), { line: handleLineInboxRow });
	};
	const conversationOf = (userId: string) => db().selectFrom('conversations').selectAll().where('line_user_id', '=', userId).executeTakeFirstOrThrow();
	const pushAll = () => processOutboxBatch(db(), createMessagingClient({ apiBase: rt.config.line.apiBase, channelAccessToken: rt.config.line.channelAccessToken }));

	beforeAll(async () => {
		rt = await createTestRuntime(kind);
		rt.deps.now = () => clock;
		// the routes read the clock through deps; rebuild the app with it
		const { createApp } = await import('../../server/app.ts');
		(rt as { app: Runtime['app'] }).app = createApp(rt.deps);
		const shibuya = await newStore(db(), { name: '渋谷店' });
		const ginza = await newStore(db(), { name: '銀座店' });
		ids.shibuya = shibuya.id;
		ids.ginza = ginza.id;
		const device = await db().insertInto('devices').values({ store_id: shibuya.id, name: 'iPad', secret_hash: 'x' }).returning('id').executeTakeFirstOrThrow();
		const ginzaDevice = await db().insertInto('devices').values({ store_id: ginza.id, name: 'iPad', secret_hash: 'x' }).returning('id').executeTakeFirstOrThrow();
		for (const [name, store, role, dev] of [
			['suzuki', shibuya.id, 'staff', device.id],
			['tanaka', shibuya.id, 'staff', device.id],
			['manager', shibuya.id, 'manager', device.id],
			['ginza', ginza.id, 'staff', ginzaDevice.id]
		] as const) {
			const s = await newStaff(db(), { storeId: store, role, pin: null, display_name: name });
			await db().updateTable('staff').set({ sender_name: `${name}`, sender_icon_url: 'https://cdn.example.jp/s.png' }).where('id', '=', s.id).execute();
			ids[name] = s.id;
			auth[name] = (await signSession(rt.config.sessionSecret, { staffId: s.id, role, deviceId: dev, storeId: store })).token;
		}
		const p = await newProduct(db(), { name: 'リネンシャツ', price_yen: 8800 });
		await db().updateTable('products').set({ ec_url: 'https://shop.example.jp/p/linen' }).where('id', '=', p.id).execute();
		productId = p.id;
	});
	afterAll(async () => {
		await rt?.lineSandbox?.close();
		await rt?.close();
	});
	beforeEach(() => {
		clock = new Date();
		sandbox().state.replyTokenTtlMs = 60_000;
	});

	async function member(values: Partial<{ owner_staff_id: string; consent_messages: boolean; line_friend: boolean }> = {}) {
		const userId = lineId();
		const c = await newCustomer(db(), { line_user_id: userId, line_friend: values.line_friend ?? true, consent_messages: values.consent_messages ?? false, home_store_id: ids.shibuya });
		if (values.owner_staff_id) await db().updateTable('customers').set({ owner_staff_id: values.owner_staff_id }).where('id', '=', c.id).execute();
		return { userId, customerId: c.id };
	}

	it('stores and routes a member\'s message to the home store queue; store staff see the badge, another store gets 403', async () => {
		const { userId, customerId } = await member();
		await customerWrites(userId, 'ありがとうございます。週末に来店します！');
		const conv = await conversationOf(userId);
		expect(conv).toMatchObject({ customer_id: customerId, assigned_staff_id: null, store_id: ids.shibuya, status: 'open', unread_count: 1, last_message_preview: 'ありがとうございます。週末に来店します！' });
		expect((await call('GET', '/conversations/unread', 'suzuki')).body.unread).toBeGreaterThanOrEqual(1);
		expect((await call('GET', '/conversations/unread', 'ginza')).body.unread).toBe(0);
		const list = await call('GET', '/conversations?tab=store', 'suzuki');
		expect(list.body.conversations.map((c: Json) => c.id)).toContain(conv.id);
		expect((await call('GET', `/conversations/${conv.id}`, 'ginza')).status).toBe(403);
		const denied = await call('POST', `/conversations/${conv.id}/replies`, 'ginza', { clientId: randomUUID(), text: 'こんにちは' });
		expect(denied.status).toBe(403);
		expect(denied.body.error.code).toBe('conversation_forbidden');
		// staff may not read the brand queue; managers may
		expect((await call('GET', '/conversations?tab=unassigned', 'suzuki')).status).toBe(403);
		expect((await call('GET', '/conversations?tab=unassigned', 'manager')).status).toBe(200);
	});

	it('routes to the owner (担当), then to the staff member who answered last', async () => {
		const { userId } = await member({ owner_staff_id: ids.tanaka });
		await customerWrites(userId, 'サイズ交換できますか？');
		expect((await conversationOf(userId)).assigned_staff_id).toBe(ids.tanaka);
		const conv = await conversationOf(userId);
		// suzuki takes it over and answers; when it is closed and the customer writes again, it goes to suzuki
		await call('POST', `/conversations/${conv.id}/handover`, 'tanaka', { staffId: ids.suzuki, note: '休み中のためお願いします' });
		expect((await conversationOf(userId)).assigned_staff_id).toBe(ids.suzuki);
		const opened = await call('GET', `/conversations/${conv.id}`, 'suzuki');
		expect(opened.body.conversation.handovers[0]).toMatchObject({ note: '休み中のためお願いします', to: 'suzuki' });
		await call('POST', `/conversations/${conv.id}/replies`, 'suzuki', { clientId: randomUUID(), text: 'はい、できます' });
		await call('PUT', `/conversations/${conv.id}/status`, 'suzuki', { status: 'done' });
		await db().updateTable('customers').set({ owner_staff_id: ids.tanaka }).where('line_user_id', '=', userId).execute();
		await customerWrites(userId, 'もう一つ質問です');
		expect(await conversationOf(userId)).toMatchObject({ assigned_staff_id: ids.suzuki, status: 'open' });
	});

	it('answers free with the reply token inside the window (no consent needed), once per client id, audited', async () => {
		const { userId, customerId } = await member({ consent_messages: false });
		await customerWrites(userId, '在庫ありますか？');
		const conv = await conversationOf(userId);
		const before = sandbox().state.stats.replies;
		clock = new Date(Date.now() + 15_000);
		const opened = await call('GET', `/conversations/${conv.id}`, 'suzuki');
		expect(opened.body.conversation.compose).toMatchObject({ delivery: 'reply', label: expect.stringMatching(/^無料で返信できます（残り (3[0-5]) 秒）$/) });
		expect((await conversationOf(userId)).unread_count).toBe(0);
		const audit = await db().selectFrom('audit_log').select(['action', 'actor_staff_id']).where('customer_id', '=', customerId).execute();
		expect(audit).toContainEqual({ action: 'conversation.view', actor_staff_id: ids.suzuki });

		const clientId = randomUUID();
		const body = { clientId, text: '{customerName}様、ございます。', productIds: [productId] };
		const [first, second] = await Promise.all([call('POST', `/conversations/${conv.id}/replies`, 'suzuki', body), call('POST', `/conversations/${conv.id}/replies`, 'suzuki', body)]);
		expect([first.status, second.status].sort()).toEqual([200, 201]);
		expect(sandbox().state.stats.replies).toBe(before + 1);
		const inbox = sandbox().state.inboxes.get(userId)!;
		const replied = inbox.filter((e) => e.delivery === 'reply');
		expect(replied.map((e) => e.message.type)).toEqual(['text', 'flex']);
		expect(replied[0].message).toMatchObject({ text: '山田 花子様、ございます。', sender: { name: 'suzuki' } });
		// the product card carries a tracked link owned by the staff member
		const link = await db().selectFrom('tracked_links').select(['staff_id', 'customer_id', 'product_id']).where('customer_id', '=', customerId).executeTakeFirstOrThrow();
		expect(link).toEqual({ staff_id: ids.suzuki, customer_id: customerId, product_id: productId });
		const rows = await db().selectFrom('conversation_messages').select(['delivery', 'state']).where('client_id', '=', clientId).execute();
		expect(rows).toEqual([{ delivery: 'reply', state: 'sent' }]);
	});

	it('pushes (counted) when the token is used or the window is over, through the outbox', async () => {
		const { userId, customerId } = await member({ consent_messages: false });
		await customerWrites(userId, 'ありがとう');
		const conv = await conversationOf(userId);
		clock = new Date(Date.now() + 51_000);
		expect((await call('GET', `/conversations/${conv.id}`, 'suzuki')).body.conversation.compose).toMatchObject({ delivery: 'push', label: '通常メッセージとして送信（月間通数を消費）' });
		const res = await call('POST', `/conversations/${conv.id}/replies`, 'suzuki', { clientId: randomUUID(), text: 'またお待ちしております' });
		expect(res.body.message).toMatchObject({ delivery: 'push', state: 'queued' });
		const followUp = await db().selectFrom('follow_ups').select(['kind', 'status', 'id']).where('customer_id', '=', customerId).executeTakeFirstOrThrow();
		expect(followUp).toMatchObject({ kind: 'conversation', status: 'queued' });
		await pushAll();
		expect((await db().selectFrom('follow_ups').select('status').where('id', '=', followUp.id).executeTakeFirstOrThrow()).status).toBe('sent');
		expect(sandbox().state.inboxes.get(userId)!.filter((e) => e.delivery === 'push').map((e) => e.message.text)).toEqual(['またお待ちしております']);
		const view = await call('GET', `/conversations/${conv.id}`, 'suzuki');
		expect(view.body.conversation.messages.at(-1)).toMatchObject({ direction: 'out', delivery: 'push', state: 'sent' });
	});

	it('falls back to one push when LINE refuses the token; a token claimed by one tablet is never used twice', async () => {
		const { userId } = await member();
		await customerWrites(userId, '質問です');
		const conv = await conversationOf(userId);
		sandbox().state.replyTokenTtlMs = 1; // LINE has expired it although our window has not
		const refusedBefore = sandbox().state.stats.repliesRefused;
		const res = await call('POST', `/conversations/${conv.id}/replies`, 'suzuki', { clientId: randomUUID(), text: '回答します' });
		expect(res.body.message).toMatchObject({ delivery: 'push', state: 'queued' });
		expect(sandbox().state.stats.repliesRefused).toBe(refusedBefore + 1);
		expect(await db().selectFrom('follow_ups').select('id').where('kind', '=', 'conversation').where('body', '=', '回答します').execute()).toHaveLength(1);

		sandbox().state.replyTokenTtlMs = 60_000;
		await customerWrites(userId, 'もう一つ');
		const replies = sandbox().state.stats.replies;
		const two = await Promise.all(['A', 'B'].map((t) => call('POST', `/conversations/${conv.id}/replies`, t === 'A' ? 'suzuki' : 'tanaka', { clientId: randomUUID(), text: `タブレット${t}` })));
		expect(two.map((r) => r.body.message.delivery).sort()).toEqual(['push', 'reply']);
		expect(sandbox().state.stats.replies).toBe(replies + 1);
	});

	it('refuses to answer a customer who blocked the account, with a reason', async () => {
		const { userId, customerId } = await member();
		await customerWrites(userId, 'さようなら');
		await db().updateTable('customers').set({ line_friend: false, line_blocked_at: new Date() }).where('id', '=', customerId).execute();
		const conv = await conversationOf(userId);
		expect((await call('GET', `/conversations/${conv.id}`, 'suzuki')).body.conversation.compose.blocked).toBe('blocked');
		const res = await call('POST', `/conversations/${conv.id}/replies`, 'suzuki', { clientId: randomUUID(), text: 'どうして' });
		expect(res.status).toBe(409);
		expect(res.body.error.code).toBe('recipient_blocked');
	});

	it('stores every message type with a placeholder, an unknown one too', async () => {
		const { userId } = await member();
		for (const type of ['sticker', 'image', 'location', 'hologram']) await customerWrites(userId, '', type);
		const conv = await conversationOf(userId);
		const texts = await db().selectFrom('conversation_messages').select(['kind', 'text']).where('conversation_id', '=', conv.id).orderBy('id').execute();
		expect(texts).toEqual([
			{ kind: 'sticker', text: 'スタンプ' },
			{ kind: 'image', text: '画像' },
			{ kind: 'location', text: '位置情報: 渋谷店' },
			{ kind: 'unknown', text: '対応していない種類のメッセージ' }
		]);
		expect(conv.unread_count).toBe(4);
	});

	it('puts a LINE user who is not a member in the brand queue and links them when they join', async () => {
		const userId = lineId();
		sandbox().state.rememberProfile({ userId, displayName: 'はなちゃん' });
		await customerWrites(userId, '会員じゃないですが質問です');
		const conv = await conversationOf(userId);
		expect(conv).toMatchObject({ customer_id: null, assigned_staff_id: null, store_id: null });
		const queue = await call('GET', '/conversations?tab=unassigned', 'manager');
		// listed under their LINE display name (from LINE's profile API)
		expect(queue.body.conversations.find((c: Json) => c.id === conv.id)).toMatchObject({ name: 'はなちゃん', isMember: false });
		// a push to a non-member is impossible (no customer to push to): only a free reply works
		clock = new Date(Date.now() + 55_000);
		const push = await call('POST', `/conversations/${conv.id}/replies`, 'manager', { clientId: randomUUID(), text: 'どうぞ' });
		expect(push.body.message).toMatchObject({ state: 'refused', failure_reason: 'not_member' });
		const c = await newCustomer(db(), { line_user_id: userId, line_friend: true });
		await db().transaction().execute((trx) => linkMember(trx, userId, c.id));
		expect((await conversationOf(userId)).customer_id).toBe(c.id);
	});

	it('pages a tab with a keyset cursor; each badge counts exactly what its staff member may see', async () => {
		const store = await newStore(db(), { name: '新宿店' });
		const device = await db().insertInto('devices').values({ store_id: store.id, name: 'iPad', secret_hash: 'x' }).returning('id').executeTakeFirstOrThrow();
		const manager = await newStaff(db(), { storeId: store.id, role: 'manager', pin: null, display_name: 'shinjuku' });
		auth.shinjuku = (await signSession(rt.config.sessionSecret, { staffId: manager.id, role: 'manager', deviceId: device.id, storeId: store.id })).token;
		// 105 conversations in the store, 15 of them unread, many sharing a time (the id breaks ties)
		await sql`insert into conversations (line_user_id, store_id, unread_count, last_message_at, last_message_preview)
			select 'Upage' || ${store.id} || g, ${store.id}, case when g % 7 = 0 then 1 else 0 end, now() - make_interval(secs => g % 20), 'p' || g
			from generate_series(1, 105) g`.execute(db());
		const first = await call('GET', '/conversations?tab=store', 'shinjuku');
		expect(first.body.conversations).toHaveLength(100);
		expect(first.body.conversations.slice(0, 15).every((c: Json) => c.unread > 0)).toBe(true);
		const second = await call('GET', `/conversations?tab=store&cursor=${first.body.nextCursor}`, 'shinjuku');
		expect(second.body.conversations).toHaveLength(5);
		expect(second.body.nextCursor).toBeNull();
		const listed = [...first.body.conversations, ...second.body.conversations].map((c: Json) => c.id);
		expect(new Set(listed).size).toBe(105);
		expect((await call('GET', '/conversations?tab=store&cursor=bm90LWEtY3Vyc29y', 'shinjuku')).status).toBe(400);

		// one of suzuki's own conversations with 3 unread: suzuki's and the manager's badges count it, tanaka's does not
		const before = Object.fromEntries(await Promise.all(['suzuki', 'tanaka', 'manager', 'shinjuku'].map(async (w) => [w, (await call('GET', '/conversations/unread', w)).body.unread])));
		await db().insertInto('conversations').values({ line_user_id: lineId(), assigned_staff_id: ids.suzuki, store_id: ids.shibuya, unread_count: 3, last_message_at: new Date() }).execute();
		const after = Object.fromEntries(await Promise.all(['suzuki', 'tanaka', 'manager', 'shinjuku'].map(async (w) => [w, (await call('GET', '/conversations/unread', w)).body.unread])));
		expect(after).toEqual({ suzuki: before.suzuki + 3, tanaka: before.tanaka, manager: before.manager + 3, shinjuku: before.shinjuku });
		// a manager's badge is their store and the brand queue, as they may open them
		const expected = await sql<{ n: number }>`select coalesce(sum(unread_count), 0)::int as n from conversations
			where store_id = ${store.id} or (store_id is null and assigned_staff_id is null)`.execute(db());
		expect(after.shinjuku).toBe(expected.rows[0].n);
	});

	it('marks the customer\'s messages read in LINE when the brand turns it on', async () => {
		const { userId } = await member();
		await customerWrites(userId, '既読つきますか');
		const conv = await conversationOf(userId);
		expect((await call('PUT', '/conversations/settings', 'manager', { markAsRead: true })).status).toBe(200);
		await call('GET', `/conversations/${conv.id}`, 'suzuki');
		const mine = sandbox().state.inboxes.get(userId)!.filter((e) => e.from === 'user');
		expect(mine.every((e) => e.readAt)).toBe(true);
		await call('PUT', '/conversations/settings', 'manager', { markAsRead: false });
		expect((await call('PUT', '/conversations/settings', 'manager', { pushCapShare: 5 })).status).toBe(400);
	});

	it('stops personal pushes at the quota cap; free replies keep working; managers see usage', async () => {
		const { userId } = await member();
		await customerWrites(userId, 'クーポンありますか');
		const conv = await conversationOf(userId);
		await fetch(`${sandbox().url}/_sandbox/quota`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'limited', value: 200, extraUsage: 195 }) });
		const { pollQuota } = await import('../../server/modules/conversations/conversations.service.ts');
		await pollQuota(db(), createMessagingClient({ apiBase: rt.config.line.apiBase, channelAccessToken: rt.config.line.channelAccessToken }));
		const free = await call('POST', `/conversations/${conv.id}/replies`, 'suzuki', { clientId: randomUUID(), text: 'あります' });
		expect(free.body.message).toMatchObject({ delivery: 'reply', state: 'sent' });
		const view = await call('GET', `/conversations/${conv.id}`, 'suzuki');
		expect(view.body.conversation.compose).toMatchObject({ delivery: 'push', pushStopped: 'quota_cap' });
		const stopped = await call('POST', `/conversations/${conv.id}/replies`, 'suzuki', { clientId: randomUUID(), text: '追加です' });
		expect(stopped.body.message).toMatchObject({ state: 'refused', failure_reason: 'quota_cap' });
		const report = await call('GET', '/conversations/quota', 'manager');
		expect(report.body.plan).toMatchObject({ limit: 200, stopped: true });
		expect(report.body.plan.used).toBeGreaterThanOrEqual(195);
		expect(report.body.answers.freeReplies).toBeGreaterThanOrEqual(1);
		expect(report.body.answers.freeShare).toBeGreaterThan(0);
		expect((await call('GET', '/conversations/quota', 'suzuki')).status).toBe(403);
		await fetch(`${sandbox().url}/_sandbox/quota`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ extraUsage: 0 }) });
		await db().deleteFrom('line_quota_snapshots').execute();
	});

	it('streams the unread badge to the assigned staff member as server-sent events', async () => {
		const { userId } = await member({ owner_staff_id: ids.tanaka });
		const res = await rt.app.request('/api/conversations/events', { headers: { authorization: `Bearer ${auth.tanaka}` } });
		expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
		const reader = res.body!.getReader();
		const decoder = new TextDecoder();
		let buffer = '';
		const nextUnread = async () => {
			for (;;) {
				const at = buffer.indexOf('\n\n');
				if (at >= 0) {
					const block = buffer.slice(0, at);
					buffer = buffer.slice(at + 2);
					if (block.includes('event: unread')) return JSON.parse(block.split('\n').find((l) => l.startsWith('data: '))!.slice(6));
					continue;
				}
				const { value, done } = await reader.read();
				if (done) throw new Error('stream ended');
				buffer += decoder.decode(value, { stream: true });
			}
		};
		const initial = await nextUnread();
		await customerWrites(userId, '届きますか');
		const conv = await conversationOf(userId);
		const update = await nextUnread();
		expect(update.unread).toBe(initial.unread + 1);
		expect(update.conversationIds).toContain(conv.id);
		await reader.cancel();
	});
});
