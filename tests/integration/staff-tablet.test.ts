import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Runtime } from '../../server/runtime.ts';
import { signSession } from '../../server/modules/staff/tokens.ts';
import { refreshProductAffinities } from '../../server/modules/talking-points/affinities.repository.ts';
import type { Profile } from '../../server/modules/customers/profile.types.ts';
import type { PutConsultationRequest } from '../../server/modules/consultations/consultations.types.ts';
import { SIZE_LISTS } from '../../server/modules/consultations/consultations.service.ts';
import { migrateFreeTextSizes } from '../../migrations/2026-12-07T1015_structured_sizes.ts';
import { testDbKinds } from '../helpers/db.ts';
import { createTestRuntime } from '../helpers/runtime.ts';
import {
	daysAgo,
	newConsultation,
	newCustomer,
	newEcOrder,
	newProduct,
	newStaff,
	newStore,
	newStorePurchase,
	TEST_PIN
} from '../helpers/factories.ts';

type Json = Record<string, any>;

describe.each(testDbKinds())('staff tablet API on %s', (kind) => {
	let rt: Runtime;
	let storeA: { id: string; name: string };
	let storeB: { id: string };
	const staff: Record<string, { id: string; staff_code: string }> = {};
	let deviceToken: string;
	const tokens: Record<string, string> = {};

	const call = async (method: string, path: string, opts: { auth?: string; body?: unknown } = {}) => {
		const res = await rt.app.request(`/api${path}`, {
			method,
			headers: {
				...(opts.auth ? { authorization: opts.auth } : {}),
				...(opts.body !== undefined ? { 'content-type': 'application/json' } : {})
			},
			body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined
		});
		const text = await res.text();
		return { status: res.status, body: (text ? JSON.parse(text) : null) as Json };
	};
	const device = () => `Device ${deviceToken}`;
	const bearer = (who: string) => `Bearer ${tokens[who]}`;
	const signIn = async (who: string, pin = TEST_PIN) =>
		call('POST', '/sessions', { auth: device(), body: { staffId: staff[who].id, pin } });

	beforeAll(async () => {
		rt = await createTestRuntime(kind);
		const db = rt.deps.db;
		storeA = await newStore(db, { id: 'a', name: '渋谷店' });
		storeB = await newStore(db, { id: 'b', name: '新宿店' });
		staff.admin = await newStaff(db, { storeId: storeB.id, role: 'admin', display_name: '本部' });
		staff.managerA = await newStaff(db, { storeId: storeA.id, role: 'manager', display_name: '佐藤' });
		staff.staffA = await newStaff(db, { storeId: storeA.id, role: 'staff', display_name: '鈴木' });
		staff.staffA2 = await newStaff(db, { storeId: storeA.id, role: 'staff', display_name: '高橋' });
		staff.managerB = await newStaff(db, { storeId: storeB.id, role: 'manager', display_name: '伊藤' });
		staff.throttled = await newStaff(db, { storeId: storeA.id, role: 'staff', display_name: '田中' });
		const enrolled = await call('POST', '/devices/enroll', {
			body: { storeId: storeA.id, deviceName: 'iPad 1', staffCode: staff.managerA.staff_code, pin: TEST_PIN }
		});
		expect(enrolled.status).toBe(201);
		deviceToken = enrolled.body.deviceToken;
		for (const who of ['admin', 'managerA', 'staffA', 'staffA2']) {
			const s = await signIn(who);
			expect(s.status).toBe(201);
			tokens[who] = s.body.token;
		}
	}, 180_000);
	afterAll(async () => rt?.close());
	// every request here comes from one address; the enrollment limits have their own suite
	beforeEach(async () => {
		await rt.deps.db.deleteFrom('rate_limits').execute();
	});

	describe('enrollment and sign-in', () => {
		it('lists stores without auth', async () => {
			const res = await call('GET', '/stores');
			expect(res.body.stores).toEqual(
				expect.arrayContaining([{ id: 'a', name: '渋谷店', nameEn: expect.any(String) }])
			);
		});

		it('enrolls a device, storing only a hash of its secret', async () => {
			const res = await call('POST', '/devices/enroll', {
				body: { storeId: storeA.id, deviceName: 'iPad 2', staffCode: staff.admin.staff_code, pin: TEST_PIN }
			});
			expect(res.status).toBe(201);
			expect(res.body.device).toEqual({ id: expect.any(String), name: 'iPad 2', storeId: 'a', storeName: '渋谷店' });
			const [id, secret] = res.body.deviceToken.split('.');
			expect(id).toBe(res.body.device.id);
			const row = await rt.deps.db.selectFrom('devices').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
			expect(row.secret_hash).not.toContain(secret);
			expect(row.secret_hash).toMatch(/^[0-9a-f]{64}$/);
		});

		it('takes the staff code in any case (s002 = S002)', async () => {
			const typed = staff.admin.staff_code.toLowerCase();
			expect(typed).not.toBe(staff.admin.staff_code);
			const res = await call('POST', '/devices/enroll', {
				body: { storeId: storeA.id, deviceName: 'iPad lower', staffCode: typed, pin: TEST_PIN }
			});
			expect(res.status).toBe(201);
		});

		it.each([
			['staffA', 'a', 403, 'not_manager'],
			['managerB', 'a', 403, 'not_manager'],
			['managerA', 'nowhere', 404, 'store_not_found']
		])('refuses enrollment by %s for store %s (%i %s)', async (who, storeId, status, code) => {
			const res = await call('POST', '/devices/enroll', {
				body: { storeId, deviceName: 'x', staffCode: staff[who].staff_code, pin: TEST_PIN }
			});
			expect(res.status).toBe(status);
			expect(res.body.error.code).toBe(code);
		});

		it('refuses enrollment with a wrong PIN or unknown code', async () => {
			const wrong = await call('POST', '/devices/enroll', {
				body: { storeId: 'a', deviceName: 'x', staffCode: staff.managerB.staff_code, pin: '0000' }
			});
			expect(wrong.status).toBe(401);
			expect(wrong.body.error.code).toBe('invalid_credentials');
			const unknown = await call('POST', '/devices/enroll', {
				body: { storeId: 'a', deviceName: 'x', staffCode: 'NOPE', pin: TEST_PIN }
			});
			expect(unknown.body.error.code).toBe('invalid_credentials');
			// enrollment has its own limits: a wrong PIN there never locks the manager out of sign-in
			const row = await rt.deps.db.selectFrom('staff').select('failed_pin_attempts').where('id', '=', staff.managerB.id).executeTakeFirstOrThrow();
			expect(row.failed_pin_attempts).toBe(0);
		});

		it('lists the store staff on the device, staff before managers before admins', async () => {
			const res = await call('GET', '/devices/me', { auth: device() });
			expect(res.status).toBe(200);
			expect(res.body.device.storeId).toBe('a');
			const roles = res.body.staff.map((s: Json) => s.role);
			expect(roles).toEqual([...roles].sort((x: string, y: string) => ['staff', 'manager', 'admin'].indexOf(x) - ['staff', 'manager', 'admin'].indexOf(y)));
			const ids = res.body.staff.map((s: Json) => s.id);
			expect(ids).toContain(staff.admin.id);
			expect(ids).not.toContain(staff.managerB.id);
		});

		it('rejects unknown or forged device tokens', async () => {
			expect((await call('GET', '/devices/me')).body.error.code).toBe('invalid_device');
			const forged = `Device ${deviceToken.split('.')[0]}.${'x'.repeat(43)}`;
			const res = await call('GET', '/devices/me', { auth: forged });
			expect(res.status).toBe(401);
			expect(res.body.error.code).toBe('invalid_device');
		});

		it('issues an HS256 session with the staff, device and store', async () => {
			const res = await signIn('staffA');
			expect(res.status).toBe(201);
			expect(res.body.staff).toEqual({ id: staff.staffA.id, displayName: '鈴木', role: 'staff', storeId: 'a', staffCode: staff.staffA.staff_code });
			const payload = JSON.parse(Buffer.from(res.body.token.split('.')[1], 'base64url').toString());
			expect(payload).toMatchObject({ sub: staff.staffA.id, role: 'staff', sid: 'a' });
			expect(payload.exp - payload.iat).toBe(12 * 3600);
			expect(Date.parse(res.body.expiresAt)).toBe(payload.exp * 1000);
		});

		it('does not sign in staff of another store', async () => {
			const res = await signIn('managerB');
			expect(res.status).toBe(403);
		});

		it('locks a staff member after 5 wrong PINs and a success resets the count', async () => {
			const first = await signIn('throttled', '9999');
			expect(first.status).toBe(401);
			expect(first.body.error).toMatchObject({ code: 'invalid_pin', fields: { attemptsLeft: 4 } });
			expect((await signIn('throttled')).status).toBe(201); // success resets
			for (let i = 4; i >= 1; i--) {
				const res = await signIn('throttled', '9999');
				expect(res.body.error.fields.attemptsLeft).toBe(i);
			}
			const fifth = await signIn('throttled', '9999');
			expect(fifth.status).toBe(429);
			expect(fifth.body.error.code).toBe('pin_locked');
			expect(fifth.body.error.fields.retryAfterSeconds).toBeGreaterThan(290);
			// even the right PIN is refused while locked
			expect((await signIn('throttled')).status).toBe(429);
			// once the lock has passed, the right PIN works again
			await rt.deps.db.updateTable('staff').set({ pin_locked_until: daysAgo(1) }).where('id', '=', staff.throttled.id).execute();
			expect((await signIn('throttled')).status).toBe(201);
		});

		it('counts concurrent wrong guesses without letting any past the limit', async () => {
			const target = await newStaff(rt.deps.db, { storeId: 'a' });
			staff.racer = target;
			const results = await Promise.all(Array.from({ length: 8 }, () => signIn('racer', '1111')));
			expect(results.filter((r) => r.status === 401)).toHaveLength(4);
			expect(results.filter((r) => r.status === 429)).toHaveLength(4);
			expect((await signIn('racer')).status).toBe(429);
		});

		it('rejects expired, forged and signed-out sessions', async () => {
			const expired = await signSession(rt.config.sessionSecret, {
				staffId: staff.staffA.id, role: 'staff', deviceId: deviceToken.split('.')[0], storeId: 'a'
			}, Math.floor(Date.now() / 1000) - 13 * 3600);
			const e = await call('GET', '/customers/search?q=ヤマ', { auth: `Bearer ${expired.token}` });
			expect(e.status).toBe(401);
			expect(e.body.error.code).toBe('session_expired');
			const forged = await signSession('another-secret-another-secret-another-secret', {
				staffId: staff.staffA.id, role: 'admin', deviceId: deviceToken.split('.')[0], storeId: 'a'
			});
			expect((await call('GET', '/customers/search?q=ヤマ', { auth: `Bearer ${forged.token}` })).body.error.code).toBe('unauthorized');
			expect((await call('GET', '/customers/search?q=ヤマ')).status).toBe(401);

			const session = await signIn('staffA2');
			const auth = `Bearer ${session.body.token}`;
			expect((await call('GET', '/customers/search?q=ヤマ', { auth })).status).toBe(200);
			expect((await call('DELETE', '/sessions/current', { auth })).status).toBe(204);
			expect((await call('GET', '/customers/search?q=ヤマ', { auth })).status).toBe(401);
		});

		it('stops sessions of a deactivated staff member at once', async () => {
			const temp = await newStaff(rt.deps.db, { storeId: 'a' });
			staff.temp = temp;
			const auth = `Bearer ${(await signIn('temp')).body.token}`;
			await rt.deps.db.updateTable('staff').set({ active: false }).where('id', '=', temp.id).execute();
			expect((await call('GET', '/customers/search?q=ヤマ', { auth })).status).toBe(401);
		});
	});

	describe('role matrix', () => {
		it.each([
			['staffA', 403],
			['managerA', 204],
			['admin', 204]
		])('revoking the device as %s → %i', async (who, status) => {
			// each case revokes its own freshly enrolled tablet
			const enrolled = await call('POST', '/devices/enroll', {
				body: { storeId: 'a', deviceName: `t-${who}`, staffCode: staff.managerA.staff_code, pin: TEST_PIN }
			});
			const token = enrolled.body.deviceToken;
			const session = await call('POST', '/sessions', { auth: `Device ${token}`, body: { staffId: staff[who].id, pin: TEST_PIN } });
			const auth = `Bearer ${session.body.token}`;
			const res = await call('POST', '/devices/me/revoke', { auth });
			expect(res.status).toBe(status);
			if (status === 403) {
				expect(res.body.error.code).toBe('forbidden');
				return;
			}
			// the tablet and every session on it stop working
			expect((await call('GET', '/devices/me', { auth: `Device ${token}` })).body.error.code).toBe('device_revoked');
			const after = await call('GET', '/customers/search?q=ヤマ', { auth });
			expect(after.status).toBe(401);
			expect(after.body.error.code).toBe('device_revoked');
		});

		it.each([
			['GET', '/customers/search?q=ヤマ'],
			['GET', '/customers/today'],
			['GET', '/products/search?q=シャツ'],
			['PUT', `/consultations/${randomUUID()}`]
		])('%s %s needs a staff session (any role)', async (method, path) => {
			expect((await call(method, path, { body: method === 'PUT' ? {} : undefined })).status).toBe(401);
			expect((await call(method, path, { auth: device(), body: method === 'PUT' ? {} : undefined })).status).toBe(401);
			for (const who of ['staffA', 'managerA', 'admin']) {
				const res = await call(method, path, { auth: bearer(who), body: method === 'PUT' ? {} : undefined });
				expect(res.status).not.toBe(401);
				expect(res.status).not.toBe(403);
			}
		});
	});

	describe('customers, profile and consultations', () => {
		let hanako: { id: string; member_no: string };
		let sneaker: { id: number; sku: string };
		let care: { id: number; sku: string };
		let tee: { id: number; sku: string };
		let pants: { id: number; sku: string };
		let bag: { id: number; sku: string };

		beforeAll(async () => {
			const db = rt.deps.db;
			sneaker = await newProduct(db, { name: 'レザースニーカー', category: 'シューズ', jan: '4900000000017', price_yen: 14300 });
			care = await newProduct(db, { name: '防水スプレー', category: 'シューケア', price_yen: 1980 });
			tee = await newProduct(db, { name: 'ポケットTシャツ', category: 'トップス', price_yen: 3990 });
			pants = await newProduct(db, { name: 'テーパードパンツ', category: 'ボトムス', price_yen: 6990 });
			bag = await newProduct(db, { name: 'トートバッグ', category: 'バッグ', price_yen: 5990 });
			const now = new Date();
			hanako = await newCustomer(db, {
				family_name: '山田', given_name: '花子', family_kana: 'ヤマダ', given_kana: 'ハナコ', phone: '09011112222',
				birthday: `1990-${String(new Date(now.getTime() + 9 * 3600_000).getUTCMonth() + 1).padStart(2, '0')}-15`,
				home_store_id: 'a', line_user_id: `U${'1'.repeat(32)}`, line_friend: true, consent_messages: true
			});
			await newStorePurchase(db, { storeId: 'a', customerId: hanako.id, at: daysAgo(30), staffId: staff.staffA.id,
				lines: [{ productId: sneaker.id, sku: sneaker.sku, unitPriceYen: 14300 }] });
			await newStorePurchase(db, { storeId: 'a', customerId: hanako.id, at: daysAgo(100),
				lines: [{ productId: tee.id, sku: tee.sku, unitPriceYen: 3990 }] });
			await newEcOrder(db, { customerId: hanako.id, at: daysAgo(10),
				lines: [{ productId: tee.id, sku: tee.sku, unitPriceYen: 3990, quantity: 2, name: 'ポケットTシャツ' }] });
			await newEcOrder(db, { customerId: hanako.id, at: daysAgo(5), status: 'cancelled',
				lines: [{ productId: bag.id, sku: bag.sku, unitPriceYen: 5990, name: 'トートバッグ' }] });
			await newConsultation(db, { customerId: hanako.id, storeId: 'a', staffId: staff.staffA.id, at: daysAgo(3),
				nextAction: 'パンツの入荷連絡', nextActionDue: new Date(now.getTime() + 9 * 3600_000).toISOString().slice(0, 10),
				sizes: { shoes: '24.5' } });
			// other shoppers' baskets: sneakers go with care spray and pants
			const other = await newCustomer(db, { family_name: '松本', family_kana: 'マツモト', phone: '08033332222' });
			for (let i = 0; i < 3; i++) {
				await newStorePurchase(db, { storeId: 'b', customerId: other.id, at: daysAgo(20 + i), lines: [
					{ productId: sneaker.id, sku: sneaker.sku, unitPriceYen: 14300 },
					{ productId: care.id, sku: care.sku, unitPriceYen: 1980 },
					...(i === 0 ? [{ productId: pants.id, sku: pants.sku, unitPriceYen: 6990 }] : [])
				] });
			}
			await refreshProductAffinities(db);
		}, 180_000);

		it('searches by kana (hiragana typed), name, phone last 4 and member number', async () => {
			const auth = bearer('staffA');
			const kana = await call('GET', `/customers/search?q=${encodeURIComponent('やまだ')}`, { auth });
			expect(kana.body.results.map((r: Json) => r.id)).toContain(hanako.id);
			const r = kana.body.results.find((x: Json) => x.id === hanako.id);
			expect(r).toMatchObject({ memberNo: hanako.member_no, name: '山田 花子', kana: 'ヤマダ ハナコ', phoneLast4: '2222', state: 'cross_channel' });
			expect(Date.parse(r.lastVisitAt)).toBeGreaterThan(daysAgo(31).getTime());
			const name = await call('GET', `/customers/search?q=${encodeURIComponent('山田 花')}`, { auth });
			expect(name.body.results.map((x: Json) => x.id)).toContain(hanako.id);
			const phone = await call('GET', '/customers/search?q=2222', { auth });
			expect(phone.body.results.map((x: Json) => x.id)).toEqual(expect.arrayContaining([hanako.id]));
			expect(phone.body.results).toHaveLength(2);
			const member = await call('GET', `/customers/search?q=${hanako.member_no}`, { auth });
			expect(member.body.results.map((x: Json) => x.id)).toEqual([hanako.id]);
			const short = await call('GET', '/customers/search?q=ヤ', { auth });
			expect(short.status).toBe(400);
			expect(short.body.error.code).toBe('query_too_short');
		});

		it('finds a customer by member number after an offline scan', async () => {
			const ok = await call('GET', `/customers/by-member/${hanako.member_no}`, { auth: bearer('staffA') });
			expect(ok.body).toEqual({ id: hanako.id });
			const missing = await call('GET', '/customers/by-member/9999999999', { auth: bearer('staffA') });
			expect(missing.status).toBe(404);
			expect(missing.body.error.code).toBe('customer_not_found');
		});

		it('builds one profile across store and EC, newest first, with LTV split and talking points', async () => {
			const res = await call('GET', `/customers/${hanako.id}/profile?via=scan`, { auth: bearer('staffA') });
			expect(res.status).toBe(200);
			const p = res.body as Profile;
			expect(p.customer).toMatchObject({
				id: hanako.id, memberNo: hanako.member_no, name: '山田 花子', kana: 'ヤマダ ハナコ', state: 'cross_channel',
				ltv: { storeYen: 14300 + 3990, ecYen: 7980, totalYen: 14300 + 3990 + 7980 },
				homeStore: { id: 'a', name: '渋谷店', nameEn: expect.any(String) },
				line: { linked: true, friend: true, blocked: false, consentMessages: true }
			});
			expect(Date.parse(p.customer.lastEcOrderAt!)).toBeGreaterThan(daysAgo(11).getTime());
			expect(p.timeline.map((t) => t.kind)).toEqual(['consultation', 'ec_order', 'ec_order', 'store_purchase', 'store_purchase']);
			const times = p.timeline.map((t) => Date.parse(t.at));
			expect(times).toEqual([...times].sort((a, b) => b - a));
			expect(p.timeline.find((t) => t.kind === 'store_purchase')).toMatchObject({ storeName: '渋谷店', amountYen: 14300, staffName: '鈴木' });
			expect(p.timeline[1].status).toBe('cancelled');
			expect(p.timeline[0]).toMatchObject({ staffName: '鈴木', nextAction: 'パンツの入荷連絡' });
			expect(p.preferences.sizes).toEqual({ shoes: '24.5' });
			const ids = p.talkingPoints.map((t) => t.id);
			expect(ids).toEqual(expect.arrayContaining(['next_action_due', 'birthday_month', 'shoe_care']));
			expect(p.talkingPoints.length).toBeLessThanOrEqual(5);
			const shoe = p.talkingPoints.find((t) => t.id === 'shoe_care')!;
			expect(shoe.reason).toBe('レザースニーカー購入から30日 → シューケア用品');
			expect(shoe.productIds).toEqual([care.id]);
			// what the profile's one-tap 「フォローで送る」 needs
			expect(shoe.products).toEqual([{ id: care.id, sku: care.sku, name: expect.any(String), priceYen: expect.any(Number) }]);
			// complementary products from other baskets, not what she owns
			expect(p.suggestions.map((s) => s.productId)).toEqual([care.id, pants.id]);
			expect(p.suggestions[0].reason).toContain('レザースニーカー');
		});

		it('pages the timeline with ?before= and shows a merged record\'s history on the survivor', async () => {
			const auth = bearer('staffA');
			const cutoff = daysAgo(20).toISOString();
			const page = await call('GET', `/customers/${hanako.id}/profile?via=recent&before=${encodeURIComponent(cutoff)}`, { auth });
			expect(page.body.timeline.map((t: Json) => t.kind)).toEqual(['store_purchase', 'store_purchase']);
			const loser = await newCustomer(rt.deps.db, { merged_into: hanako.id, family_name: '山田' });
			await newStorePurchase(rt.deps.db, { storeId: 'b', customerId: loser.id, at: daysAgo(400), lines: [{ productId: bag.id, sku: bag.sku, unitPriceYen: 5990 }] });
			const viaLoser = await call('GET', `/customers/${loser.id}/profile`, { auth });
			expect(viaLoser.body.customer.id).toBe(hanako.id);
			expect(viaLoser.body.timeline.at(-1)).toMatchObject({ kind: 'store_purchase', storeName: '新宿店', amountYen: 5990 });
			expect(viaLoser.body.customer.ltv.storeYen).toBe(14300 + 3990 + 5990);
			// keep the other assertions about Hanako independent of this record
			await rt.deps.db.deleteFrom('store_purchase_lines').where('purchase_id', 'in', rt.deps.db.selectFrom('store_purchases').select('id').where('customer_id', '=', loser.id)).execute();
			await rt.deps.db.deleteFrom('store_purchases').where('customer_id', '=', loser.id).execute();
		});

		it('writes an audit row per profile opening with actor, device and via', async () => {
			const before = await rt.deps.db.selectFrom('audit_log').select('id').where('customer_id', '=', hanako.id).execute();
			await call('GET', `/customers/${hanako.id}/profile?via=search`, { auth: bearer('managerA') });
			const rows = await rt.deps.db.selectFrom('audit_log').selectAll().where('customer_id', '=', hanako.id).orderBy('id', 'desc').execute();
			expect(rows.length).toBe(before.length + 1);
			expect(rows[0]).toMatchObject({ action: 'profile.view', via: 'search', actor_staff_id: staff.managerA.id, device_id: deviceToken.split('.')[0] });
		});

		it('answers 404 for unknown customers and 400 for a bad via', async () => {
			expect((await call('GET', `/customers/${randomUUID()}/profile`, { auth: bearer('staffA') })).status).toBe(404);
			expect((await call('GET', `/customers/${hanako.id}/profile?via=x`, { auth: bearer('staffA') })).status).toBe(400);
		});

		const body = (over: Partial<PutConsultationRequest> = {}): PutConsultationRequest => ({
			customerId: hanako.id,
			occurredAt: new Date().toISOString(),
			items: [{ productId: pants.id, sku: pants.sku, name: 'テーパードパンツ', size: '64', outcome: 'tried' }],
			sizes: { bottoms: '64' },
			notes: '裾上げ希望',
			tags: ['試着'],
			nextAction: '入荷連絡',
			nextActionDue: '2030-01-15',
			...over
		});

		it('creates a consultation once: 201, replay 200, another author 409', async () => {
			const id = randomUUID();
			const first = await call('PUT', `/consultations/${id}`, { auth: bearer('staffA'), body: body() });
			expect(first.status).toBe(201);
			expect(first.body.consultation).toMatchObject({
				id, customerId: hanako.id, storeId: 'a', storeName: '渋谷店', staffId: staff.staffA.id, staffName: '鈴木',
				deviceId: deviceToken.split('.')[0], notes: '裾上げ希望', tags: ['試着'], nextActionDue: '2030-01-15'
			});
			const replay = await call('PUT', `/consultations/${id}`, { auth: bearer('staffA'), body: body({ notes: 'changed' }) });
			expect(replay.status).toBe(200);
			expect(replay.body.consultation.notes).toBe('裾上げ希望');
			const other = await call('PUT', `/consultations/${id}`, { auth: bearer('managerA'), body: body() });
			expect(other.status).toBe(409);
			expect(other.body.error.code).toBe('id_conflict');
			const rows = await rt.deps.db.selectFrom('consultations').select('id').where('id', '=', id).execute();
			expect(rows).toHaveLength(1);
		});

		it('stores concurrent replays of the same id exactly once', async () => {
			const id = randomUUID();
			const results = await Promise.all(Array.from({ length: 4 }, () => call('PUT', `/consultations/${id}`, { auth: bearer('staffA'), body: body() })));
			expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 201]);
			const rows = await rt.deps.db.selectFrom('consultations').select('id').where('id', '=', id).execute();
			expect(rows).toHaveLength(1);
		});

		it('resolves an offline record by member number, and keeps an unknown one for later', async () => {
			const id = randomUUID();
			const res = await call('PUT', `/consultations/${id}`, { auth: bearer('staffA'), body: body({ customerId: undefined, memberNo: hanako.member_no }) });
			expect(res.status).toBe(201);
			expect(res.body.consultation.customerId).toBe(hanako.id);
			const unknown = await call('PUT', `/consultations/${randomUUID()}`, { auth: bearer('staffA'), body: body({ customerId: undefined, memberNo: '1999999999' }) });
			expect(unknown.status).toBe(201);
			expect(unknown.body.consultation).toMatchObject({ customerId: null, memberNo: '1999999999' });
		});

		it('validates with field messages', async () => {
			const res = await call('PUT', `/consultations/${randomUUID()}`, {
				auth: bearer('staffA'),
				body: body({
					notes: 'あ'.repeat(2001),
					tags: Array.from({ length: 11 }, (_, i) => `t${i}`),
					items: Array.from({ length: 31 }, () => ({ name: 'x', outcome: 'tried' as const })),
					nextActionDue: '2030-02-30'
				})
			});
			expect(res.status).toBe(400);
			expect(Object.keys(res.body.error.fields)).toEqual(expect.arrayContaining(['notes', 'tags', 'items', 'nextActionDue']));
			const noSubject = await call('PUT', `/consultations/${randomUUID()}`, { auth: bearer('staffA'), body: body({ customerId: undefined }) });
			expect(noSubject.status).toBe(400);
			expect(noSubject.body.error.fields.customerId).toBeDefined();
			const badId = await call('PUT', '/consultations/not-a-uuid', { auth: bearer('staffA'), body: body() });
			expect(badId.status).toBe(400);
		});

		it("records sizes from the brand's lists: typed forms read as list entries, anything else a 400 with a code", async () => {
			const lists = await call('GET', '/consultations/size-lists', { auth: bearer('staffA') });
			expect(lists.status).toBe(200);
			expect(lists.body.lists.shoes[0]).toBe('22.0');
			expect(lists.body.lists.shoes.at(-1)).toBe('29.0');
			expect(lists.body.lists.shoes).toHaveLength(15);
			expect(lists.body.lists.tops).toEqual(['XS', 'S', 'M', 'L', 'XL', 'XXL']);
			const ok = await call('PUT', `/consultations/${randomUUID()}`, { auth: bearer('staffA'), body: body({ sizes: { shoes: '24', tops: 'ｍ' } }) });
			expect(ok.status).toBe(201);
			expect(ok.body.consultation.sizes).toEqual({ shoes: '24.0', tops: 'M' });
			const offList = await call('PUT', `/consultations/${randomUUID()}`, { auth: bearer('staffA'), body: body({ sizes: { shoes: '24.3' } }) });
			expect(offList.status).toBe(400);
			expect(offList.body.error.code).toBe('size_not_in_list');
			expect(offList.body.error.fields['sizes.shoes']).toBeDefined();
			const unknown = await call('PUT', `/consultations/${randomUUID()}`, { auth: bearer('staffA'), body: body({ sizes: { hats: 'M' } }) });
			expect(unknown.status).toBe(400);
			expect(unknown.body.error.code).toBe('size_category_unknown');
			// the brand's own lists replace the defaults (an admin sets them; staff cannot; a bad shape is refused)
			expect((await call('PUT', '/consultations/size-lists', { auth: bearer('staffA'), body: { lists: { shoes: ['23.0'] } } })).status).toBe(403);
			const bad = await call('PUT', '/consultations/size-lists', { auth: bearer('admin'), body: { lists: { hats: ['M'] } } });
			expect(bad.body.error.code).toBe('invalid_setting');
			const set = await call('PUT', '/consultations/size-lists', { auth: bearer('admin'), body: { lists: { shoes: ['23.0', '23.5'] } } });
			expect(set.status).toBe(200);
			try {
				expect((await call('GET', '/consultations/size-lists', { auth: bearer('staffA') })).body.lists).toEqual({ shoes: ['23.0', '23.5'] });
				const notOffered = await call('PUT', `/consultations/${randomUUID()}`, { auth: bearer('staffA'), body: body({ sizes: { tops: 'M' } }) });
				expect(notOffered.body.error.code).toBe('size_category_unknown');
			} finally {
				await rt.deps.db.deleteFrom('brand_settings').where('key', '=', SIZE_LISTS.key).execute();
			}
		});

		it('migrates free-text sizes: list matches become structured, the rest stay visible on the profile as typed', async () => {
			const db = rt.deps.db;
			const customer = await newCustomer(db, { family_name: '石井', family_kana: 'イシイ', phone: '08055556666' });
			await newConsultation(db, { customerId: customer.id, storeId: 'a', staffId: staff.staffA.id, at: daysAgo(40),
				sizes: { シューズ: '24cm', トップス: 'Ｌ', ワイズ: '3E', パンツ: 'ゆったりめ' } });
			await newConsultation(db, { customerId: customer.id, storeId: 'a', staffId: staff.staffA.id, at: daysAgo(20), sizes: { shoes: '24.5' } });
			await migrateFreeTextSizes(db);
			const rows = await db.selectFrom('consultations').select(['sizes', 'legacy_sizes']).where('customer_id', '=', customer.id).orderBy('occurred_at').execute();
			expect(rows[0]).toEqual({ sizes: { shoes: '24.0', tops: 'L' }, legacy_sizes: { ワイズ: '3E', パンツ: 'ゆったりめ' } });
			expect(rows[1]).toEqual({ sizes: { shoes: '24.5' }, legacy_sizes: {} });
			const p = (await call('GET', `/customers/${customer.id}/profile`, { auth: bearer('staffA') })).body as Profile;
			expect(p.preferences.sizes).toEqual({ shoes: '24.5', tops: 'L' });
			expect(p.preferences.sizeHistory?.shoes.map((h) => h.size)).toEqual(['24.5', '24.0']);
			expect(p.preferences.legacySizes?.map((l) => `${l.label} ${l.size}`).sort()).toEqual(['パンツ ゆったりめ', 'ワイズ 3E'].sort());
		});

		it('lists the brand-wide consultation history with who wrote each', async () => {
			const res = await call('GET', `/customers/${hanako.id}/consultations`, { auth: bearer('admin') });
			expect(res.status).toBe(200);
			expect(res.body.consultations.length).toBeGreaterThanOrEqual(4);
			expect(res.body.consultations.every((c: Json) => c.staffName && c.storeName)).toBe(true);
		});

		it("lists today's customers at the store as compact profiles", async () => {
			const res = await call('GET', '/customers/today', { auth: bearer('staffA') });
			expect(res.status).toBe(200);
			const ids = res.body.customers.map((c: Profile) => c.customer.id);
			expect(ids).toContain(hanako.id);
			expect(new Set(ids).size).toBe(ids.length);
			const prefetch = await rt.deps.db.selectFrom('audit_log').select('id').where('action', '=', 'profile.prefetch').where('customer_id', '=', hanako.id).execute();
			expect(prefetch.length).toBeGreaterThan(0);
		});

		it('finds products by part of a name or category, JAN and SKU', async () => {
			const auth = bearer('staffA');
			const byName = await call('GET', `/products/search?q=${encodeURIComponent('スニーカー')}`, { auth });
			expect(byName.body.results.map((p: Json) => p.id)).toContain(sneaker.id);
			// part of a category or name, in katakana or hiragana: 「ケア」 finds the シューケア products
			for (const q of ['ケア', 'けあ', 'スプレー']) {
				const part = await call('GET', `/products/search?q=${encodeURIComponent(q)}`, { auth });
				expect(part.body.results.map((p: Json) => p.id), q).toContain(care.id);
			}
			const byJan = await call('GET', '/products/by-code/4900000000017', { auth });
			expect(byJan.body).toMatchObject({ id: sneaker.id, priceYen: 14300, category: 'シューズ' });
			expect((await call('GET', `/products/by-code/${pants.sku}`, { auth })).body.id).toBe(pants.id);
			const missing = await call('GET', '/products/by-code/0000', { auth });
			expect(missing.status).toBe(404);
			expect(missing.body.error.code).toBe('product_not_found');
		});
	});
});
