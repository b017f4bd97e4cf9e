import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../server/runtime.ts';
import { testDbKinds } from '../helpers/db.ts';
import { createTestRuntime } from '../helpers/runtime.ts';
import { newCustomer, newStaff, newStore } from '../helpers/factories.ts';
import { sessionFor } from '../helpers/report-factories.ts';

type Json = Record<string, any>;

describe.each(testDbKinds())('offline profile views audit on %s', (kind) => {
	let rt: Runtime;
	let token: string;
	let staffId: string;
	let deviceId: string;
	let customers: string[];

	const post = async (body: unknown, auth: string | null = `Bearer ${token}`) => {
		const res = await rt.app.request('/api/audit/profile-views', {
			method: 'POST',
			headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
			body: JSON.stringify(body)
		});
		return { status: res.status, body: (await res.json()) as Json };
	};
	const offlineRows = () =>
		rt.deps.db
			.selectFrom('audit_log')
			.selectAll()
			.where(sql<string>`details->>'offline'`, '=', 'true')
			.orderBy('at')
			.execute();

	beforeAll(async () => {
		rt = await createTestRuntime(kind);
		const db = rt.deps.db;
		const store = await newStore(db, { id: 'a', name: '渋谷店' });
		const staff = await newStaff(db, { storeId: store.id, role: 'staff', display_name: '鈴木' });
		staffId = staff.id;
		token = await sessionFor(db, rt.deps.config.sessionSecret, { id: staff.id, role: 'staff' }, store.id);
		deviceId = (await db.selectFrom('devices').select('id').executeTakeFirstOrThrow()).id;
		customers = [(await newCustomer(db)).id, (await newCustomer(db)).id];
	}, 180_000);
	afterAll(async () => rt?.close());

	const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

	it('records each view under the session staff and device, at the time it happened', async () => {
		const views = [
			{ id: randomUUID(), customerId: customers[0], via: 'scan', viewedAt: minutesAgo(90) },
			{ id: randomUUID(), customerId: customers[1], via: 'search', viewedAt: minutesAgo(30) },
			{ id: randomUUID(), customerId: randomUUID(), via: 'recent', viewedAt: minutesAgo(10) }
		];
		const res = await post({ views });
		expect(res.status).toBe(200);
		expect(res.body).toEqual({ recorded: 2, skipped: 1 });

		const rows = await offlineRows();
		expect(rows).toHaveLength(2);
		expect(rows.map((r) => [r.customer_id, r.via, r.action, r.actor_staff_id, r.device_id])).toEqual([
			[customers[0], 'scan', 'profile.view', staffId, deviceId],
			[customers[1], 'search', 'profile.view', staffId, deviceId]
		]);
		expect(new Date(rows[0].at).toISOString()).toBe(views[0].viewedAt);
		expect(rows[0].details).toEqual({ storeId: 'a', offline: true, clientViewId: views[0].id });

		// the same batch again (the response was lost): nothing new
		const replay = await post({ views });
		expect(replay.status).toBe(200);
		expect(replay.body.recorded).toBe(0);
		expect(await offlineRows()).toHaveLength(2);

		// a batch mixing a replayed view and a new one records only the new one
		const fresh = { id: randomUUID(), customerId: customers[0], via: 'member_no', viewedAt: minutesAgo(1) };
		const mixed = await post({ views: [views[1], fresh, fresh] });
		expect(mixed.body).toEqual({ recorded: 1, skipped: 0 });
		expect(await offlineRows()).toHaveLength(3);
	});

	it('refuses malformed or implausible views with field errors', async () => {
		const ok = { id: randomUUID(), customerId: customers[0], via: 'scan', viewedAt: minutesAgo(1) };
		const cases: Array<[unknown, string]> = [
			[{ views: [] }, 'views'],
			[{ views: Array.from({ length: 101 }, () => ({ ...ok, id: randomUUID() })) }, 'views'],
			[{ views: [{ ...ok, id: 'abc' }] }, 'views.0.id'],
			[{ views: [ok, { ...ok, id: randomUUID(), via: 'qr' }] }, 'views.1.via'],
			[{ views: [{ ...ok, viewedAt: 'yesterday' }] }, 'views.0.viewedAt'],
			[{ views: [{ ...ok, viewedAt: new Date(Date.now() + 10 * 60_000).toISOString() }] }, 'views.0.viewedAt'],
			[{ views: [{ ...ok, viewedAt: minutesAgo(31 * 24 * 60) }] }, 'views.0.viewedAt']
		];
		const before = (await offlineRows()).length;
		for (const [body, field] of cases) {
			const res = await post(body);
			expect(res.status, field).toBe(400);
			expect(res.body.error.code).toBe('validation_failed');
			expect(Object.keys(res.body.error.fields)).toContain(field);
		}
		expect(await offlineRows()).toHaveLength(before);
	});

	it('needs a staff session', async () => {
		const body = { views: [{ id: randomUUID(), customerId: customers[0], via: 'scan', viewedAt: minutesAgo(1) }] };
		expect((await post(body, null)).status).toBe(401);
		expect((await post(body, 'Bearer nonsense')).status).toBe(401);
	});
});
