import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMessagingClient } from '../../server/integrations/line/client.ts';
import { processOutboxBatch } from '../../server/modules/followups/outbox.ts';
import { handleLineInboxRow } from '../../server/modules/line/line.service.ts';
import { closeLinks } from '../../server/modules/links/links.service.ts';
import { signSession } from '../../server/modules/staff/tokens.ts';
import { processInboxBatch } from '../../server/modules/webhooks/inbox.service.ts';
import type { Runtime } from '../../server/runtime.ts';
import { testDbKinds } from '../helpers/db.ts';
import { newCustomer, newProduct, newStaff, newStore } from '../helpers/factories.ts';
import { createTestRuntime } from '../helpers/runtime.ts';

type Json = Record<string, any>;
const lineId = () => `U${randomUUID().replace(/-/g, '')}`;
const run = promisify(execFile);

describe.each(testDbKinds())('LINE follow-ups on %s', (kind) => {
	let rt: Runtime;
	let auth: { staff: string; manager: string };
	let staffId: string;
	let products: number[];
	const customers: Record<string, { id: string; line_user_id: string | null }> = {};

	const call = async (method: string, path: string, who: keyof typeof auth, body?: unknown) => {
		const res = await rt.app.request(`/api${path}`, {
			method,
			headers: { authorization: `Bearer ${auth[who]}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
			body: body !== undefined ? JSON.stringify(body) : undefined
		});
		return { status: res.status, body: (await res.json()) as Json };
	};
	const client = () => createMessagingClient({ apiBase: rt.config.line.apiBase, channelAccessToken: rt.config.line.channelAccessToken });
	const db = () => rt.deps.db;
	const status = (id: string) => db().selectFrom('follow_ups').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
	const makeDue = (id: string) => db().updateTable('follow_ups').set({ next_attempt_at: sql<Date>`now()` }).where('id', '=', id).execute();
	const only = async (id: string) => {
		// other tests' rows must not be pushed by this test's batch
		await db().updateTable('follow_ups').set({ next_attempt_at: sql<Date>`now() + interval '1 hour'` }).where('id', '!=', id).where('status', '=', 'queued').execute();
		await makeDue(id);
	};

	beforeAll(async () => {
		rt = await createTestRuntime(kind);
		const store = await newStore(db(), { name: '渋谷店' });
		const s = await newStaff(db(), { storeId: store.id, pin: null, display_name: '鈴木 健太' });
		await db().updateTable('staff').set({ sender_name: '渋谷店 鈴木', sender_icon_url: 'https://cdn.example.jp/s003.png' }).where('id', '=', s.id).execute();
		const m = await newStaff(db(), { storeId: store.id, pin: null, role: 'manager' });
		const device = await db().insertInto('devices').values({ store_id: store.id, name: 'iPad', secret_hash: 'x' }).returning('id').executeTakeFirstOrThrow();
		const sign = async (who: { id: string; role: 'staff' | 'manager' }) =>
			(await signSession(rt.config.sessionSecret, { staffId: who.id, role: who.role, deviceId: device.id, storeId: store.id })).token;
		auth = { staff: await sign({ id: s.id, role: 'staff' }), manager: await sign({ id: m.id, role: 'manager' }) };
		staffId = s.id;
		const mk = (values: Parameters<typeof newCustomer>[1]) => newCustomer(db(), values);
		customers.ok = await mk({ line_user_id: lineId(), line_friend: true, consent_messages: true });
		customers.noConsent = await mk({ line_user_id: lineId(), line_friend: true, consent_messages: false });
		customers.notFriend = await mk({ line_user_id: lineId(), line_friend: false, consent_messages: true });
		customers.noLine = await mk({ consent_messages: true });
		customers.blocked = await mk({ line_user_id: lineId(), line_friend: false, consent_messages: true });
		await db().updateTable('customers').set({ line_blocked_at: new Date() }).where('id', '=', customers.blocked.id).execute();
		products = [];
		for (let i = 0; i < 11; i++) {
			const p = await newProduct(db(), { name: `ウールコート ${i}`, price_yen: 29_800 + i });
			await db().updateTable('products').set({ ec_url: `https://shop.example.jp/products/${p.sku}`, image_url: `https://cdn.example.jp/${p.sku}.jpg` }).where('id', '=', p.id).execute();
			products.push(p.id);
		}
		await db().insertInto('message_templates').values({ key: 'thanks', title: 'お礼', body: '{customerName}様\n{storeName}の{staffName}です。' }).execute();
		// these tests send many follow-ups to one customer at any hour: contact limits are tested in contact-limits.test.ts
		expect((await call('PUT', '/contact/settings', 'manager', { maxPer7Days: 100, maxPer30Days: 100, quietHours: null })).status).toBe(200);
	}, 180_000);
	afterAll(async () => {
		await closeLinks(rt.deps);
		await rt.lineSandbox?.close();
		await rt?.close();
	});

	it('says why the button is disabled for each kind of customer', async () => {
		const reasons: Record<string, string | null> = {};
		for (const [name, c] of Object.entries(customers)) {
			const res = await call('GET', `/followups/compose/${c.id}`, 'staff');
			expect(res.status).toBe(200);
			reasons[name] = res.body.eligibility.reason;
		}
		expect(reasons).toEqual({ ok: null, noConsent: 'no_consent', notFriend: 'not_friend', noLine: 'no_line', blocked: 'blocked' });
		const ctx = await call('GET', `/followups/compose/${customers.ok.id}`, 'staff');
		expect(ctx.body.sender).toMatchObject({ name: '渋谷店 鈴木', iconUrl: 'https://cdn.example.jp/s003.png' });
		expect(ctx.body.vars).toMatchObject({ customerName: '山田 花子', staffName: '鈴木 健太', storeName: '渋谷店' });
		// the screen names the recipient (name, member number, whether LINE reaches them)
		expect(ctx.body.recipient).toEqual({ name: '山田 花子', memberNo: expect.stringMatching(/^\w+$/), lineReachable: true });
		const blocked = await call('GET', `/followups/compose/${customers.blocked.id}`, 'staff');
		expect(blocked.body.recipient.lineReachable).toBe(false);
		expect(ctx.body.templates.map((t: Json) => t.key)).toContain('thanks');
	});

	it('previews text + a Flex carousel with altText, sender and one ECで見る button per product', async () => {
		const res = await call('POST', '/followups/preview', 'staff', { customerId: customers.ok.id, templateKey: 'thanks', text: '{customerName}様 {staffName}です', productIds: products.slice(0, 3) });
		expect(res.status).toBe(200);
		const [text, flex] = res.body.messages;
		expect(text).toMatchObject({ type: 'text', text: '山田 花子様 鈴木 健太です', sender: { name: '渋谷店 鈴木', iconUrl: 'https://cdn.example.jp/s003.png' } });
		expect(flex.type).toBe('flex');
		expect(flex.altText).toContain('3点');
		expect(flex.contents.contents).toHaveLength(3);
		expect(flex.contents.contents[0].footer.contents[0].action).toMatchObject({ type: 'uri', label: 'ECで見る' });
	});

	it('refuses more than 10 products, unknown templates and ineligible customers', async () => {
		expect((await call('POST', '/followups', 'staff', { customerId: customers.ok.id, text: 'x', productIds: products })).status).toBe(400);
		expect((await call('POST', '/followups', 'staff', { customerId: customers.ok.id, templateKey: 'nope', text: 'x', productIds: [] })).body.error.code).toBe('unknown_template');
		const blocked = await call('POST', '/followups', 'staff', { customerId: customers.blocked.id, text: 'x', productIds: [] });
		expect(blocked.status).toBe(409);
		expect(blocked.body.error.code).toBe('not_allowed_blocked');
	});

	it('lets managers edit templates and nobody else', async () => {
		expect((await call('PUT', '/followups/templates/thanks', 'staff', { title: 'お礼', body: 'x' })).status).toBe(403);
		const ok = await call('PUT', '/followups/templates/restock', 'manager', { title: '入荷のお知らせ', body: '{customerName}様 入荷しました' });
		expect(ok.status).toBe(200);
		expect((await call('GET', '/followups/templates', 'staff')).body.templates.map((t: Json) => t.key)).toEqual(['restock', 'thanks']);
	});

	it('queues once per id with tracked links, then the outbox delivers it exactly once', async () => {
		const id = randomUUID();
		const body = { id, customerId: customers.ok.id, text: 'ご来店ありがとうございました', productIds: products.slice(0, 2) };
		const first = await call('POST', '/followups', 'staff', body);
		expect(first.status).toBe(201);
		expect(first.body.followUp.status).toBe('queued');
		expect((await call('POST', '/followups', 'staff', body)).status).toBe(200);
		const links = await db().selectFrom('tracked_links').selectAll().where('follow_up_id', '=', id).execute();
		expect(links).toHaveLength(2);
		expect(links.every((l) => l.staff_id === staffId && l.customer_id === customers.ok.id)).toBe(true);
		const flex = first.body.followUp.messages[1];
		const uris = flex.contents.contents.map((b: Json) => b.footer.contents[0].action.uri);
		expect(uris.sort()).toEqual(links.map((l) => `${rt.config.publicBaseUrl}/l/${l.code}`).sort());

		await only(id);
		const r = await processOutboxBatch(db(), client());
		expect(r).toMatchObject({ claimed: 1, sent: 1 });
		const row = await status(id);
		expect(row).toMatchObject({ status: 'sent', attempts: 1, failure_reason: null });
		expect(row.line_request_id).toBeTruthy();
		const inbox = rt.lineSandbox!.state.inboxes.get(customers.ok.line_user_id!)!;
		const mine = inbox.filter((m) => m.retryKey === row.retry_key);
		expect(mine.map((m) => (m.message as Json).type)).toEqual(['text', 'flex']);
		expect((mine[0].message as Json).sender.name).toBe('渋谷店 鈴木');
		// the demo inbox heads this chat with the member's name, not the raw LINE user id
		const inboxes = (await (await rt.app.request('/sandbox/line/inboxes')).json()) as { inboxes: Json[] };
		expect(inboxes.inboxes.find((i) => i.userId === customers.ok.line_user_id)?.name).toBe('山田 花子');
		// an answer lost after LINE accepted it: the retry with the same key is a 409 = sent, no double
		await db().updateTable('follow_ups').set({ status: 'queued', next_attempt_at: sql<Date>`now()` }).where('id', '=', id).execute();
		expect((await processOutboxBatch(db(), client())).sent).toBe(1);
		expect((await status(id)).status).toBe('sent');
		expect(rt.lineSandbox!.state.stats.acceptedByRetryKey[row.retry_key]).toBe(1);
		expect((await call('GET', `/followups/${id}`, 'staff')).body.followUp.status).toBe('sent');
	});

	it('retries 500s and rate limits with backoff, then sends', async () => {
		const { body } = await call('POST', '/followups', 'staff', { customerId: customers.ok.id, text: 'retry me', productIds: [] });
		const id = body.followUp.id;
		await only(id);
		rt.lineSandbox!.state.faults.next500 = 1;
		expect(await processOutboxBatch(db(), client())).toMatchObject({ claimed: 1, retried: 1 });
		let row = await status(id);
		expect(row.status).toBe('queued');
		expect(row.failure_reason).toMatch(/^line_500/);
		expect(new Date(row.next_attempt_at).getTime()).toBeGreaterThan(Date.now());
		await makeDue(id);
		rt.lineSandbox!.state.faults.next429 = 1;
		expect(await processOutboxBatch(db(), client())).toMatchObject({ retried: 1 });
		expect((await status(id)).failure_reason).toMatch(/^rate_limited/);
		await makeDue(id);
		expect(await processOutboxBatch(db(), client())).toMatchObject({ sent: 1 });
		row = await status(id);
		expect(row).toMatchObject({ status: 'sent', attempts: 3 });
	});

	it('fails a 4xx with LINE\'s reason, and cancels at send time when the customer became unreachable', async () => {
		const bad = await newCustomer(db(), { line_user_id: 'Unot-a-valid-line-id', line_friend: true, consent_messages: true });
		const { body } = await call('POST', '/followups', 'staff', { customerId: bad.id, text: 'hello', productIds: [] });
		await only(body.followUp.id);
		expect(await processOutboxBatch(db(), client())).toMatchObject({ failed: 1 });
		const row = await status(body.followUp.id);
		expect(row.status).toBe('failed');
		expect(row.failure_reason).toMatch(/^line_400: .*to/);
		// staff see why on the profile timeline
		const profile = await call('GET', `/customers/${bad.id}/profile`, 'staff');
		const entry = (profile.body.timeline as Json[]).find((e) => e.id === `follow_up:${body.followUp.id}`);
		expect(entry).toMatchObject({ status: 'failed', failureReason: row.failure_reason });

		const later = await newCustomer(db(), { line_user_id: lineId(), line_friend: true, consent_messages: true });
		const q = await call('POST', '/followups', 'staff', { customerId: later.id, text: 'hello', productIds: [] });
		await db().updateTable('customers').set({ consent_messages: false }).where('id', '=', later.id).execute();
		await only(q.body.followUp.id);
		expect(await processOutboxBatch(db(), client())).toMatchObject({ cancelled: 1 });
		expect(await status(q.body.followUp.id)).toMatchObject({ status: 'cancelled', failure_reason: 'no_consent' });
	});

	it('an unfollow cancels what is still queued for that customer', async () => {
		const c = await newCustomer(db(), { line_user_id: lineId(), line_friend: true, consent_messages: true });
		await db().insertInto('customer_identities').values({ customer_id: c.id, kind: 'line', value: c.line_user_id! }).execute();
		const { body } = await call('POST', '/followups', 'staff', { customerId: c.id, text: 'hello', productIds: [] });
		const res = await fetch(`${rt.lineSandbox!.url}/_sandbox/webhook/send`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ type: 'unfollow', userId: c.line_user_id })
		});
		expect(res.status).toBe(200);
		for (;;) if ((await processInboxBatch(db(), { line: handleLineInboxRow })).claimed === 0) break;
		expect((await status(body.followUp.id)).status).toBe('cancelled');
	});

	it('two workers under injected faults deliver every message exactly once', async () => {
		const N = 120;
		const recipients = await Promise.all(Array.from({ length: 6 }, () => newCustomer(db(), { line_user_id: lineId(), line_friend: true, consent_messages: true })));
		await db().updateTable('follow_ups').set({ status: 'cancelled' }).where('status', 'in', ['queued', 'sending']).execute();
		for (let i = 0; i < N; i++) {
			const r = await call('POST', '/followups', 'staff', { customerId: recipients[i % 6].id, text: `msg ${i}`, productIds: [] });
			expect(r.status).toBe(201);
		}
		const sandbox = rt.lineSandbox!.state;
		const before = sandbox.stats.accepted;
		Object.assign(sandbox.faults, { rate500: 0.1, rate429: 0.05 });
		// Shorter backoff for the test: the rows' next_attempt_at is pulled forward between rounds.
		const pull = () => db().updateTable('follow_ups').set({ next_attempt_at: sql<Date>`now()` }).where('status', '=', 'queued').execute();
		try {
			if (kind === 'postgres') {
				const url = (rt.handle as { url?: string }).url;
				const env = { ...process.env, DATABASE_URL: url ?? '', LINE_API_BASE: rt.config.line.apiBase, LINE_TOKEN: rt.config.line.channelAccessToken };
				const child = () => run(process.execPath, ['--import', 'tsx', 'tests/bench/outbox-worker.ts'], { env, timeout: 120_000 });
				const puller = setInterval(() => void pull(), 300);
				try {
					const results = await Promise.all([child(), child()]);
					const counts = results.map((r) => JSON.parse(r.stdout.trim().split('\n').pop()!));
					expect(counts.every((c) => c.claimed > 0)).toBe(true);
				} finally {
					clearInterval(puller);
				}
			} else {
				// PGlite is single-process: two concurrent worker loops on the same database
				const loop = async () => {
					for (let i = 0; i < 200; i++) {
						const r = await processOutboxBatch(db(), client(), { batchSize: 10 });
						if (r.claimed === 0 && !r.throttled) {
							const open = await db().selectFrom('follow_ups').select('id').where('status', 'in', ['queued', 'sending']).execute();
							if (open.length === 0) return;
							await pull();
						}
					}
				};
				await Promise.all([loop(), loop()]);
			}
		} finally {
			Object.assign(sandbox.faults, { rate500: 0, rate429: 0 });
		}
		const rows = await db().selectFrom('follow_ups').select(['status', 'retry_key']).where('body', 'like', 'msg %').execute();
		expect(rows).toHaveLength(N);
		expect(rows.every((r) => r.status === 'sent')).toBe(true);
		expect(sandbox.stats.accepted - before).toBe(N);
		for (const r of rows) expect(sandbox.stats.acceptedByRetryKey[r.retry_key]).toBe(1);
	}, 180_000);
});
