/**
 * Contact limits (issue 11 §3) through the real API on PGlite and PostgreSQL: the rolling
 * 7 / 30-day limits across staff and stores, a replayed send, quiet-hours scheduling and the
 * outbox sending at their end, the manager override and its audit, unreachable customers, a
 * refused push that stops counting, and two tablets sending at the same moment (one wins).
 * The clock is injected (`deps.now`): the test passes at any hour of the real day.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMessagingClient } from '../../server/integrations/line/client.ts';
import { contactAllowance, recordUnrecordedFollowUps } from '../../server/modules/contact/contact.service.ts';
import { processOutboxBatch } from '../../server/modules/followups/outbox.ts';
import { handleLineInboxRow } from '../../server/modules/line/line.service.ts';
import { processInboxBatch } from '../../server/modules/webhooks/inbox.service.ts';
import { closeLinks } from '../../server/modules/links/links.service.ts';
import { signSession } from '../../server/modules/staff/tokens.ts';
import type { Runtime } from '../../server/runtime.ts';
import { testDbKinds } from '../helpers/db.ts';
import { newCustomer, newStaff, newStore } from '../helpers/factories.ts';
import { createTestRuntime } from '../helpers/runtime.ts';

type Json = Record<string, any>;
const lineId = () => `U${randomUUID().replace(/-/g, '')}`;
/** Japan time. Dates before the real today, so rows queued by the database's now() are never due under this clock. */
const jst = (s: string) => new Date(`${s}+09:00`);
const DAY = 86_400_000;

describe.each(testDbKinds())('contact limits on %s', (kind) => {
	let rt: Runtime;
	let clock = jst('2026-01-05T12:00:00');
	const auth: Record<string, string> = {};
	const ids: Record<string, string> = {};

	const call = async (method: string, path: string, who: string, body?: unknown) => {
		const res = await rt.app.request(`/api${path}`, {
			method,
			headers: { authorization: `Bearer ${auth[who]}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
			body: body !== undefined ? JSON.stringify(body) : undefined
		});
		return { status: res.status, body: (await res.json()) as Json };
	};
	const send = (who: string, customerId: string, extra: Json = {}) =>
		call('POST', '/followups', who, { customerId, text: 'こんにちは', productIds: [], ...extra });
	const db = () => rt.deps.db;
	const reachable = () => newCustomer(db(), { line_user_id: lineId(), line_friend: true, consent_messages: true });
	const client = () => createMessagingClient({ apiBase: rt.config.line.apiBase, channelAccessToken: rt.config.line.channelAccessToken });

	beforeAll(async () => {
		rt = await createTestRuntime(kind);
		rt.deps.now = () => clock;
		const shinjuku = await newStore(db(), { name: '新宿店', name_en: 'Shinjuku' });
		const shibuya = await newStore(db(), { name: '渋谷店', name_en: 'Shibuya' });
		const people = {
			sato: await newStaff(db(), { storeId: shinjuku.id, pin: null, display_name: '佐藤 花子' }),
			suzuki: await newStaff(db(), { storeId: shibuya.id, pin: null, display_name: '鈴木 健太' }),
			manager: await newStaff(db(), { storeId: shinjuku.id, pin: null, display_name: '高橋 店長', role: 'manager' })
		};
		for (const [name, s] of Object.entries(people)) {
			await db().updateTable('staff').set({ sender_name: s.display_name }).where('id', '=', s.id).execute();
			const store = name === 'suzuki' ? shibuya.id : shinjuku.id;
			const device = await db().insertInto('devices').values({ store_id: store, name: `iPad ${name}`, secret_hash: 'x' }).returning('id').executeTakeFirstOrThrow();
			auth[name] = (await signSession(rt.config.sessionSecret, { staffId: s.id, role: name === 'manager' ? 'manager' : 'staff', deviceId: device.id, storeId: store })).token;
			ids[name] = s.id;
		}
	}, 60_000);
	afterAll(async () => {
		await closeLinks(rt.deps);
		await rt.lineSandbox?.close();
		await rt?.close();
	});

	it('has the documented defaults; managers change them, staff cannot, bad values are refused', async () => {
		expect((await call('GET', '/contact/settings', 'sato')).body.settings).toEqual({ maxPer7Days: 1, maxPer30Days: 4, quietHours: { start: '21:00', end: '09:00' } });
		expect((await call('PUT', '/contact/settings', 'sato', { maxPer7Days: 5 })).body.error.code).toBe('forbidden');
		for (const bad of [{ maxPer7Days: -1 }, { maxPer30Days: 1.5 }, { quietHours: { start: '25:00', end: '09:00' } }, { quietHours: { start: '09:00', end: '09:00' } }]) {
			const res = await call('PUT', '/contact/settings', 'manager', bad);
			expect(res.status, JSON.stringify(bad)).toBe(400);
			expect(res.body.error.code).toBe('invalid_setting');
		}
		expect((await call('GET', '/contact/settings', 'manager')).body.settings.maxPer7Days).toBe(1);
	});

	it('counts across staff and stores: the second send within 7 days is refused with the next allowed time', async () => {
		clock = jst('2026-01-05T12:00:00');
		const c = await reachable();
		expect((await send('sato', c.id)).status).toBe(201);

		clock = jst('2026-01-08T15:00:00');
		const refused = await send('suzuki', c.id);
		expect(refused.status).toBe(409);
		expect(refused.body.error.code).toBe('contact_limit_7d');
		const ctx = (await call('GET', `/followups/compose/${c.id}`, 'suzuki')).body.contact;
		expect(ctx).toMatchObject({
			allowed: false,
			reason: 'limit_7d',
			nextAllowedAt: jst('2026-01-12T12:00:00').toISOString(),
			canOverride: false,
			lastContact: { staffName: '佐藤 花子', storeName: '新宿店', kind: 'followup', channel: 'line', at: jst('2026-01-05T12:00:00').toISOString() }
		});
		expect(ctx.windows).toEqual([
			{ window: '7d', days: 7, max: 1, used: 1, remaining: 0 },
			{ window: '30d', days: 30, max: 4, used: 1, remaining: 3 }
		]);
		expect(await db().selectFrom('follow_ups').select('id').where('customer_id', '=', c.id).execute()).toHaveLength(1);

		clock = jst('2026-01-12T12:00:00');
		expect((await send('suzuki', c.id)).status).toBe(201);
	});

	it('refuses the fifth send in 30 days, and answers a replayed send instead of refusing it', async () => {
		await call('PUT', '/contact/settings', 'manager', { maxPer7Days: 10 });
		try {
			const c = await reachable();
			const firstId = randomUUID();
			for (const [i, day] of ['2026-01-02', '2026-01-09', '2026-01-16', '2026-01-23'].entries()) {
				clock = jst(`${day}T11:00:00`);
				expect((await send('sato', c.id, i === 0 ? { id: firstId } : {})).status).toBe(201);
			}
			clock = jst('2026-01-30T11:00:00');
			const fifth = await send('sato', c.id);
			expect([fifth.status, fifth.body.error.code]).toEqual([409, 'contact_limit_30d']);
			// the tablet's retry of the first send (same id) gets its answer back, not a refusal
			const replay = await send('sato', c.id, { id: firstId });
			expect(replay.status).toBe(200);
			expect(replay.body.followUp.id).toBe(firstId);
			clock = jst('2026-02-01T11:00:00'); // 30 days after 01-02 11:00
			expect((await send('sato', c.id)).status).toBe(201);
		} finally {
			await call('PUT', '/contact/settings', 'manager', { maxPer7Days: 1 });
		}
	});

	it('schedules a follow-up composed at 23:00 for 09:00, which the outbox sends then and not before', async () => {
		clock = jst('2026-02-10T23:00:00');
		const c = await reachable();
		const ctx = (await call('GET', `/followups/compose/${c.id}`, 'sato')).body.contact;
		expect(ctx).toMatchObject({ allowed: true, scheduled: true, sendAt: jst('2026-02-11T09:00:00').toISOString() });
		const res = await send('sato', c.id);
		expect(res.status).toBe(201);
		expect(res.body.followUp).toMatchObject({ status: 'queued', scheduledFor: jst('2026-02-11T09:00:00').toISOString() });
		// a second one composed the same night is refused: the first counts from its send time
		clock = jst('2026-02-11T01:00:00');
		expect((await send('suzuki', c.id)).body.error?.code).toBe('contact_limit_7d');

		const id = res.body.followUp.id as string;
		expect(await processOutboxBatch(db(), client(), { now: () => jst('2026-02-11T08:59:59') })).toMatchObject({ claimed: 0 });
		expect((await db().selectFrom('follow_ups').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status).toBe('queued');
		expect(await processOutboxBatch(db(), client(), { now: () => jst('2026-02-11T09:00:00') })).toMatchObject({ claimed: 1, sent: 1 });
		expect((await db().selectFrom('follow_ups').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status).toBe('sent');
		expect(rt.lineSandbox!.state.inboxes.get(c.line_user_id!)).toHaveLength(1);
	});

	it('sends at once outside the quiet hours (20:59 and 09:00) and never schedules with quiet hours off', async () => {
		for (const at of ['2026-02-20T20:59:00', '2026-02-28T09:00:00']) {
			clock = jst(at);
			const c = await reachable();
			const res = await send('sato', c.id);
			expect(res.body.followUp.scheduledFor, at).toBeNull();
		}
		await call('PUT', '/contact/settings', 'manager', { quietHours: null });
		try {
			clock = jst('2026-03-01T23:30:00');
			const c = await reachable();
			expect((await send('sato', c.id)).body.followUp.scheduledFor).toBeNull();
		} finally {
			await call('PUT', '/contact/settings', 'manager', { quietHours: { start: '21:00', end: '09:00' } });
		}
	});

	it('lets a manager override one send with a reason, audited; staff cannot, and a reason is required', async () => {
		clock = jst('2026-03-05T12:00:00');
		const c = await reachable();
		expect((await send('sato', c.id)).status).toBe(201);
		clock = jst('2026-03-06T12:00:00');
		const staffTry = await send('sato', c.id, { override: { reason: 'お急ぎ' } });
		expect([staffTry.status, staffTry.body.error.code]).toEqual([403, 'override_forbidden']);
		for (const override of [{}, { reason: '' }, { reason: '   ' }, { reason: null }]) {
			const res = await send('manager', c.id, { override });
			expect([res.status, res.body.error.code], JSON.stringify(override)).toEqual([400, 'override_reason_required']);
		}
		expect((await send('manager', c.id)).body.error.code).toBe('contact_limit_7d');
		const ok = await send('manager', c.id, { override: { reason: 'お取り置き商品の入荷連絡（お客様のご依頼）' } });
		expect(ok.status).toBe(201);

		const audit = await db().selectFrom('audit_log').selectAll().where('action', '=', 'contact.override').where('customer_id', '=', c.id).execute();
		expect(audit).toHaveLength(1);
		expect(audit[0]).toMatchObject({
			actor_staff_id: ids.manager,
			details: { reason: 'お取り置き商品の入荷連絡（お客様のご依頼）', followUpId: ok.body.followUp.id, window: '7d', used: 1, max: 1 }
		});
		expect(audit[0].device_id).toBeTruthy();
		const list = await call('GET', '/contact/overrides', 'manager');
		expect(list.body.overrides[0]).toMatchObject({ customerId: c.id, reason: 'お取り置き商品の入荷連絡（お客様のご依頼）', by: '高橋 店長', followUpId: ok.body.followUp.id });
		expect((await call('GET', '/contact/overrides', 'sato')).status).toBe(403);
		// the overridden send counts too
		expect((await contactAllowance(db(), [c.id], clock)).get(c.id)!.windows[0].used).toBe(2);
	});

	it('never contacts a customer who blocked the account or withdrew consent', async () => {
		clock = jst('2026-03-10T12:00:00');
		const blocked = await newCustomer(db(), { line_user_id: lineId(), line_friend: false, consent_messages: true });
		await db().updateTable('customers').set({ line_blocked_at: new Date() }).where('id', '=', blocked.id).execute();
		const noConsent = await newCustomer(db(), { line_user_id: lineId(), line_friend: true, consent_messages: false });
		const fresh = await reachable();
		const a = await contactAllowance(db(), [blocked.id, noConsent.id, fresh.id, randomUUID()], clock);
		expect([...a.values()].map((x) => [x.allowed, x.reason, x.nextAllowedAt])).toEqual([
			[false, 'blocked', null],
			[false, 'no_consent', null],
			[true, null, clock],
			[false, 'unknown_customer', null]
		]);
		expect((await send('manager', blocked.id, { override: { reason: 'テスト' } })).body.error.code).toBe('not_allowed_blocked');
		expect((await send('sato', noConsent.id)).body.error.code).toBe('not_allowed_no_consent');
	});

	it('a follow-up LINE refuses stops counting, so the customer can be contacted again', async () => {
		clock = jst('2026-03-15T12:00:00');
		const bad = await newCustomer(db(), { line_user_id: 'Unot-a-valid-line-id', line_friend: true, consent_messages: true });
		const res = await send('sato', bad.id);
		expect(res.status).toBe(201);
		expect((await send('sato', bad.id)).status).toBe(409);
		// only this row is due under this clock
		await db().updateTable('follow_ups').set({ next_attempt_at: jst('2026-03-15T12:00:00') }).where('id', '=', res.body.followUp.id).execute();
		expect(await processOutboxBatch(db(), client(), { now: () => clock })).toMatchObject({ failed: 1 });
		expect((await contactAllowance(db(), [bad.id], clock)).get(bad.id)).toMatchObject({ allowed: true });
	});

	it('answers in a conversation the customer opened are the last contact but never count', async () => {
		// the conversation routes keep the real clock
		const c = await reachable();
		const res = await fetch(`${rt.lineSandbox!.url}/_sandbox/webhook/send`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ type: 'message', userId: c.line_user_id, text: 'サイズの在庫はありますか？', messageType: 'text' })
		});
		expect((await res.json()).delivered).toBe(200);
		await processInboxBatch(db(), { line: handleLineInboxRow });
		const conversation = await db().selectFrom('conversations').select('id').where('customer_id', '=', c.id).executeTakeFirstOrThrow();
		for (const text of ['ございます。', 'ほかにもご用意できます。']) {
			const answer = await call('POST', `/conversations/${conversation.id}/replies`, 'manager', { clientId: randomUUID(), text });
			expect(answer.status).toBe(201);
		}
		clock = new Date();
		const ctx = (await call('GET', `/followups/compose/${c.id}`, 'sato')).body.contact;
		expect(ctx.lastContact).toMatchObject({ kind: 'conversation', staffName: '高橋 店長', storeName: '新宿店' });
		expect(ctx.windows.map((w: Json) => w.used)).toEqual([0, 0]);
		expect(ctx.allowed).toBe(true);
	});

	it('follow-ups stored outside the send path (demo seed) become counted contacts, once', async () => {
		clock = jst('2026-04-01T12:00:00');
		const c = await reachable();
		const row = { customer_id: c.id, staff_id: ids.sato, store_id: (await db().selectFrom('staff').select('home_store_id').where('id', '=', ids.sato).executeTakeFirstOrThrow()).home_store_id!, body: 'seeded', messages: JSON.stringify([]) };
		await db().insertInto('follow_ups').values({ ...row, status: 'sent', created_at: jst('2026-03-30T10:00:00'), sent_at: jst('2026-03-30T10:00:05') }).execute();
		await db().insertInto('follow_ups').values({ ...row, status: 'failed', created_at: jst('2026-03-31T10:00:00') }).execute();
		expect(await recordUnrecordedFollowUps(db())).toBeGreaterThanOrEqual(1);
		expect(await recordUnrecordedFollowUps(db())).toBe(0);
		const a = (await contactAllowance(db(), [c.id], clock)).get(c.id)!;
		expect(a).toMatchObject({ allowed: false, reason: 'limit_7d', nextAllowedAt: jst('2026-04-06T10:00:05') });
	});

	it('two tablets sending to the same customer at the same moment: exactly one goes through', async () => {
		clock = jst('2026-03-20T12:00:00');
		for (let round = 0; round < 3; round++) {
			const c = await reachable();
			const results = await Promise.all(['sato', 'suzuki', 'sato', 'suzuki', 'manager', 'sato'].map((who) => send(who, c.id)));
			const statuses = results.map((r) => r.status).sort();
			expect(statuses).toEqual([201, 409, 409, 409, 409, 409]);
			expect(results.filter((r) => r.status === 409).every((r) => r.body.error.code === 'contact_limit_7d')).toBe(true);
			expect(await db().selectFrom('follow_ups').select('id').where('customer_id', '=', c.id).execute()).toHaveLength(1);
			expect(await db().selectFrom('contact_log').select('id').where('customer_id', '=', c.id).execute()).toHaveLength(1);
		}
	});

	it.runIf(kind === 'postgres')('PostgreSQL: sends held at the same point of their transactions still let exactly one through', async () => {
		// A gate holds contact_log so every request stops at its count, inside its transaction: released
		// together, they would all count zero and all send without the per-customer lock.
		clock = jst('2026-03-25T12:00:00');
		const { rows } = await sql<{ db: string }>`select current_database() as db`.execute(db());
		const url = new URL(process.env.DATABASE_URL!);
		url.pathname = `/${rows[0].db}`;
		const gate = new pg.Client({ connectionString: url.toString() });
		await gate.connect();
		try {
			for (let round = 0; round < 2; round++) {
				const c = await reachable();
				await gate.query('begin');
				await gate.query('lock table contact_log in access exclusive mode');
				const pending = Promise.all(['sato', 'suzuki', 'manager', 'sato'].map((who) => send(who, c.id)));
				const deadline = Date.now() + 10_000;
				let waiting = 0;
				while (Date.now() < deadline) {
					waiting = Number((await gate.query(`select count(*) as n from pg_locks l join pg_database d on d.oid = l.database where not l.granted and d.datname = current_database()`)).rows[0].n);
					if (waiting >= 4) break;
					await new Promise((r) => setTimeout(r, 20));
				}
				await gate.query('commit');
				expect(waiting).toBe(4);
				const results = await pending;
				expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409]);
				expect(await db().selectFrom('contact_log').select('id').where('customer_id', '=', c.id).execute()).toHaveLength(1);
			}
		} finally {
			await gate.end();
		}
	});
});
