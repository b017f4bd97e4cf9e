import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../server/runtime.ts';
import { issueIdToken } from '../../server/sandbox/line/id-token.ts';
import { memberQrSigner, mintMemberQr } from '../../server/modules/members/qr-keys.ts';
import { verifyMemberToken } from '../../server/modules/members/members.service.ts';
import { AppError } from '../../server/errors.ts';
import { testDbKinds } from '../helpers/db.ts';
import { createTestRuntime } from '../helpers/runtime.ts';

let seq = 0;
/** A fresh LINE user id per test, so rate limits and links never collide. */
const newLineUser = () => `U${(Date.now().toString(16) + (++seq).toString(16).padStart(4, '0')).padStart(32, 'a')}`;

describe.each(testDbKinds())('LINE membership on %s', (kind) => {
	let rt: Runtime;
	let ip = 0;
	const json = (body: unknown, headers: Record<string, string> = {}) => ({
		method: 'POST',
		// a distinct address per request group keeps the per-address limit out of unrelated tests
		headers: { 'content-type': 'application/json', 'x-forwarded-for': `10.0.0.${ip}`, ...headers },
		body: JSON.stringify(body)
	});
	const login = async (userId: string, extra: Record<string, unknown> = {}) => {
		const res = await fetch(`${rt.lineSandbox!.url}/_sandbox/login`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ userId, name: 'ライン 太郎', ...extra })
		});
		return ((await res.json()) as { idToken: string }).idToken;
	};
	const countCustomers = async () => (await rt.deps.db.selectFrom('customers').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n;
	const session = async (idToken: string) => rt.app.request('/api/member/session', json({ idToken }));
	const card = (token: string) => rt.app.request('/api/member/card', { headers: { authorization: `Bearer ${token}` } });

	let existingId: string;
	beforeAll(async () => {
		// one load balancer in front: X-Forwarded-For's last hop is the client (as in production)
		rt = await createTestRuntime(kind, { TRUST_PROXY: '1' });
		const db = rt.deps.db;
		await db.insertInto('stores').values([{ id: 'shibuya', name: '渋谷店', name_en: 'Shibuya' }]).execute();
		const staff = await db
			.insertInto('staff')
			.values({ staff_code: 'S900', display_name: '佐藤 美咲', sender_name: '渋谷店 佐藤', role: 'staff', home_store_id: 'shibuya' })
			.returning('id')
			.executeTakeFirstOrThrow();
		const customer = await db
			.insertInto('customers')
			.values({ member_no: '2000000001', family_name: '山田', given_name: '花子', birthday: '1990-04-01' })
			.returning('id')
			.executeTakeFirstOrThrow();
		existingId = customer.id;
		await db.insertInto('customers').values({ member_no: '2000000002', family_name: '松本', given_name: '直樹', birthday: '1985-12-24', line_user_id: `U${'b'.repeat(32)}` }).execute();
		const product = await db.insertInto('products').values({ sku: 'SNK-1', name: 'レザースニーカー', category: 'shoes', price_yen: 12800 }).returning('id').executeTakeFirstOrThrow();
		const purchase = await db
			.insertInto('store_purchases')
			.values({ pos_txn_id: 'P-1', store_id: 'shibuya', customer_id: existingId, staff_id: staff.id, purchased_at: '2026-10-01T03:00:00Z', total_yen: 12800 })
			.returning('id')
			.executeTakeFirstOrThrow();
		await db.insertInto('store_purchase_lines').values({ purchase_id: purchase.id, line_no: 1, product_id: product.id, sku: 'SNK-1', quantity: 1, unit_price_yen: 12800, amount_yen: 12800 }).execute();
		const order = await db
			.insertInto('ec_orders')
			.values({ ec_order_id: '7300000000000000001', customer_id: existingId, ordered_at: '2026-11-01T03:00:00Z', total_yen: 5400, note_attributes: '[]', source_updated_at: '2026-11-01T03:00:00Z' })
			.returning('id')
			.executeTakeFirstOrThrow();
		await db.insertInto('ec_order_lines').values({ order_id: order.id, line_no: 1, name: 'シューケアセット', quantity: 1, unit_price_yen: 5400, amount_yen: 5400 }).execute();
		await db
			.insertInto('attributions')
			.values({ ec_order_id: '7300000000000000001', staff_id: staff.id, store_id: 'shibuya', customer_id: existingId, rule: 'last_touch', ordered_at: '2026-11-01T03:00:00Z', gross_yen: 5400 })
			.execute();
	});
	afterAll(async () => {
		await rt?.lineSandbox?.close();
		await rt?.close();
	});

	describe('ID token verification', () => {
		it('rejects a forged token (not signed by LINE) with 401 id_token_invalid and creates nothing', async () => {
			ip = 1;
			const before = await countCustomers();
			const forged = await issueIdToken({ sub: newLineUser(), aud: rt.config.line.loginChannelId, secret: new TextEncoder().encode('not-line-secret-xxxxxxxxxxxxxxxxx') });
			const res = await session(forged);
			expect(res.status).toBe(401);
			expect((await res.json()).error.code).toBe('id_token_invalid');
			const consent = await rt.app.request('/api/member/consent', json({ idToken: forged, termsAccepted: true, messagesOptIn: true }));
			expect(consent.status).toBe(401);
			expect(await countCustomers()).toBe(before);
		});

		it('rejects a token for another channel with 401 id_token_wrong_channel', async () => {
			ip = 1;
			const res = await session(await login(newLineUser(), { aud: '1999999999' }));
			expect(res.status).toBe(401);
			expect((await res.json()).error.code).toBe('id_token_wrong_channel');
		});

		it('rejects an expired token with 401 id_token_expired', async () => {
			ip = 1;
			const res = await session(await login(newLineUser(), { expiresIn: -30 }));
			expect(res.status).toBe(401);
			expect((await res.json()).error.code).toBe('id_token_expired');
		});

		it('rejects garbage and a missing token with specific 4xx', async () => {
			ip = 1;
			expect((await (await session('not-a-jwt')).json()).error.code).toBe('id_token_invalid');
			const missing = await rt.app.request('/api/member/session', json({}));
			expect(missing.status).toBe(400);
			const badJson = await rt.app.request('/api/member/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"idToken":' });
			expect(badJson.status).toBe(400);
		});

		it('rate-limits session attempts per address', async () => {
			ip = 99;
			const statuses: number[] = [];
			for (let i = 0; i < 35; i++) statuses.push((await session('x')).status);
			expect(statuses).toContain(429);
			expect(statuses.slice(0, 5).every((s) => s === 401)).toBe(true);
		});
	});

	describe('consent and card', () => {
		it('creates a new member on consent and shows the card with a QR that verifies', async () => {
			ip = 2;
			const userId = newLineUser();
			const start = await session(await login(userId));
			expect(start.status).toBe(200);
			const first = await start.json();
			expect(first.status).toBe('needs_consent');
			const early = await card(first.session);
			expect(early.status).toBe(403);
			expect((await early.json()).error.code).toBe('needs_consent');

			const refused = await rt.app.request('/api/member/consent', json({ session: first.session, termsAccepted: false, messagesOptIn: true }));
			expect(refused.status).toBe(400);

			const consent = await rt.app.request('/api/member/consent', json({ session: first.session, termsAccepted: true, messagesOptIn: false }));
			expect(consent.status).toBe(201);
			const linked = await consent.json();
			expect(linked).toMatchObject({ status: 'linked', created: true, memberNo: expect.stringMatching(/^\d{10}$/) });
			const row = await rt.deps.db.selectFrom('customers').selectAll().where('line_user_id', '=', userId).executeTakeFirstOrThrow();
			expect(row.consent_terms_at).not.toBeNull();
			expect(row.consent_messages).toBe(false);
			const identity = await rt.deps.db.selectFrom('customer_identities').selectAll().where('value', '=', userId).executeTakeFirstOrThrow();
			expect(identity).toMatchObject({ kind: 'line', customer_id: row.id });

			// a later visit goes straight to the card
			const again = await (await session(await login(userId))).json();
			expect(again.status).toBe('linked');
			const res = await card(again.session);
			expect(res.status).toBe(200);
			const body = await res.json();
			expect(body).toMatchObject({ name: 'ライン 太郎', memberNo: linked.memberNo, purchases: [] });
			const verified = await verifyMemberToken(rt.deps, body.qr.token);
			expect(verified).toMatchObject({ customerId: row.id, memberNo: linked.memberNo });
		});

		it('links an existing member by member number + birthday and shows store and EC purchases with staff', async () => {
			ip = 3;
			const userId = newLineUser();
			const idToken = await login(userId);
			const wrong = await rt.app.request('/api/member/consent', json({ idToken, termsAccepted: true, messagesOptIn: true, link: { memberNo: '2000000001', birthday: '1990-04-02' } }));
			expect(wrong.status).toBe(400);
			expect((await wrong.json()).error.code).toBe('link_mismatch');
			const unchanged = await rt.deps.db.selectFrom('customers').select(['line_user_id', 'consent_terms_at']).where('id', '=', existingId).executeTakeFirstOrThrow();
			expect(unchanged).toEqual({ line_user_id: null, consent_terms_at: null });

			const ok = await rt.app.request('/api/member/consent', json({ idToken, termsAccepted: true, messagesOptIn: true, linkingOptIn: true, link: { memberNo: '2000000001', birthday: '1990-04-01' } }));
			expect(ok.status).toBe(200);
			const linked = await ok.json();
			expect(linked).toMatchObject({ status: 'linked', created: false, memberNo: '2000000001' });

			const res = await card(linked.session);
			const body = await res.json();
			expect(body.name).toBe('山田 花子');
			expect(body.purchases).toEqual([
				{ channel: 'ec', at: '2026-11-01T03:00:00.000Z', totalYen: 5400, kind: 'open', storeName: '渋谷店', staffName: '佐藤 美咲', items: ['シューケアセット'] },
				{ channel: 'store', at: '2026-10-01T03:00:00.000Z', totalYen: 12800, kind: 'sale', storeName: '渋谷店', staffName: '佐藤 美咲', items: ['レザースニーカー'] }
			]);
		});

		it('refuses a member number already linked to another LINE account', async () => {
			ip = 4;
			const res = await rt.app.request('/api/member/consent', json({ idToken: await login(newLineUser()), termsAccepted: true, messagesOptIn: true, link: { memberNo: '2000000002', birthday: '1985-12-24' } }));
			expect(res.status).toBe(409);
			expect((await res.json()).error.code).toBe('member_linked_elsewhere');
		});

		it('throttles repeated wrong birthdays, then refuses even the right one for a while', async () => {
			ip = 5;
			const idToken = await login(newLineUser());
			const attempt = (birthday: string) =>
				rt.app.request('/api/member/consent', json({ idToken, termsAccepted: true, messagesOptIn: true, link: { memberNo: '2000000002', birthday } }));
			const codes: string[] = [];
			for (let d = 1; d <= 6; d++) codes.push((await (await attempt(`2000-01-0${d}`)).json()).error.code);
			expect(codes.slice(0, 5)).toEqual(Array(5).fill('link_mismatch'));
			expect(codes[5]).toBe('link_throttled');
			const res = await attempt('1985-12-24');
			expect(res.status).toBe(429);
		});

		it('rejects missing, expired-looking and tampered sessions with 401', async () => {
			expect((await (await rt.app.request('/api/member/card')).json()).error.code).toBe('session_missing');
			const bad = await card('eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJVMSJ9.AAAA');
			expect(bad.status).toBe(401);
			expect((await bad.json()).error.code).toBe('session_invalid');
		});
	});

	describe('member QR', () => {
		let token: string;
		beforeAll(async () => {
			ip = 6;
			const userId = newLineUser();
			const first = await (await session(await login(userId))).json();
			const consent = await (await rt.app.request('/api/member/consent', json({ session: first.session, termsAccepted: true, messagesOptIn: true }))).json();
			const res = await rt.app.request('/api/member/qr', { method: 'POST', headers: { authorization: `Bearer ${consent.session}` } });
			expect(res.status).toBe(200);
			const qr = await res.json();
			expect(qr.expiresAt - qr.issuedAt).toBe(300);
			expect(qr.rotateSeconds).toBe(30);
			token = qr.token;
		});

		const reason = async (t: string, nowMs?: number) => {
			try {
				await verifyMemberToken(rt.deps, t, nowMs);
				return 'ok';
			} catch (err) {
				return err instanceof AppError ? `${err.status} ${err.code}` : String(err);
			}
		};

		it('publishes the public key set for offline verification', async () => {
			const res = await rt.app.request('/api/member-qr/keys');
			expect(res.status).toBe(200);
			expect(res.headers.get('cache-control')).toContain('max-age');
			const { keys } = await res.json();
			expect(keys).toHaveLength(1);
			expect(keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
			expect(keys[0].d).toBeUndefined();
		});

		it('verifies a fresh code online and rejects replayed, foreign, forged and malformed codes with their reason', async () => {
			expect(await reason(token)).toBe('ok');
			expect(await reason(token, Date.now() + 6 * 60 * 1000)).toBe('422 qr_expired');
			const foreignPem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
			const foreign = await memberQrSigner(foreignPem);
			const [, payload] = token.split('.');
			const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
			const other = await mintMemberQr(foreign, { customerId: claims.cid, memberNo: claims.mno });
			expect(await reason(other.token)).toBe('422 qr_unknown_key');
			const ours = await memberQrSigner(undefined);
			const forged = await mintMemberQr({ ...foreign, kid: ours.kid }, { customerId: claims.cid, memberNo: claims.mno });
			expect(await reason(forged.token)).toBe('422 qr_bad_signature');
			expect(await reason('1000000001')).toBe('400 qr_malformed');
		});

		it('keeps online verification behind a staff session', async () => {
			const res = await rt.app.request('/api/member-qr/verify', json({ token }));
			expect(res.status).toBe(401);
		});
	});
});
