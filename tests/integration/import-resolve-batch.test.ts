import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../server/db/index.ts';
import { isIdentityTaken, resolveCustomer, resolveCustomersBatch, type ResolvedCustomer } from '../../server/modules/customers/customers.service.ts';
import type { IdentityInput } from '../../server/modules/customers/identity.ts';
import { createTestDatabase, testDbKinds, type TestDatabase } from '../helpers/db.ts';

/** Deterministic identity soup: shared emails and phones, ids that come back in other combinations. */
function items(n: number): IdentityInput[] {
	let a = 7; // mulberry32
	const rand = (k: number) => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = Math.imul(a ^ (a >>> 15), a | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return (((t ^ (t >>> 14)) >>> 0) % k);
	};
	return Array.from({ length: n }, () => {
		const input: IdentityInput = {};
		if (rand(3) === 0) input.ec = `EC-${rand(200)}`;
		if (rand(2) === 0) input.pos = `POS-${rand(300)}`;
		if (rand(3) === 0) input.email = `${rand(2) ? 'Fam' : 'fam'}${rand(120)}@example.jp`;
		if (rand(4) === 0) input.phone = `090-0000-${String(rand(80)).padStart(4, '0')}`;
		if (rand(10) === 0) input.email = 'not-an-email';
		return input;
	});
}

/** What resolution decided, without the random uuids: member numbers per item and who owns each id. */
async function decisions(db: Db, results: Array<ResolvedCustomer | null>) {
	const customers = await db.selectFrom('customers').select(['id', 'member_no']).execute();
	const memberNo = new Map(customers.map((c) => [c.id, c.member_no]));
	const identities = await db
		.selectFrom('customer_identities')
		.select(['kind', 'value', 'customer_id'])
		.orderBy('kind')
		.orderBy('value')
		.execute();
	return {
		perItem: results.map((r) => (r ? `${memberNo.get(r.customerId)}${r.created ? '*' : ''}` : null)),
		owners: identities.map((i) => `${i.kind}:${i.value}=${memberNo.get(i.customer_id)}`),
		customers: customers.length
	};
}

describe.each(testDbKinds())('resolveCustomersBatch on %s', (kind) => {
	let one: TestDatabase;
	let batch: TestDatabase;
	let unchecked: TestDatabase;
	beforeAll(async () => {
		[one, batch, unchecked] = await Promise.all([createTestDatabase(kind), createTestDatabase(kind), createTestDatabase(kind)]);
	});
	afterAll(async () => {
		await one?.dispose();
		await batch?.dispose();
		await unchecked?.dispose();
	});

	it('decides exactly as resolveCustomer called item by item', async () => {
		const input = items(300);
		const sequential: Array<ResolvedCustomer | null> = [];
		for (const i of input) sequential.push(await one.db.transaction().execute((trx) => resolveCustomer(trx, i)));
		const batched: Array<ResolvedCustomer | null> = [];
		for (let i = 0; i < input.length; i += 70) {
			const chunk = input.slice(i, i + 70).map((identities) => ({ identities }));
			batched.push(...(await batch.db.transaction().execute((trx) => resolveCustomersBatch(trx, chunk))));
		}
		const expected = await decisions(one.db, sequential);
		expect(expected.customers).toBeGreaterThan(20);
		expect(expected.perItem).toContain(null);
		expect(await decisions(batch.db, batched)).toEqual(expected);

		// the import's way: per-row FK triggers off, references checked once per batch
		const viaReplica: Array<ResolvedCustomer | null> = [];
		for (let i = 0; i < input.length; i += 70) {
			const chunk = input.slice(i, i + 70).map((identities) => ({ identities }));
			viaReplica.push(...(await unchecked.db.transaction().execute((trx) => resolveCustomersBatch(trx, chunk, { skipFkTriggers: true }))));
		}
		expect(await decisions(unchecked.db, viaReplica)).toEqual(expected);
		// the KPI dirty markers still fire (ALWAYS triggers)
		const { rows } = await sql<{ n: number }>`
			select count(*)::int as n from customers c where not exists (select 1 from report_customer_dirty d where d.customer_id = c.id)`.execute(unchecked.db);
		expect(rows[0].n).toBe(0);
	});

	it('with FK triggers off, a reference that does not exist is still refused', async () => {
		const item = { identities: { pos: 'POS-NOWHERE' }, profile: { home_store_id: 'no-such-store' } };
		await expect(unchecked.db.transaction().execute((trx) => resolveCustomersBatch(trx, [item], { skipFkTriggers: true }))).rejects.toThrow(
			/deleted meanwhile.*"stores":1/
		);
		await expect(unchecked.db.transaction().execute((trx) => resolveCustomersBatch(trx, [item]))).rejects.toThrow(/foreign key/);
		const left = await unchecked.db.selectFrom('customer_identities').select('id').where('value', '=', 'POS-NOWHERE').execute();
		expect(left).toEqual([]);
	});

	it('uses a known member number first, and gives a new one to the new customer', async () => {
		const [known] = await batch.db.transaction().execute((trx) => resolveCustomersBatch(trx, [{ identities: { pos: 'POS-M1' } }]));
		const memberNo = (await batch.db.selectFrom('customers').select('member_no').where('id', '=', known!.customerId).executeTakeFirstOrThrow()).member_no;
		const results = await batch.db.transaction().execute((trx) =>
			resolveCustomersBatch(trx, [
				{ identities: { email: 'someone-else@example.jp' }, memberNo },
				{ identities: {}, memberNo: 'M-NEW-1', profile: { family_name: '新規' } },
				{ identities: { phone: '09099990000' }, memberNo: 'M-NEW-1' }
			])
		);
		expect(results[0]).toEqual({ customerId: known!.customerId, created: false });
		expect(results[1]?.created).toBe(true);
		expect(results[2]).toEqual({ customerId: results[1]!.customerId, created: false });
		const fresh = await batch.db.selectFrom('customers').selectAll().where('member_no', '=', 'M-NEW-1').executeTakeFirstOrThrow();
		expect(fresh.family_name).toBe('新規');
		const phoneOwner = await batch.db.selectFrom('customer_identities').select('customer_id').where('kind', '=', 'phone').where('value', '=', '09099990000').executeTakeFirstOrThrow();
		expect(phoneOwner.customer_id).toBe(fresh.id);
	});

	it.skipIf(kind !== 'postgres')(
		'plainIdentityInsert: an id another session attaches meanwhile fails the batch (isIdentityTaken); redone without it, it lands on that owner',
		async () => {
			const db = unchecked.db;
			let inserted!: () => void;
			const bInserted = new Promise<void>((r) => (inserted = r));
			let release!: () => void;
			const hold = new Promise<void>((r) => (release = r));
			// session B attaches the e-mail and keeps its transaction open
			const b = db.transaction().execute(async (trx) => {
				await resolveCustomersBatch(trx, [{ identities: { pos: 'RACE-B', email: 'race@example.jp' } }]);
				inserted();
				await hold;
			});
			await bInserted;
			// session A does not see it yet (and locks a different strongest id): it creates and attaches
			const a = db.transaction().execute((trx) =>
				resolveCustomersBatch(trx, [{ identities: { pos: 'RACE-A', email: 'race@example.jp' } }], { plainIdentityInsert: true })
			);
			const outcome = a.then(
				() => null,
				(err: unknown) => err
			);
			// A waits on B's uncommitted key; then B commits
			for (let i = 0; i < 100; i++) {
				const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock'`.execute(db);
				if (rows[0].n > 0) break;
				await new Promise((r) => setTimeout(r, 20));
			}
			release();
			await b;
			expect(isIdentityTaken(await outcome)).toBe(true);
			const [redone] = await db.transaction().execute((trx) => resolveCustomersBatch(trx, [{ identities: { pos: 'RACE-A', email: 'race@example.jp' } }]));
			const owner = await db.selectFrom('customer_identities').select('customer_id').where('value', '=', 'race@example.jp').executeTakeFirstOrThrow();
			expect(redone).toEqual({ customerId: owner.customer_id, created: false });
		}
	);
});
