/**
 * The per-customer facts behind the OMO KPIs equal the direct queries over the raw rows: on
 * random purchases (JST midnight boundaries, several purchases a day, returns, cancelled
 * orders, merged and storeless customers, customers created late) for several periods, store
 * scopes and dormancy thresholds, and again after changes — new orders and receipts, a
 * cancellation, a receipt turned into a return, a merge, a customer moving store, a new
 * customer, an order moving to another customer — picked up by the incremental refresh.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../server/db/index.ts';
import * as raw from '../helpers/report-reference.ts';
import * as facts from '../../server/modules/reports/customer-facts.repository.ts';
import { testDbKinds, createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { newCustomer, newEcOrder, newStaff, newStore, newStorePurchase } from '../helpers/factories.ts';
import { mergeCustomers, undoMerge } from '../../server/modules/identity/merge.service.ts';

/** Small deterministic PRNG so a failure can be replayed. */
function prng(seed: number) {
	return () => {
		seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
		return seed / 2_147_483_648;
	};
}

const jstMidnight = (date: string) => new Date(`${date}T00:00:00+09:00`);
const RANGES: raw.Range[] = [
	{ start: jstMidnight('2026-01-01'), end: jstMidnight('2027-01-01') }, // a year
	{ start: jstMidnight('2026-11-01'), end: jstMidnight('2026-12-01') }, // November
	{ start: jstMidnight('2026-06-15'), end: jstMidnight('2026-06-16') }, // one day
	{ start: jstMidnight('2025-01-01'), end: jstMidnight('2025-03-01') } // before most history
];

type Cell = raw.KpiCell;
const sorted = (cells: Cell[]) =>
	cells.filter((c) => c.customers > 0).sort((a, b) => `${a.stateAtStart}/${a.stateAtEnd}`.localeCompare(`${b.stateAtStart}/${b.stateAtEnd}`));

describe.each(testDbKinds())('KPI customer facts on %s', (kind) => {
	let database: TestDatabase;
	let db: Db;
	const rand = prng(20261124);
	const stores = ['k1', 'k2'];
	const customers: string[] = [];

	// 2025-06 .. 2027-01, on the hour ± 30 min so many purchases sit next to a JST midnight (15:00Z)
	const randomTime = () => new Date(Date.parse('2025-06-01T00:00:00Z') + Math.floor(rand() * 580 * 24) * 3_600_000 + (rand() < 0.5 ? -1 : 1) * 30 * 60_000);
	const pick = <T>(items: T[]) => items[Math.floor(rand() * items.length)];

	async function refresh() {
		return db.transaction().execute((trx) => facts.refreshCustomerFacts(trx));
	}

	async function expectFactsEqualRaw() {
		await refresh();
		for (const range of RANGES) {
			for (const storeId of [undefined, 'k1', 'k2']) {
				for (const dormantDays of [180, 30]) {
					expect(sorted(await facts.kpiCells(db, range, storeId, dormantDays))).toEqual(sorted(await raw.customerKpiCells(db, range, storeId, dormantDays)));
				}
				expect(await facts.purchaseIntervals(db, range, storeId)).toEqual(await raw.purchaseIntervals(db, range, storeId));
			}
		}
	}

	async function addPurchases(count: number) {
		for (let i = 0; i < count; i++) {
			const customerId = pick(customers);
			const at = randomTime();
			if (rand() < 0.5) {
				await newStorePurchase(db, { storeId: pick(stores), customerId, at, lines: [], kind: rand() < 0.1 ? 'return' : 'sale' });
			} else {
				await newEcOrder(db, { customerId, at, lines: [], status: rand() < 0.1 ? 'cancelled' : 'open' });
			}
		}
	}

	/**
	 * Customers who buy only next to the edges that matter: a period start or end (JST
	 * midnight), a day later, and the dormancy thresholds before them — first and second
	 * purchases and last purchases land on both sides of every comparison.
	 */
	async function addBoundaryCustomers(count: number) {
		const edges = [...new Set(RANGES.flatMap((r) => [r.start.getTime(), r.end.getTime()]))];
		const DAY = 86_400_000;
		const near = () => {
			const edge = pick(edges) - pick([0, 0, 1, 30, 31, 180, 181]) * DAY;
			return new Date(edge + pick([-60_000, 0, 60_000]));
		};
		for (let i = 0; i < count; i++) {
			const customerId = (await newCustomer(db, { home_store_id: stores[i % 2], created_at: new Date('2025-01-01T00:00:00Z') })).id;
			customers.push(customerId);
			for (let n = 1 + Math.floor(rand() * 4); n > 0; n--) {
				if (rand() < 0.5) await newStorePurchase(db, { storeId: stores[i % 2], customerId, at: near(), lines: [] });
				else await newEcOrder(db, { customerId, at: near(), lines: [] });
			}
		}
	}

	beforeAll(async () => {
		database = await createTestDatabase(kind);
		db = database.db;
		for (const id of stores) await newStore(db, { id });
		for (let i = 0; i < 70; i++) {
			const home = i % 10 === 9 ? undefined : stores[i % 2];
			// a few customers are created inside the periods (counted as 'none' only from then on)
			const created = i % 7 === 0 ? randomTime() : new Date('2025-01-01T00:00:00Z');
			customers.push((await newCustomer(db, { home_store_id: home, created_at: created })).id);
		}
		await addPurchases(500);
		// same-day repeats and both channels on one day
		for (const customerId of customers.slice(0, 10)) {
			const at = randomTime();
			await newStorePurchase(db, { storeId: 'k1', customerId, at, lines: [] });
			await newEcOrder(db, { customerId, at: new Date(at.getTime() + 60_000), lines: [] });
		}
		await addBoundaryCustomers(40);
		const survivor = customers[1];
		await newCustomer(db, { home_store_id: 'k1', merged_into: survivor }).then(async (loser) => {
			await newEcOrder(db, { customerId: loser.id, at: new Date('2026-11-03T03:00:00Z'), lines: [] });
			await newEcOrder(db, { customerId: loser.id, at: new Date('2026-11-10T03:00:00Z'), lines: [] });
		});
	}, 120_000);
	afterAll(async () => database?.dispose());

	it('a first (full) build equals the raw queries', async () => {
		const built = await refresh();
		expect(built).toMatchObject({ full: true });
		expect(built.customers).toBe(110);
		const intervals = await facts.purchaseIntervals(db, RANGES[0], undefined);
		expect(intervals.gaps).toBeGreaterThan(100);
		await expectFactsEqualRaw();
	}, 120_000);

	it('a refresh recomputes only the customers whose purchases or record changed', async () => {
		await refresh();
		expect(await refresh()).toEqual({ full: false, customers: 0 });
		await newEcOrder(db, { customerId: customers[3], at: new Date('2026-11-20T03:00:00Z'), lines: [] });
		await newStorePurchase(db, { storeId: 'k2', customerId: customers[4], at: new Date('2026-11-20T03:00:00Z'), lines: [] });
		// a change the facts do not read (the order's financial status) marks nobody; its total (the client book's LTV) does
		await sql`update ec_orders set financial_status = 'x' where customer_id = ${customers[5]}`.execute(db);
		expect(await refresh()).toEqual({ full: false, customers: 2 });
		await sql`update ec_orders set total_yen = total_yen + 1 where customer_id = ${customers[5]}`.execute(db);
		expect(await refresh()).toEqual({ full: false, customers: 1 });
	}, 120_000);

	it('new orders, cancellations, returns, merges, moves, new customers and re-assigned orders are picked up', async () => {
		await addPurchases(40);
		// cancel some orders and turn some receipts into returns
		await sql`update ec_orders set status = 'cancelled' where id in (select id from ec_orders where status = 'open' order by id limit 8)`.execute(db);
		await sql`update store_purchases set kind = 'return' where id in (select id from store_purchases where kind = 'sale' order by id desc limit 5)`.execute(db);
		// a merge: the loser's history stops counting
		await sql`update customers set merged_into = ${customers[0]} where id = ${customers[2]}`.execute(db);
		// a customer moves store; a new customer buys once
		await sql`update customers set home_store_id = 'k2' where id = ${customers[6]}`.execute(db);
		const late = await newCustomer(db, { home_store_id: 'k1', created_at: new Date('2026-11-15T00:00:00Z') });
		await newEcOrder(db, { customerId: late.id, at: new Date('2026-11-15T15:00:00Z'), lines: [] }); // Nov 16 JST
		// an order re-assigned from one customer to another: both change
		await sql`update ec_orders set customer_id = ${customers[8]} where id = (select min(id) from ec_orders where customer_id = ${customers[7]} and status = 'open')`.execute(db);
		// a purchase moved across the JST midnight
		await sql`update store_purchases set purchased_at = '2026-10-31T15:00:00Z' where id = (select min(id) from store_purchases where kind = 'sale')`.execute(db);
		await expectFactsEqualRaw();
	}, 120_000);

	it('a merge through the merge service (every purchase moved to the survivor) and its undo: facts equal the raw rows after each', async () => {
		const admin = await newStaff(db, { storeId: 'k1', role: 'admin', pin: null });
		// customers with purchases in both channels, merged into customers of the other store
		const pairs: Array<[string, string]> = [[customers[10], customers[11]], [customers[12], customers[13]], [customers[14], customers[15]]];
		const merges: string[] = [];
		for (const [survivorId, mergedId] of pairs) {
			merges.push((await mergeCustomers(db, { survivorId, mergedId, by: admin.id })).mergeId);
			await expectFactsEqualRaw();
		}
		// new purchases on a survivor after the merge, then the first merge undone
		await addPurchases(10);
		await undoMerge(db, merges[0], { id: admin.id, role: 'admin' });
		await expectFactsEqualRaw();
	}, 120_000);

	it('the median of a gap histogram is percentile_cont(0.5)', () => {
		expect(facts.medianOfHistogram([])).toBeNull();
		expect(facts.medianOfHistogram([{ gap: 3, n: 1 }])).toBe(3);
		expect(facts.medianOfHistogram([{ gap: 2, n: 1 }, { gap: 5, n: 1 }])).toBe(3.5);
		expect(facts.medianOfHistogram([{ gap: 1, n: 3 }, { gap: 9, n: 1 }])).toBe(1);
		expect(facts.medianOfHistogram([{ gap: 1, n: 2 }, { gap: 9, n: 2 }])).toBe(5);
	});
});
