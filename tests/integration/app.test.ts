import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import type { Runtime } from '../../server/runtime.ts';
import { testDbKinds } from '../helpers/db.ts';
import { createTestRuntime } from '../helpers/runtime.ts';

describe.each(testDbKinds())('app foundation on %s', (kind) => {
	let rt: Runtime;
	beforeAll(async () => {
		rt = await createTestRuntime(kind);
	});
	afterAll(async () => rt?.close());

	it('answers /healthz with the database state', async () => {
		const res = await rt.app.request('/healthz');
		expect(res.status).toBe(200);
		expect(await res.json()).toEqual({ status: 'ok', database: 'ok' });
	});

	it('applies every migration, creating the v1 tables', async () => {
		const tables = await sql<{ table_name: string }>`
			select table_name from information_schema.tables where table_schema = 'public'`.execute(rt.deps.db);
		const names = tables.rows.map((r) => r.table_name);
		for (const t of ['customers', 'customer_identities', 'ec_orders', 'store_purchase_lines', 'attributions', 'webhook_inbox', 'audit_log']) {
			expect(names).toContain(t);
		}
	});

	it('returns the error envelope with a request id for unknown API routes', async () => {
		const res = await rt.app.request('/api/nope', { headers: { 'x-request-id': 'test-request-0001' } });
		expect(res.status).toBe(404);
		expect(res.headers.get('x-request-id')).toBe('test-request-0001');
		expect(await res.json()).toEqual({
			error: { code: 'not_found', message: 'No route for GET /api/nope', requestId: 'test-request-0001' }
		});
	});

	it('rejects bodies over the limit with 413, not 500', async () => {
		const res = await rt.app.request('/api/anything', {
			method: 'POST',
			headers: { 'content-type': 'application/json', 'content-length': String(1024 * 1024) },
			body: JSON.stringify({ x: 'a'.repeat(1024 * 1024) })
		});
		expect(res.status).toBe(413);
		expect((await res.json()).error.code).toBe('payload_too_large');
	});

	it('keeps int8 ids as numbers and dates as strings on both drivers', async () => {
		await rt.deps.db.insertInto('stores').values({ id: 'tst', name: 'テスト店', name_en: 'Test' }).execute();
		const c = await rt.deps.db
			.insertInto('customers')
			.values({ member_no: 'T0001', birthday: '1990-04-01' })
			.returning(['id', 'birthday'])
			.executeTakeFirstOrThrow();
		expect(c.birthday).toBe('1990-04-01');
		const ident = await rt.deps.db
			.insertInto('customer_identities')
			.values({ customer_id: c.id, kind: 'ec', value: '7300000000000000001' })
			.returning(['id', 'value'])
			.executeTakeFirstOrThrow();
		expect(typeof ident.id).toBe('number');
		// vendor ids above 2^53 survive as text
		expect(ident.value).toBe('7300000000000000001');
	});
});
