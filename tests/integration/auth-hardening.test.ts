/**
 * Issue 13 §1 and §7: PIN guessing through enrollment (per address, per code, brand-wide;
 * X-Forwarded-For only behind TRUST_PROXY), identical answers for known and unknown codes,
 * lockouts in the admin-visible audit trail, one-time enrollment codes, PIN change/reset
 * ending sessions, and the follow-up / consultation read scope and audit.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../server/app.ts';
import type { Config } from '../../server/config.ts';
import { parseTrustProxy } from '../../server/http/client-address.ts';
import type { Runtime } from '../../server/runtime.ts';
import { newDeviceSecret } from '../../server/modules/staff/tokens.ts';
import { testDbKinds } from '../helpers/db.ts';
import { createTestRuntime } from '../helpers/runtime.ts';
import { newConsultation, newCustomer, newStaff, newStore, TEST_PIN } from '../helpers/factories.ts';
import { newFollowUp } from '../helpers/report-factories.ts';

type Json = Record<string, any>;
type Staff = { id: string; staff_code: string };

describe.each(testDbKinds())('auth hardening on %s', (kind) => {
	let rt: Runtime;
	const staff: Record<string, Staff> = {};
	const deviceTokens: Record<string, string> = {};
	let customerId: string;

	/** A request as the app sees it from `socket` (the TCP peer), optionally with headers. */
	const call = async (
		path: string,
		opts: { method?: string; body?: unknown; auth?: string; socket?: string; headers?: Record<string, string>; app?: { request: Runtime['app']['request'] } } = {}
	) => {
		const init = {
			method: opts.method ?? (opts.body !== undefined ? 'POST' : 'GET'),
			headers: {
				...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
				...(opts.auth ? { authorization: opts.auth } : {}),
				...opts.headers
			},
			body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined
		};
		const env = { incoming: { socket: { remoteAddress: opts.socket ?? '198.51.100.1' } } };
		const res = await (opts.app ?? rt.app).request(`/api${path}`, init, env);
		const text = await res.text();
		return { status: res.status, body: (text ? JSON.parse(text) : null) as Json, headers: res.headers };
	};
	const enroll = (staffCode: string, pin: string, socket: string, extra: Record<string, unknown> = {}, headers?: Record<string, string>) =>
		call('/devices/enroll', { body: { storeId: 'a', deviceName: 'iPad', staffCode, pin, ...extra }, socket, headers });
	const signIn = (who: string, pin = TEST_PIN, store = 'a') =>
		call('/sessions', { auth: `Device ${deviceTokens[store]}`, body: { staffId: staff[who].id, pin } });
	const bearer = (token: string) => `Bearer ${token}`;
	/** The same app and database under another configuration. */
	const appWith = (overrides: Partial<Config>) => createApp({ ...rt.deps, config: { ...rt.deps.config, ...overrides } });
	const clearLimits = () => rt.deps.db.deleteFrom('rate_limits').execute();

	beforeAll(async () => {
		rt = await createTestRuntime(kind);
		const db = rt.deps.db;
		await newStore(db, { id: 'a', name: '渋谷店' });
		await newStore(db, { id: 'b', name: '新宿店' });
		staff.admin = await newStaff(db, { storeId: 'b', role: 'admin', staff_code: 'ADM1' });
		staff.managerA = await newStaff(db, { storeId: 'a', role: 'manager', staff_code: 'MGA1' });
		staff.managerB = await newStaff(db, { storeId: 'b', role: 'manager', staff_code: 'MGB1' });
		staff.staffA = await newStaff(db, { storeId: 'a', role: 'staff', staff_code: 'STA1' });
		staff.staffA2 = await newStaff(db, { storeId: 'a', role: 'staff', staff_code: 'STA2' });
		staff.staffB = await newStaff(db, { storeId: 'b', role: 'staff', staff_code: 'STB1' });
		for (const store of ['a', 'b']) {
			const { secret, hash } = newDeviceSecret();
			const device = await db.insertInto('devices').values({ store_id: store, name: `tablet ${store}`, secret_hash: hash }).returning('id').executeTakeFirstOrThrow();
			deviceTokens[store] = `${device.id}.${secret}`;
		}
		customerId = (await newCustomer(db, { family_name: '山田', given_name: '花子' })).id;
	}, 300_000);
	afterAll(async () => rt?.close());

	describe('enrollment guessing', () => {
		beforeEach(clearLimits);

		it('locks one address out after 5 attempts, whatever codes it tries, and a right PIN then changes nothing', async () => {
			const codes = ['MGA1', 'MGB1', 'ADM1', 'NOPE1', 'NOPE2'];
			for (const code of codes) expect((await enroll(code, '0000', '203.0.113.5')).status).toBe(401);
			const locked = await enroll('MGA1', TEST_PIN, '203.0.113.5');
			expect(locked.status).toBe(429);
			expect(locked.body.error.code).toBe('enrollment_locked');
			expect(locked.body.error.fields.retryAfterSeconds).toBeGreaterThan(800);
			// another address is not affected
			expect((await enroll('MGA1', TEST_PIN, '203.0.113.6')).status).toBe(201);
		});

		it('ignores a rotating X-Forwarded-For unless TRUST_PROXY says a proxy sets it', async () => {
			const rotate = (i: number) => ({ 'x-forwarded-for': `192.0.2.${i}` });
			const statuses: number[] = [];
			for (let i = 0; i < 6; i++) statuses.push((await enroll(`NOPE${i}`, '0000', '203.0.113.7', {}, rotate(i))).status);
			expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);

			await clearLimits();
			// behind one trusted load balancer the header is the client's address: six clients, no lockout
			const behindProxy = appWith({ trustProxy: parseTrustProxy('1') });
			const proxied: number[] = [];
			for (let i = 0; i < 6; i++) {
				const res = await call('/devices/enroll', {
					app: behindProxy,
					body: { storeId: 'a', deviceName: 'iPad', staffCode: `NOPE${i}`, pin: '0000' },
					socket: '10.0.0.2',
					headers: rotate(i)
				});
				proxied.push(res.status);
			}
			expect(proxied).toEqual([401, 401, 401, 401, 401, 401]);

			await clearLimits();
			// a trusted CIDR list: a client prepending fake hops still ends up as its own address
			const cidrs = appWith({ trustProxy: parseTrustProxy('10.0.0.0/8') });
			const spoofed: number[] = [];
			for (let i = 0; i < 6; i++) {
				const res = await call('/devices/enroll', {
					app: cidrs,
					body: { storeId: 'a', deviceName: 'iPad', staffCode: `NOPE${i}`, pin: '0000' },
					socket: '10.0.0.2',
					headers: { 'x-forwarded-for': `192.0.2.${i}, 203.0.113.9` }
				});
				spoofed.push(res.status);
			}
			expect(spoofed).toEqual([401, 401, 401, 401, 401, 429]);
		});

		it('limits one staff code from many addresses (known and unknown codes alike)', async () => {
			for (const code of ['MGA1', 'ZZZ9']) {
				const statuses: number[] = [];
				for (let i = 0; i < 6; i++) statuses.push((await enroll(i % 2 ? code.toLowerCase() : code, '0000', `203.0.113.${20 + i}`)).status);
				expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
			}
		});

		it('has a brand-wide limit that rotating addresses and codes cannot pass', async () => {
			const statuses: number[] = [];
			for (let i = 0; i < 21; i++) statuses.push((await enroll(`ROT${i}`, '0000', `198.18.0.${i}`)).status);
			expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
			expect(statuses[20]).toBe(429);
			// even the right credentials from a fresh address wait for the lockout
			expect((await enroll('MGA1', TEST_PIN, '198.18.1.1')).body.error.code).toBe('enrollment_locked');
		});

		it('answers a known code with a wrong PIN exactly as an unknown code, after the same PIN hashing', async () => {
			const known = await enroll('MGA1', '0000', '203.0.113.30');
			const unknown = await enroll('QQQ1', '0000', '203.0.113.31');
			const inactive = await newStaff(rt.deps.db, { storeId: 'a', role: 'manager', staff_code: 'OLD1', active: false });
			const gone = await enroll(inactive.staff_code, TEST_PIN, '203.0.113.32');
			for (const res of [known, unknown, gone]) {
				expect(res.status).toBe(401);
				const { requestId, ...rest } = res.body.error;
				expect(rest).toEqual({ code: 'invalid_credentials', message: 'Unknown staff code, wrong PIN or wrong enrollment code' });
			}
			// scrypt runs for unknown codes too: they take a comparable time (not ~0 ms)
			const time = async (code: string, socket: string) => {
				const t0 = performance.now();
				await enroll(code, '0000', socket);
				return performance.now() - t0;
			};
			await clearLimits();
			const knownMs = Math.min(await time('MGA1', '203.0.113.40'), await time('MGA1', '203.0.113.41'));
			const unknownMs = Math.min(await time('QQQ2', '203.0.113.42'), await time('QQQ3', '203.0.113.43'));
			expect(unknownMs).toBeGreaterThan(knownMs * 0.4);
		});

		it('never locks the person out of sign-in, and writes each lockout to the audit trail admins read', async () => {
			for (let i = 0; i < 5; i++) await enroll('MGA1', '0000', `203.0.113.${50 + i}`);
			expect((await enroll('MGA1', TEST_PIN, '203.0.113.60')).status).toBe(429);
			const row = await rt.deps.db.selectFrom('staff').select(['failed_pin_attempts', 'pin_locked_until']).where('id', '=', staff.managerA.id).executeTakeFirstOrThrow();
			expect(row).toEqual({ failed_pin_attempts: 0, pin_locked_until: null });
			const session = await signIn('managerA');
			expect(session.status).toBe(201);

			const admin = (await signIn('admin')).body.token;
			const trail = await call('/audit/security?action=security.enroll_locked', { auth: bearer(admin) });
			expect(trail.status).toBe(200);
			expect(trail.body.events[0]).toMatchObject({
				action: 'security.enroll_locked',
				details: { scope: 'staff_code', staffCode: 'MGA1', address: '203.0.113.54', strike: 1 }
			});
			// managers do not read the security trail
			expect((await call('/audit/security', { auth: bearer(session.body.token) })).status).toBe(403);
		});

		it('doubles the lockout on the next strike', async () => {
			const lockOnce = async () => {
				for (let i = 0; i < 5; i++) await enroll(`DBL${i}`, '0000', '203.0.113.70');
				return (await enroll('DBL9', '0000', '203.0.113.70')).body.error.fields.retryAfterSeconds as number;
			};
			const first = await lockOnce();
			// the lockout ends (moved into the past), the strike is remembered
			await rt.deps.db.updateTable('rate_limits').set({ locked_until: new Date(Date.now() - 1000) }).where('key', '=', 'enroll.address:203.0.113.70').execute();
			const second = await lockOnce();
			expect(first).toBeGreaterThan(850);
			expect(first).toBeLessThanOrEqual(900);
			expect(second).toBeGreaterThan(1750);
		});

		it('matches staff codes without regard to case', async () => {
			expect((await enroll('mga1', TEST_PIN, '203.0.113.80')).status).toBe(201);
		});
	});

	describe('one-time enrollment codes', () => {
		beforeEach(clearLimits);

		it('are required when configured, issued by a manager for their own store, and work once', async () => {
			const strict = appWith({ enrollmentCodeRequired: true });
			const post = (extra: Record<string, unknown>, socket: string) =>
				call('/devices/enroll', { app: strict, body: { storeId: 'a', deviceName: 'iPad', staffCode: 'MGA1', pin: TEST_PIN, ...extra }, socket });
			expect((await call('/devices/enrollment', { app: strict })).body).toEqual({ codeRequired: true });
			const without = await post({}, '203.0.113.90');
			expect(without.status).toBe(401);
			expect(without.body.error.code).toBe('invalid_credentials');

			const manager = (await signIn('managerA')).body.token;
			const other = await call('/devices/enrollment-codes', { app: strict, auth: bearer(manager), body: { storeId: 'b' } });
			expect(other.status).toBe(403);
			const issued = await call('/devices/enrollment-codes', { app: strict, auth: bearer(manager), body: { storeId: 'a' } });
			expect(issued.status).toBe(201);
			expect(issued.body.code).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);

			expect((await post({ enrollmentCode: 'AAAA-BBBB-CCCC' }, '203.0.113.91')).status).toBe(401);
			const ok = await post({ enrollmentCode: issued.body.code.toLowerCase() }, '203.0.113.92');
			expect(ok.status).toBe(201);
			const again = await post({ enrollmentCode: issued.body.code }, '203.0.113.93');
			expect(again.status).toBe(401);
			const stored = await rt.deps.db.selectFrom('enrollment_codes').selectAll().execute();
			expect(stored).toHaveLength(1);
			expect(stored[0].code_hash).not.toContain(issued.body.code.replaceAll('-', ''));
			expect(stored[0].used_by_device).toBe(ok.body.device.id);
		});
	});

	describe('PIN change and reset', () => {
		beforeEach(clearLimits);

		it('a change by the staff member ends every other session of theirs and keeps the caller signed in', async () => {
			const first = (await signIn('staffA')).body.token;
			const second = (await signIn('staffA')).body.token;
			const wrong = await call('/staff/me/pin', { auth: bearer(first), body: { currentPin: '9999', newPin: '135790' } });
			expect(wrong.status).toBe(401);
			expect(wrong.body.error.code).toBe('invalid_pin');

			const changed = await call('/staff/me/pin', { auth: bearer(first), body: { currentPin: TEST_PIN, newPin: '135790' } });
			expect(changed.status).toBe(200);
			for (const old of [first, second]) {
				const res = await call('/followups/templates', { auth: bearer(old) });
				expect(res.status).toBe(401);
				expect(res.body.error.code).toBe('session_revoked');
			}
			expect((await call('/followups/templates', { auth: bearer(changed.body.token) })).status).toBe(200);
			expect((await signIn('staffA', TEST_PIN)).status).toBe(401);
			expect((await signIn('staffA', '135790')).status).toBe(201);
			const audit = await rt.deps.db.selectFrom('audit_log').select(['actor_staff_id']).where('action', '=', 'security.pin_changed').execute();
			expect(audit).toEqual([{ actor_staff_id: staff.staffA.id }]);
		});

		it('a manager resets PINs in their own store only; the person\'s sessions end', async () => {
			const manager = (await signIn('managerA')).body.token;
			const victim = (await signIn('staffA2')).body.token;
			expect((await call(`/staff/${staff.staffA2.id}/pin/reset`, { auth: bearer(manager), body: { newPin: '2222' } })).status).toBe(204);
			expect((await call('/followups/templates', { auth: bearer(victim) })).body.error.code).toBe('session_revoked');
			expect((await signIn('staffA2', '2222')).status).toBe(201);

			expect((await call(`/staff/${staff.staffB.id}/pin/reset`, { auth: bearer(manager), body: { newPin: '2222' } })).status).toBe(403);
			expect((await call(`/staff/${staff.admin.id}/pin/reset`, { auth: bearer(manager), body: { newPin: '2222' } })).status).toBe(403);
			expect((await call(`/staff/${staff.managerA.id}/pin/reset`, { auth: bearer(manager), body: { newPin: '2222' } })).status).toBe(400);
			const staffToken = (await signIn('staffA2', '2222')).body.token;
			expect((await call(`/staff/${staff.staffA.id}/pin/reset`, { auth: bearer(staffToken), body: { newPin: '2222' } })).status).toBe(403);

			const admin = (await signIn('admin')).body.token;
			expect((await call(`/staff/${staff.staffB.id}/pin/reset`, { auth: bearer(admin), body: { newPin: '4444' } })).status).toBe(204);
			const trail = await call('/audit/security?action=security.pin_reset', { auth: bearer(admin) });
			expect(trail.body.events.map((e: Json) => e.details.staffId)).toEqual([staff.staffB.id, staff.staffA2.id]);
		});
	});

	describe('follow-up and consultation reads', () => {
		it('scopes GET /api/followups/:id like the reports, and audits each read', async () => {
			await clearLimits();
			const followUp = await newFollowUp(rt.deps.db, { customerId, staffId: staff.managerA.id, storeId: 'a', status: 'sent', createdAt: new Date() });
			const tokens = {
				sender: (await signIn('managerA')).body.token,
				sameStoreStaff: (await signIn('staffA', '135790')).body.token,
				otherStoreManager: (await call('/sessions', { auth: `Device ${deviceTokens.b}`, body: { staffId: staff.managerB.id, pin: TEST_PIN } })).body.token,
				admin: (await signIn('admin')).body.token
			};
			const read = (who: keyof typeof tokens) => call(`/followups/${followUp.id}`, { auth: bearer(tokens[who]) });
			expect((await read('sameStoreStaff')).status).toBe(403);
			expect((await read('otherStoreManager')).status).toBe(403);
			expect((await read('sender')).status).toBe(200);
			expect((await read('admin')).body.followUp.id).toBe(followUp.id);

			const audit = await rt.deps.db
				.selectFrom('audit_log')
				.select(['actor_staff_id', 'customer_id', 'details'])
				.where('action', '=', 'followup.view')
				.orderBy('id')
				.execute();
			expect(audit.map((a) => a.actor_staff_id)).toEqual([staff.managerA.id, staff.admin.id]);
			expect(audit[0]).toMatchObject({ customer_id: customerId, details: { followUpId: followUp.id } });
		});

		it('writes consultations.view for the consultation history', async () => {
			await newConsultation(rt.deps.db, { customerId, staffId: staff.managerA.id, storeId: 'a', at: new Date() });
			const token = (await signIn('managerA')).body.token;
			const res = await call(`/customers/${customerId}/consultations`, { auth: bearer(token) });
			expect(res.status).toBe(200);
			const audit = await rt.deps.db.selectFrom('audit_log').select(['actor_staff_id', 'customer_id']).where('action', '=', 'consultations.view').execute();
			expect(audit).toEqual([{ actor_staff_id: staff.managerA.id, customer_id: customerId }]);
		});
	});
});
