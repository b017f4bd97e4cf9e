import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveCustomer } from '../../server/modules/customers/customers.service.ts';
import { createTestDatabase, testDbKinds, type TestDatabase } from '../helpers/db.ts';

describe.each(testDbKinds())('identity resolution on %s', (kind) => {
	let tdb: TestDatabase;
	beforeAll(async () => {
		tdb = await createTestDatabase(kind);
	});
	afterAll(async () => tdb?.dispose());

	const resolve = (input: Parameters<typeof resolveCustomer>[1], profile = {}) =>
		tdb.db.transaction().execute((trx) => resolveCustomer(trx, input, profile));

	it('creates a customer with a member number when nothing matches', async () => {
		const r = await resolve({ ec: '7300000000000000001', email: 'Hanako@Example.jp' }, { family_name: '山田' });
		expect(r?.created).toBe(true);
		const c = await tdb.db.selectFrom('customers').selectAll().where('id', '=', r!.customerId).executeTakeFirstOrThrow();
		expect(c.member_no).toMatch(/^\d{10}$/);
		expect(c.family_name).toBe('山田');
	});

	it('lands a store sale on the EC customer through a shared, normalised email', async () => {
		const ec = await resolve({ ec: '7300000000000000002', email: 'taro@example.jp' });
		const pos = await resolve({ pos: 'POS-0001', email: ' TARO@example.jp ', phone: '+81 90-1234-5678' });
		expect(pos).toEqual({ customerId: ec!.customerId, created: false });
		// the POS code and phone are now identities of the same customer
		const byPhone = await resolve({ phone: '090-1234-5678' });
		expect(byPhone?.customerId).toBe(ec!.customerId);
		const byPos = await resolve({ pos: 'POS-0001' });
		expect(byPos?.customerId).toBe(ec!.customerId);
	});

	it('prefers the stronger id and never reassigns an email another customer owns', async () => {
		const a = await resolve({ ec: 'EC-A', email: 'family@example.jp' });
		const b = await resolve({ ec: 'EC-B', email: 'family@example.jp' });
		expect(b?.customerId).toBe(a?.customerId); // same email, unknown ec → same person
		const c = await resolve({ pos: 'POS-C' });
		const mixed = await resolve({ pos: 'POS-C', email: 'family@example.jp' });
		expect(mixed?.customerId).toBe(c?.customerId);
		const owners = await tdb.db.selectFrom('customer_identities').select('customer_id').where('kind', '=', 'email').where('value', '=', 'family@example.jp').execute();
		expect(owners).toEqual([{ customer_id: a!.customerId }]);
	});

	it('returns null for a guest without usable ids', async () => {
		expect(await resolve({ email: 'not-an-email', phone: '12' })).toBeNull();
	});

	it('follows a merged record to its survivor', async () => {
		const loser = await resolve({ pos: 'POS-OLD' });
		const survivor = await resolve({ ec: 'EC-SURVIVOR' });
		await tdb.db.updateTable('customers').set({ merged_into: survivor!.customerId }).where('id', '=', loser!.customerId).execute();
		expect((await resolve({ pos: 'POS-OLD' }))?.customerId).toBe(survivor!.customerId);
	});

	it('resolves concurrent deliveries for the same new customer to one record', async () => {
		const results = await Promise.all(Array.from({ length: 5 }, () => resolve({ ec: 'EC-RACE', email: 'race@example.jp' })));
		expect(new Set(results.map((r) => r!.customerId)).size).toBe(1);
		expect(results.filter((r) => r!.created)).toHaveLength(1);
	});
});
