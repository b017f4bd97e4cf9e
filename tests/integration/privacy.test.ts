/**
 * Consent and the customer's own controls (issue 16 §2, §3) against a real database: the ledger,
 * what current consent decides (follow-ups, what staff see), profile completion on the card,
 * 退会 applied once however often the card replays it, and erasure after the grace period —
 * checked by walking every table (and the logs) for anything of the person.
 */
import { matchCustomers } from '../../server/modules/identity/identity.service.ts';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDACT_PATHS } from '../../server/logger.ts';
import { ERASURE_GRACE_DAYS, runDueErasures } from '../../server/modules/privacy/privacy.service.ts';
import { writeSetting } from '../../server/modules/settings/settings.service.ts';
import { signSession } from '../../server/modules/staff/tokens.ts';
import { createRuntime, type Runtime } from '../../server/runtime.ts';
import { createTestDatabase, testDbKinds } from '../helpers/db.ts';
import { newStaff, newStore } from '../helpers/factories.ts';
import { testConfig } from '../helpers/runtime.ts';

type Json = Record<string, any>;
const lineId = () => `U${randomUUID().replace(/-/g, '')}`;
const DAY = 86_400_000;

describe.each(testDbKinds())('consent and privacy on %s', (kind) => {
	let rt: Runtime;
	let close: () => Promise<void>;
	const logLines: string[] = [];
	let auth: { staff: string; manager: string };
	let storeId: string;
	let staffId: string;
	let ip = 0;

	const db = () => rt.deps.db;
	const api = async (method: string, path: string, opts: { bearer?: string; body?: unknown } = {}) => {
		const res = await rt.app.request(`/api${path}`, {
			method,
			headers: {
				'x-forwarded-for': `10.1.0.${ip}`,
				...(opts.bearer ? { authorization: `Bearer ${opts.bearer}` } : {}),
				...(opts.body !== undefined ? { 'content-type': 'application/json' } : {})
			},
			body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined
		});
		return { status: res.status, body: (await res.json()) as Json };
	};
	const idTokenFor = async (userId: string, name = 'ライン 太郎') => {
		const res = await fetch(`${rt.lineSandbox!.url}/_sandbox/login`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ userId, name })
		});
		return ((await res.json()) as { idToken: string }).idToken;
	};
	/** Joins through the card API; returns the member session and the customer id. */
	const join = async (choice: { messages: boolean; linking: boolean }, userId = lineId()) => {
		ip++;
		const idToken = await idTokenFor(userId);
		const res = await api('POST', '/member/consent', { body: { idToken, termsAccepted: true, messagesOptIn: choice.messages, linkingOptIn: choice.linking } });
		expect(res.status).toBe(201);
		const customer = await db().selectFrom('customers').select(['id', 'member_no']).where('line_user_id', '=', userId).executeTakeFirstOrThrow();
		// reachable on LINE, so only consent decides whether a follow-up may go
		await db().updateTable('customers').set({ line_friend: true }).where('id', '=', customer.id).execute();
		return { session: res.body.session as string, id: customer.id, memberNo: customer.member_no, userId };
	};
	const ledger = (customerId: string) =>
		db().selectFrom('consent_events').select(['purpose', 'granted', 'channel', 'staff_id', 'terms_version']).where('customer_id', '=', customerId).orderBy('id').execute();

	beforeAll(async () => {
		const database = await createTestDatabase(kind, { migrate: false });
		const sink = new Writable({
			write(chunk, _enc, done) {
				logLines.push(String(chunk));
				done();
			}
		});
		const logger = pino({ level: 'debug', redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, sink);
		const runtime = await createRuntime(testConfig({ TRUST_PROXY: '1' }), { handle: database, logger });
		rt = runtime;
		close = async () => {
			await runtime.lineSandbox?.close();
			await runtime.deps.conversationEvents.close();
			await database.dispose();
		};
		const store = await newStore(db(), { name: '渋谷店' });
		storeId = store.id;
		const s = await newStaff(db(), { storeId, pin: null, display_name: '佐藤 美咲' });
		await db().updateTable('staff').set({ sender_name: '渋谷店 佐藤' }).where('id', '=', s.id).execute();
		staffId = s.id;
		const m = await newStaff(db(), { storeId, pin: null, role: 'manager', display_name: '店長 高橋' });
		const device = await db().insertInto('devices').values({ store_id: storeId, name: 'iPad', secret_hash: 'x' }).returning('id').executeTakeFirstOrThrow();
		const sign = async (who: { id: string; role: 'staff' | 'manager' }) =>
			(await signSession(rt.config.sessionSecret, { staffId: who.id, role: who.role, deviceId: device.id, storeId })).token;
		auth = { staff: await sign({ id: s.id, role: 'staff' }), manager: await sign({ id: m.id, role: 'manager' }) };
	}, 60_000);
	afterAll(async () => {
		await close?.();
	});

	describe('the ledger', () => {
		it('records joining (membership under the terms version, linking, messages) and every switch, and refuses to be changed', async () => {
			const m = await join({ messages: true, linking: false });
			expect(await ledger(m.id)).toEqual([
				{ purpose: 'membership', granted: true, channel: 'liff', staff_id: null, terms_version: '2026-12-07' },
				{ purpose: 'purchase_linking', granted: false, channel: 'liff', staff_id: null, terms_version: '2026-12-07' },
				{ purpose: 'staff_messages', granted: true, channel: 'liff', staff_id: null, terms_version: '2026-12-07' }
			]);
			const off = await api('PUT', '/member/consent/staff_messages', { bearer: m.session, body: { granted: false } });
			expect(off.status).toBe(200);
			expect(off.body.consent).toMatchObject({ messages: false, linking: false });
			// in the store: the customer agrees to linking, recorded with the staff member's id
			const inStore = await api('POST', `/privacy/customers/${m.id}/consent`, { bearer: auth.staff, body: { purpose: 'purchase_linking', granted: true } });
			expect(inStore.status).toBe(200);
			expect(inStore.body.consent).toMatchObject({ linking: true, messages: false });
			const rows = await ledger(m.id);
			expect(rows.slice(3)).toEqual([
				{ purpose: 'staff_messages', granted: false, channel: 'liff', staff_id: null, terms_version: '2026-12-07' },
				{ purpose: 'purchase_linking', granted: true, channel: 'tablet', staff_id: staffId, terms_version: '2026-12-07' }
			]);
			// the sending flag follows the ledger
			const flag = await db().selectFrom('customers').select('consent_messages').where('id', '=', m.id).executeTakeFirstOrThrow();
			expect(flag.consent_messages).toBe(false);
			// append-only: neither an update nor a delete goes through
			await expect(sql`update consent_events set granted = true where customer_id = ${m.id}`.execute(db())).rejects.toThrow(/append-only/);
			await expect(sql`delete from consent_events where customer_id = ${m.id}`.execute(db())).rejects.toThrow(/append-only/);
			// managers see the history (newest first) and who viewed the customer
			await api('GET', `/customers/${m.id}/profile?via=search`, { bearer: auth.staff });
			const seen = await api('GET', `/privacy/customers/${m.id}`, { bearer: auth.manager });
			expect(seen.status).toBe(200);
			expect(seen.body.history.map((h: Json) => `${h.purpose}:${h.granted}:${h.channel}`)).toEqual([
				'purchase_linking:true:tablet',
				'staff_messages:false:liff',
				'staff_messages:true:liff',
				'purchase_linking:false:liff',
				'membership:true:liff'
			]);
			expect(seen.body.history[0].staffName).toBe('佐藤 美咲');
			expect(seen.body.views).toEqual([expect.objectContaining({ action: 'profile.view', via: 'search', staffName: '佐藤 美咲' })]);
			// plain staff may not read the privacy pages
			expect((await api('GET', `/privacy/customers/${m.id}`, { bearer: auth.staff })).status).toBe(403);
		});

		it('rejects a bad purpose and a bad body with 400', async () => {
			const m = await join({ messages: true, linking: true });
			const bad = await api('PUT', '/member/consent/membership', { bearer: m.session, body: { granted: false } });
			expect(bad.status).toBe(400);
			const notBool = await api('PUT', '/member/consent/staff_messages', { bearer: m.session, body: { granted: 'no' } });
			expect(notBool.status).toBe(400);
			expect(notBool.body.error.code).toBe('validation_failed');
		});
	});

	describe('recorded by staff in the store (the tablet)', () => {
		it('a consent answer replayed from the outbox (same client id) adds one ledger row, with the staff member\'s id', async () => {
			const m = await join({ messages: true, linking: false });
			const clientId = randomUUID();
			const body = { purpose: 'staff_messages', granted: false, clientId };
			const first = await api('POST', `/privacy/customers/${m.id}/consent`, { bearer: auth.staff, body });
			expect(first.status).toBe(200);
			const [again, concurrent] = await Promise.all([
				api('POST', `/privacy/customers/${m.id}/consent`, { bearer: auth.staff, body }),
				api('POST', `/privacy/customers/${m.id}/consent`, { bearer: auth.staff, body })
			]);
			expect([again.status, concurrent.status]).toEqual([200, 200]);
			expect(again.body.consent).toMatchObject({ messages: false });
			expect((await ledger(m.id)).filter((r) => r.channel === 'tablet')).toEqual([
				{ purpose: 'staff_messages', granted: false, channel: 'tablet', staff_id: staffId, terms_version: '2026-12-07' }
			]);
		});

		it('「カナ未登録」: the reading given in the store fills an empty one only, as katakana; bad input 400, unknown 404, a member who left 409', async () => {
			const m = await join({ messages: false, linking: false });
			const missing = await api('GET', `/customers/${m.id}/profile?via=search`, { bearer: auth.staff });
			expect(missing.body.customer.privacy.missing).toContain('kana');
			const bad = await api('PUT', `/customers/${m.id}/kana`, { bearer: auth.staff, body: { familyKana: 'Yamada' } });
			expect(bad).toMatchObject({ status: 400, body: { error: { code: 'validation_failed', fields: { familyKana: 'Katakana only' } } } });
			const empty = await api('PUT', `/customers/${m.id}/kana`, { bearer: auth.staff, body: { familyKana: ' ' } });
			expect(empty).toMatchObject({ status: 400, body: { error: { fields: { familyKana: 'Required' } } } });
			const ok = await api('PUT', `/customers/${m.id}/kana`, { bearer: auth.staff, body: { familyKana: 'やまぐち', givenKana: 'ｻｷ' } });
			expect(ok).toMatchObject({ status: 200, body: { applied: true, familyKana: 'ヤマグチ', givenKana: 'サキ' } });
			// a replay, or a later different answer, never overwrites what is on file
			const replay = await api('PUT', `/customers/${m.id}/kana`, { bearer: auth.staff, body: { familyKana: 'ヤマモト' } });
			expect(replay).toMatchObject({ status: 200, body: { applied: false } });
			const row = await db().selectFrom('customers').select(['family_kana', 'given_kana']).where('id', '=', m.id).executeTakeFirstOrThrow();
			expect(row).toEqual({ family_kana: 'ヤマグチ', given_kana: 'サキ' });
			const after = await api('GET', `/customers/${m.id}/profile?via=search`, { bearer: auth.staff });
			expect(after.body.customer.privacy.missing).not.toContain('kana');
			expect((await api('PUT', `/customers/${randomUUID()}/kana`, { bearer: auth.staff, body: { familyKana: 'ヤマダ' } })).status).toBe(404);
			const leaver = await join({ messages: false, linking: false });
			expect((await api('POST', '/member/leave', { bearer: leaver.session, body: { clientId: randomUUID() } })).status).toBe(201);
			const refused = await api('PUT', `/customers/${leaver.id}/kana`, { bearer: auth.staff, body: { familyKana: 'ヤマダ' } });
			expect(refused).toMatchObject({ status: 409, body: { error: { code: 'member_left' } } });
		});
	});

	describe('what current consent decides', () => {
		it('refuses a follow-up once the member turned messages off (409 consent_withdrawn) and the compose screen says why', async () => {
			const m = await join({ messages: true, linking: true });
			const ok = await api('GET', `/followups/compose/${m.id}`, { bearer: auth.staff });
			expect(ok.body.eligibility).toEqual({ allowed: true, reason: null });
			const queued = await api('POST', '/followups', { bearer: auth.staff, body: { customerId: m.id, text: 'ご来店ありがとうございました', productIds: [] } });
			expect(queued.status).toBe(201);

			await api('PUT', '/member/consent/staff_messages', { bearer: m.session, body: { granted: false } });
			const ctx = await api('GET', `/followups/compose/${m.id}`, { bearer: auth.staff });
			expect(ctx.body.eligibility).toEqual({ allowed: false, reason: 'consent_withdrawn' });
			const refused = await api('POST', '/followups', { bearer: auth.staff, body: { customerId: m.id, text: 'セールのお知らせ', productIds: [] } });
			expect(refused.status).toBe(409);
			expect(refused.body.error.code).toBe('consent_withdrawn');
			// what was queued before the withdrawal does not go out
			const earlier = await db().selectFrom('follow_ups').select(['status', 'failure_reason']).where('id', '=', queued.body.followUp.id).executeTakeFirstOrThrow();
			expect(earlier).toEqual({ status: 'cancelled', failure_reason: 'consent_withdrawn' });
			// turned on again: allowed again
			await api('PUT', '/member/consent/staff_messages', { bearer: m.session, body: { granted: true } });
			expect((await api('GET', `/followups/compose/${m.id}`, { bearer: auth.staff })).body.eligibility.allowed).toBe(true);
		});

		it('without linking consent staff see the store history only, with the note; with it, store and EC together', async () => {
			const m = await join({ messages: false, linking: false });
			await db()
				.insertInto('store_purchases')
				.values({ pos_txn_id: `P-${m.memberNo}`, store_id: storeId, customer_id: m.id, staff_id: staffId, purchased_at: '2026-10-01T03:00:00Z', total_yen: 12_800 })
				.execute();
			await db()
				.insertInto('ec_orders')
				.values({ ec_order_id: `E-${m.memberNo}`, customer_id: m.id, ordered_at: '2026-11-01T03:00:00Z', total_yen: 5_400, note_attributes: '[]', source_updated_at: '2026-11-01T03:00:00Z' })
				.execute();
			const unlinked = await api('GET', `/customers/${m.id}/profile?via=search`, { bearer: auth.staff });
			expect(unlinked.status).toBe(200);
			expect(unlinked.body.customer.privacy).toEqual({ linking: false, missing: ['kana', 'birthday', 'phone'], leaving: false });
			expect(unlinked.body.customer.ltv).toEqual({ storeYen: 12_800, ecYen: 0, totalYen: 12_800 });
			expect(unlinked.body.timeline.map((e: Json) => e.kind)).toEqual(['store_purchase']);
			// the member's own card follows the same rule
			const card = await api('GET', '/member/card', { bearer: m.session });
			expect(card.body.purchases.map((p: Json) => p.channel)).toEqual(['store']);
			expect(card.body.consent).toMatchObject({ linking: false, messages: false, leaving: null });

			await api('PUT', '/member/consent/purchase_linking', { bearer: m.session, body: { granted: true } });
			const linked = await api('GET', `/customers/${m.id}/profile?via=search`, { bearer: auth.staff });
			expect(linked.body.customer.privacy.linking).toBe(true);
			expect(linked.body.customer.ltv).toEqual({ storeYen: 12_800, ecYen: 5_400, totalYen: 18_200 });
			expect(linked.body.timeline.map((e: Json) => e.kind)).toEqual(['ec_order', 'store_purchase']);
		});
	});

	describe('profile completion on the card', () => {
		it('stores kana as katakana (hiragana and half-width input), month+day birthday, a normalised phone and the home store', async () => {
			const m = await join({ messages: true, linking: true });
			const before = await api('GET', '/member/card', { bearer: m.session });
			expect(before.body.profileComplete).toBe(false);
			expect(before.body.stores).toContainEqual({ id: storeId, name: '渋谷店' });
			const saved = await api('PUT', '/member/profile', {
				bearer: m.session,
				body: { familyKana: 'やまだ', givenKana: 'ﾊﾅｺ', birthday: { month: 4, day: 1 }, phone: '090-1234-5678', homeStoreId: storeId }
			});
			expect(saved.status).toBe(200);
			expect(saved.body.profile).toEqual({ familyKana: 'ヤマダ', givenKana: 'ハナコ', birthday: null, birthMonthDay: '04-01', phone: '09012345678', homeStoreId: storeId });
			const card = await api('GET', '/member/card', { bearer: m.session });
			expect(card.body.profileComplete).toBe(true);
			const profile = await api('GET', `/customers/${m.id}/profile?via=search`, { bearer: auth.staff });
			expect(profile.body.customer.kana).toBe('ヤマダ ハナコ');
			expect(profile.body.customer.privacy.missing).toEqual([]);
			// editable later: a full birthday, no phone
			const later = await api('PUT', '/member/profile', { bearer: m.session, body: { familyKana: 'ヤマダ', birthday: { year: 1990, month: 4, day: 1 }, phone: null, homeStoreId: storeId } });
			expect(later.body.profile).toMatchObject({ birthday: '1990-04-01', birthMonthDay: '04-01', phone: null, givenKana: null });
			const phones = await db().selectFrom('customer_identities').select('value').where('customer_id', '=', m.id).where('kind', '=', 'phone').execute();
			expect(phones).toEqual([]);
		});

		it('refuses missing or non-kana readings, impossible dates, bad phones and unknown stores with 400 and the fields', async () => {
			const m = await join({ messages: false, linking: false });
			const empty = await api('PUT', '/member/profile', { bearer: m.session, body: { familyKana: '' } });
			expect(empty.status).toBe(400);
			expect(empty.body.error.fields).toHaveProperty('familyKana');
			const bad = await api('PUT', '/member/profile', {
				bearer: m.session,
				body: { familyKana: '山田', birthday: { month: 2, day: 30 }, phone: '12345', homeStoreId: 'nowhere' }
			});
			expect(bad.status).toBe(400);
			expect(bad.body.error.code).toBe('validation_failed');
			expect(Object.keys(bad.body.error.fields).sort()).toEqual(['birthday', 'familyKana', 'homeStoreId', 'phone']);
			// 29 February without a year is a real birthday
			const leap = await api('PUT', '/member/profile', { bearer: m.session, body: { familyKana: 'タナカ', birthday: { month: 2, day: 29 } } });
			expect(leap.status).toBe(200);
			expect(leap.body.profile.birthMonthDay).toBe('02-29');
		});
	});

	describe('退会 and erasure', () => {
		it('a withdrawal replayed by the offline card (same client id, also concurrently) is applied once', async () => {
			const m = await join({ messages: true, linking: true });
			const clientId = randomUUID();
			const [a, b] = await Promise.all([
				api('POST', '/member/leave', { bearer: m.session, body: { clientId } }),
				api('POST', '/member/leave', { bearer: m.session, body: { clientId } })
			]);
			expect([a.status, b.status].sort()).toEqual([200, 201]);
			expect(a.body.requestId).toBe(b.body.requestId);
			const again = await api('POST', '/member/leave', { bearer: m.session, body: { clientId } });
			expect(again).toEqual({ status: 200, body: { requestId: a.body.requestId, dueAt: a.body.dueAt, applied: false } });
			// a second withdrawal with another id changes nothing either
			const other = await api('POST', '/member/leave', { bearer: m.session, body: { clientId: randomUUID() } });
			expect(other.body).toMatchObject({ requestId: a.body.requestId, applied: false });
			const withdrawals = (await ledger(m.id)).filter((r) => !r.granted);
			expect(withdrawals.map((r) => r.purpose).sort()).toEqual(['membership', 'purchase_linking', 'staff_messages']);
			const requests = await db().selectFrom('privacy_requests').selectAll().where('customer_id', '=', m.id).execute();
			expect(requests).toHaveLength(1);
			// a client id that is not a UUID is a 400
			expect((await api('POST', '/member/leave', { bearer: m.session, body: { clientId: 'x' } })).status).toBe(400);
		});

		it('stops messages at once, lists the request with its due date, and erases every personal trace after the grace period while sales stay', async () => {
			await writeSetting(db(), ERASURE_GRACE_DAYS, 7, null);
			const userId = lineId();
			const m = await join({ messages: true, linking: true }, userId);
			// ids of rows that are not the person's (the member number must not hide in them)
			const tag = randomUUID().slice(0, 8);
			const PERSON = {
				family: '久保田',
				given: '千鶴子',
				kana: 'クボタ',
				givenKana: 'チヅコ',
				phone: '09087654321',
				email: 'chizuko.kubota@example.jp',
				birthday: '1979-03-15',
				address: '渋谷区神南9-8-7',
				notes: '左足が少し大きいので0.5cm上を好む',
				conversation: '明日の取り置きをお願いできますか',
				lineUserId: userId
			};
			await api('PUT', '/member/profile', {
				bearer: m.session,
				body: { familyKana: PERSON.kana, givenKana: PERSON.givenKana, birthday: { year: 1979, month: 3, day: 15 }, phone: PERSON.phone, homeStoreId: storeId }
			});
			await db().updateTable('customers').set({ family_name: PERSON.family, given_name: PERSON.given, email: PERSON.email, address: PERSON.address, postcode: '150-0041' }).where('id', '=', m.id).execute();
			// the identity matcher's keys (normalised phone, email, name + birthday, address) exist too
			await matchCustomers(db(), [m.id]);
			expect((await db().selectFrom('identity_match_keys').select('kind').where('customer_id', '=', m.id).execute()).length).toBeGreaterThan(0);
			await db().insertInto('customer_identities').values({ customer_id: m.id, kind: 'email', value: PERSON.email }).execute();
			await db().insertInto('customer_identities').values({ customer_id: m.id, kind: 'ec', value: 'shopify-cust-987654' }).execute();
			const purchase = await db()
				.insertInto('store_purchases')
				.values({ pos_txn_id: `P-${tag}`, store_id: storeId, customer_id: m.id, staff_id: staffId, purchased_at: '2026-10-01T03:00:00Z', total_yen: 12_800 })
				.returning('id')
				.executeTakeFirstOrThrow();
			await db().insertInto('store_purchase_lines').values({ purchase_id: purchase.id, line_no: 1, sku: 'SNK-1', quantity: 1, unit_price_yen: 12_800, amount_yen: 12_800 }).execute();
			const ecOrderId = `E-${tag}`;
			await db()
				.insertInto('ec_orders')
				.values({
					ec_order_id: ecOrderId,
					customer_id: m.id,
					ec_customer_id: 'shopify-cust-987654',
					ordered_at: '2026-11-01T03:00:00Z',
					total_yen: 5_400,
					note_attributes: JSON.stringify([{ name: 'tsunagu_ref', value: 'R-ABC' }, { name: 'gift_message', value: `${PERSON.family}様へ` }]) as never,
					source_updated_at: '2026-11-01T03:00:00Z'
				})
				.execute();
			await db().insertInto('attributions').values({ ec_order_id: ecOrderId, staff_id: staffId, store_id: storeId, customer_id: m.id, rule: 'last_touch', ordered_at: '2026-11-01T03:00:00Z', gross_yen: 5_400 }).execute();
			await db()
				.insertInto('webhook_inbox')
				.values({
					source: 'shopify',
					external_id: `wh-${tag}`,
					topic: 'orders/create',
					payload: JSON.stringify({ id: ecOrderId, email: PERSON.email, shipping_address: { address1: PERSON.address, name: `${PERSON.family} ${PERSON.given}` } }) as never,
					processed_at: new Date()
				})
				.execute();
			await db()
				.insertInto('webhook_inbox')
				.values({ source: 'line', external_id: `wh-line-${tag}`, topic: 'message', payload: JSON.stringify({ source: { userId }, message: { text: PERSON.conversation } }) as never, processed_at: new Date() })
				.execute();
			await db()
				.insertInto('consultations')
				.values({ id: randomUUID(), customer_id: m.id, member_no: m.memberNo, store_id: storeId, staff_id: staffId, occurred_at: new Date(), items: JSON.stringify([{ name: 'スニーカー', size: '24.5' }]) as never, sizes: JSON.stringify({ shoes: '24.5' }) as never, legacy_sizes: '{}' as never, notes: PERSON.notes, tags: ['足幅広め'], next_action: `${PERSON.family}様に入荷連絡` })
				.execute();
			const conv = await db()
				.insertInto('conversations')
				.values({ line_user_id: userId, customer_id: m.id, display_name: `${PERSON.family} ${PERSON.given}`, last_message_preview: PERSON.conversation, store_id: storeId })
				.returning('id')
				.executeTakeFirstOrThrow();
			await db().insertInto('conversation_messages').values({ conversation_id: conv.id, direction: 'in', kind: 'text', text: PERSON.conversation, reply_token: 'rt-secret-123', occurred_at: new Date() }).execute();
			await db().insertInto('conversation_handovers').values({ conversation_id: conv.id, from_staff_id: staffId, note: `${PERSON.family}様は電話${PERSON.phone}希望` }).execute();
			await db().insertInto('line_events').values({ webhook_event_id: `ev-${tag}`, line_user_id: userId, customer_id: m.id, type: 'message', message_text: PERSON.conversation, occurred_at: new Date() }).execute();
			const queued = await api('POST', '/followups', { bearer: auth.staff, body: { customerId: m.id, text: `${PERSON.family}様、先日はありがとうございました`, productIds: [] } });
			expect(queued.status).toBe(201);
			await db().insertInto('tracked_links').values({ code: `c${tag}`, staff_id: staffId, store_id: storeId, customer_id: m.id, target_url: 'https://shop.example.jp/p/1' }).execute();
			await db().insertInto('link_clicks').values({ click_id: randomUUID(), code: `c${tag}`, customer_id: m.id, clicked_at: new Date(), user_agent: `Mozilla/5.0 Line/14 (${PERSON.family})` }).execute();
			// the card and the limiter know the LINE user
			await api('GET', '/member/card', { bearer: m.session });

			// 登録情報の確認: everything, readable, including the notes staff wrote
			const data = await api('GET', '/member/data', { bearer: m.session });
			expect(data.status).toBe(200);
			expect(data.body.profile).toMatchObject({ familyName: PERSON.family, familyKana: PERSON.kana, phone: PERSON.phone, email: PERSON.email, birthday: PERSON.birthday, lineUserId: userId });
			expect(data.body.consultations[0].notes).toBe(PERSON.notes);
			expect(data.body.lineConversation[0].text).toBe(PERSON.conversation);
			expect(data.body.storePurchases).toHaveLength(1);
			expect(data.body.ecOrders).toHaveLength(1);
			expect(data.body.consent.history.length).toBeGreaterThanOrEqual(3);

			const salesBefore = await salesOf(m.id, ecOrderId);
			const left = await api('POST', '/member/leave', { bearer: m.session, body: { clientId: randomUUID() } });
			expect(left.status).toBe(201);
			const dueAt = Date.parse(left.body.dueAt);
			expect(Math.round((dueAt - Date.now()) / DAY)).toBe(7);
			// at once: queued follow-ups cancelled, no new ones, the card says so
			expect(await db().selectFrom('follow_ups').select(['status', 'failure_reason']).where('id', '=', queued.body.followUp.id).executeTakeFirstOrThrow()).toEqual({
				status: 'cancelled',
				failure_reason: 'member_left'
			});
			const refused = await api('POST', '/followups', { bearer: auth.staff, body: { customerId: m.id, text: 'こんにちは', productIds: [] } });
			expect(refused.status).toBe(409);
			expect(refused.body.error.code).toBe('member_left');
			expect((await api('GET', `/followups/compose/${m.id}`, { bearer: auth.staff })).body.eligibility).toEqual({ allowed: false, reason: 'member_left' });
			const card = await api('GET', '/member/card', { bearer: m.session });
			expect(card.body.consent.leaving).toEqual({ requestId: left.body.requestId, dueAt: left.body.dueAt });
			expect((await api('PUT', '/member/consent/staff_messages', { bearer: m.session, body: { granted: true } })).body.error.code).toBe('member_left');
			// managers see the request with its due date
			const list = await api('GET', '/privacy/requests?status=pending', { bearer: auth.manager });
			expect(list.body.requests).toContainEqual(expect.objectContaining({ id: left.body.requestId, kind: 'erasure', channel: 'liff', memberNo: m.memberNo, dueAt: left.body.dueAt, status: 'pending' }));
			const all = await api('GET', '/privacy/requests', { bearer: auth.manager });
			expect(all.body.requests).toContainEqual(expect.objectContaining({ customerId: m.id, kind: 'disclosure', status: 'done' }));
			expect((await api('GET', '/privacy/requests', { bearer: auth.staff })).status).toBe(403);

			// within the grace period nothing is erased
			expect(await runDueErasures(rt.deps, new Date(dueAt - DAY))).toBe(0);
			expect((await db().selectFrom('customers').select('family_name').where('id', '=', m.id).executeTakeFirstOrThrow()).family_name).toBe(PERSON.family);
			// after it: erased once
			expect(await runDueErasures(rt.deps, new Date(dueAt + 1000))).toBe(1);
			expect(await runDueErasures(rt.deps, new Date(dueAt + 2000))).toBe(0);
			const request = await db().selectFrom('privacy_requests').select(['status', 'completed_at']).where('id', '=', left.body.requestId).executeTakeFirstOrThrow();
			expect(request.status).toBe('done');

			// every table, every column: nothing of the person is left
			const needles = [PERSON.family, PERSON.given, PERSON.kana, PERSON.givenKana, PERSON.phone, PERSON.email, PERSON.birthday, PERSON.address, PERSON.notes, PERSON.conversation, PERSON.lineUserId, 'shopify-cust-987654', 'rt-secret-123', m.memberNo];
			const tables = await sql<{ table_name: string }>`select table_name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE' order by table_name`.execute(db());
			expect(tables.rows.length).toBeGreaterThan(30);
			const found: string[] = [];
			for (const { table_name } of tables.rows) {
				const rows = await sql<{ row: string }>`select t::text as row from ${sql.table(table_name)} t`.execute(db());
				for (const { row } of rows.rows) for (const needle of needles) if (row.includes(needle)) found.push(`${table_name}: ${needle}`);
			}
			expect(found).toEqual([]);
			// nor in the logs of everything above
			const logs = logLines.join('');
			expect(logs.length).toBeGreaterThan(0);
			expect(needles.filter((n) => logs.includes(n))).toEqual([]);

			// sales and staff credit stay, without identity, so reports stay true
			expect(await salesOf(m.id, ecOrderId)).toEqual(salesBefore);
			const anon = await db().selectFrom('customers').selectAll().where('id', '=', m.id).executeTakeFirstOrThrow();
			expect(anon).toMatchObject({ family_name: null, family_kana: null, phone: null, email: null, line_user_id: null, birthday: null, birth_month_day: null });
			expect(anon.erased_at).not.toBeNull();
			// the ref note attribution reads survives; the gift message does not
			const order = await db().selectFrom('ec_orders').select('note_attributes').where('ec_order_id', '=', ecOrderId).executeTakeFirstOrThrow();
			expect(order.note_attributes).toEqual([{ name: 'tsunagu_ref', value: 'R-ABC' }]);
			// the old session no longer opens a card; the LINE user can join again as someone new
			expect((await api('GET', '/member/card', { bearer: m.session })).status).toBe(401);
		});

		it('backs off a failing erasure and records only an error code', async () => {
			const m = await join({ messages: false, linking: false });
			const left = await api('POST', '/member/leave', { bearer: m.session, body: { clientId: randomUUID() } });
			const due = Date.parse(left.body.dueAt) + 1000;
			// a trigger makes the erasure fail once
			await sql.raw(`create function fail_erasure() returns trigger language plpgsql as $$ begin raise exception 'boom'; end $$`).execute(db());
			await sql.raw(`create trigger fail_erasure before update on customers for each row when (new.erased_at is not null) execute function fail_erasure()`).execute(db());
			try {
				expect(await runDueErasures(rt.deps, new Date(due))).toBe(0);
				const failed = await db().selectFrom('privacy_requests').select(['status', 'attempts', 'last_error', 'next_attempt_at']).where('id', '=', left.body.requestId).executeTakeFirstOrThrow();
				expect(failed).toMatchObject({ status: 'pending', attempts: 1, last_error: 'db_error_P0001' });
				expect(new Date(failed.next_attempt_at).getTime()).toBe(due + 60_000);
				// not retried before its time
				expect(await runDueErasures(rt.deps, new Date(due + 30_000))).toBe(0);
			} finally {
				await sql.raw('drop trigger fail_erasure on customers').execute(db());
				await sql.raw('drop function fail_erasure()').execute(db());
			}
			expect(await runDueErasures(rt.deps, new Date(due + 61_000))).toBe(1);
		});

		it('joining again within the grace period cancels the erasure', async () => {
			const m = await join({ messages: true, linking: true });
			const left = await api('POST', '/member/leave', { bearer: m.session, body: { clientId: randomUUID() } });
			expect(left.status).toBe(201);
			const back = await api('POST', '/member/consent', { body: { session: m.session, termsAccepted: true, messagesOptIn: false, linkingOptIn: true } });
			expect(back.status).toBe(200);
			const request = await db().selectFrom('privacy_requests').select('status').where('id', '=', left.body.requestId).executeTakeFirstOrThrow();
			expect(request.status).toBe('cancelled');
			const card = await api('GET', '/member/card', { bearer: back.body.session });
			expect(card.body.consent).toMatchObject({ leaving: null, messages: false, linking: true });
		});
	});

	async function salesOf(customerId: string, ecOrderId: string) {
		const store = await db().selectFrom('store_purchases').select(['total_yen', 'staff_id', 'store_id']).where('customer_id', '=', customerId).execute();
		const ec = await db().selectFrom('ec_orders').select(['total_yen', 'customer_id']).where('ec_order_id', '=', ecOrderId).execute();
		const credit = await db().selectFrom('attributions').select(['gross_yen', 'staff_id', 'customer_id']).where('ec_order_id', '=', ecOrderId).execute();
		return { store, ec, credit };
	}
});
