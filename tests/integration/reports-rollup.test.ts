/**
 * The daily rollups behind the sales and funnel reports equal a direct query over the raw
 * rows: on random data (orders spread over JST day boundaries, refunds, voids, clicks,
 * pending follow-ups) and again after changes (refunds, cancellations, late clicks,
 * follow-ups settling, new orders on old days, deletions) are picked up by the incremental
 * refresh. The concurrency side (writes committing around a refresh) is reports-freshness.test.ts.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../server/db/index.ts';
import * as raw from '../helpers/report-reference.ts';
import * as rollup from '../../server/modules/reports/rollup.repository.ts';
import { testDbKinds, createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { newCustomer, newStaff, newStore } from '../helpers/factories.ts';
import { newAttribution, newClick, newFollowUp, newLink } from '../helpers/report-factories.ts';

/** Small deterministic PRNG so a failure can be replayed. */
function prng(seed: number) {
	return () => {
		seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
		return seed / 2_147_483_648;
	};
}

const RANGES: raw.Range[] = [
	{ start: new Date('2026-09-30T15:00:00Z'), end: new Date('2026-12-31T15:00:00Z') }, // Oct–Dec JST
	{ start: new Date('2026-10-31T15:00:00Z'), end: new Date('2026-11-30T15:00:00Z') }, // November
	{ start: new Date('2026-11-14T15:00:00Z'), end: new Date('2026-11-15T15:00:00Z') } // one day
];

const byKey = <T extends { key: string }>(rows: T[]) => Object.fromEntries(rows.map((r) => [r.key, r]));
const nonZero = <T extends { key: string; orders: number }>(rows: T[]) => rows.filter((r) => r.orders > 0);

describe.each(testDbKinds())('report rollups on %s', (kind) => {
	let database: TestDatabase;
	let db: Db;
	const rand = prng(20261123);
	const staffIds: string[] = [];
	const followUps: Array<{ id: string; code: string; staffId: string; storeId: string }> = [];
	const stores = ['r1', 'r2'];
	let customerId: string;

	const randomTime = () => new Date(Date.parse('2026-09-29T00:00:00Z') + Math.floor(rand() * 95 * 24) * 3_600_000 + 30 * 60_000);

	async function refresh() {
		return db.transaction().execute((trx) => rollup.refreshRollups(trx));
	}

	async function expectRollupsEqualRaw(refreshFirst = true) {
		if (refreshFirst) await refresh();
		for (const range of RANGES) {
			const days = rollup.dayRangeOf(range);
			for (const scope of [{}, { storeId: 'r1' }, { staffId: staffIds[0] }]) {
				expect(byKey(await rollup.salesByStaff(db, days, scope))).toEqual(byKey(await raw.salesByStaff(db, range, scope)));
				expect(byKey(await rollup.salesByStore(db, days, scope))).toEqual(byKey(await raw.salesByStore(db, range, scope)));
				for (const bucket of ['day', 'week', 'month'] as const) {
					expect(nonZero(await rollup.salesByTime(db, days, scope, bucket))).toEqual(nonZero(await raw.salesByTime(db, range, scope, bucket)));
				}
				for (const groupBy of ['staff', 'store', 'total'] as const) {
					expect(byKey(await rollup.funnel(db, days, scope, groupBy))).toEqual(byKey(await raw.funnel(db, range, scope, groupBy)));
				}
			}
		}
	}

	beforeAll(async () => {
		database = await createTestDatabase(kind);
		db = database.db;
		for (const id of stores) await newStore(db, { id });
		for (let i = 0; i < 6; i++) staffIds.push((await newStaff(db, { storeId: stores[i % 2], pin: null })).id);
		customerId = (await newCustomer(db)).id;
		for (let i = 0; i < 60; i++) {
			const staffId = staffIds[i % 6];
			const storeId = stores[i % 2];
			const status = (['sent', 'sent', 'sent', 'failed', 'queued'] as const)[Math.floor(rand() * 5)];
			const f = await newFollowUp(db, { customerId, staffId, storeId, status, createdAt: randomTime() });
			const code = `R${i}`;
			await newLink(db, { code, staffId, storeId, followUpId: f.id });
			followUps.push({ id: f.id, code, staffId, storeId });
			if (rand() < 0.5) await newClick(db, { code, at: randomTime() });
		}
		for (let i = 0; i < 200; i++) {
			const f = followUps[Math.floor(rand() * followUps.length)];
			const gross = 1_000 + Math.floor(rand() * 20) * 500;
			await newAttribution(db, {
				staffId: f.staffId,
				storeId: f.storeId,
				at: randomTime(),
				grossYen: gross,
				refundedYen: rand() < 0.2 ? Math.floor(gross / 2) : 0,
				status: rand() < 0.1 ? 'void' : 'active',
				followUpId: rand() < 0.7 ? f.id : null,
				linkCode: f.code,
				rule: rand() < 0.5 ? 'ref' : 'last_touch'
			});
		}
	}, 120_000);
	afterAll(async () => database?.dispose());

	it('a first (full) build equals the raw queries', async () => {
		const built = await refresh();
		expect(built.salesDays).toBeGreaterThan(50);
		await expectRollupsEqualRaw();
	}, 120_000);

	it('a refresh re-reads only the days changed since the last one', async () => {
		await sql`update attributions set updated_at = now() - interval '1 hour'`.execute(db);
		await refresh();
		const again = await refresh();
		expect(again.salesDays).toBe(0);
		const allFunnelDays = await sql<{ n: number }>`select count(distinct (created_at at time zone 'Asia/Tokyo')::date)::int8 as n from follow_ups`.execute(db);
		expect(again.funnelDays).toBeLessThan(allFunnelDays.rows[0].n);
		await expectRollupsEqualRaw();
	}, 120_000);

	it('refunds, cancellations, late clicks, settling follow-ups and new orders on old days are picked up', async () => {
		await sql`update attributions set refunded_yen = gross_yen, updated_at = now() where id in (select id from attributions order by id limit 10)`.execute(db);
		await sql`update attributions set status = 'void', updated_at = now() where id in (select id from attributions order by id desc limit 10)`.execute(db);
		await sql`update follow_ups set status = 'failed' where status = 'queued' and id in (select id from follow_ups where status = 'queued' order by id limit 3)`.execute(db);
		await sql`update follow_ups set status = 'sent', sent_at = now() where status = 'queued'`.execute(db);
		for (const f of followUps.slice(0, 10)) await newClick(db, { code: f.code, at: new Date() });
		const f = followUps[5];
		await newAttribution(db, { staffId: f.staffId, storeId: f.storeId, at: new Date('2026-10-31T15:00:00Z'), grossYen: 12_345, followUpId: f.id });
		await expectRollupsEqualRaw();
	}, 120_000);

	it('a change that commits late with an earlier timestamp is caught by the next refresh', async () => {
		await refresh();
		await sql`update attributions set refunded_yen = 1, updated_at = now() - interval '5 minutes' where id = (select min(id) from attributions where status = 'active' and refunded_yen <> 1)`.execute(db);
		await refresh();
		await expectRollupsEqualRaw(false);
	}, 120_000);

	it('a deleted attribution leaves its day, and a full rebuild clears days without rows', async () => {
		await sql`delete from attributions where id = (select max(id) from attributions where status = 'active')`.execute(db);
		await expectRollupsEqualRaw();
		// a rollup row of a day that has no attributions any more (stale from an older build)
		await sql`insert into report_daily_staff_sales (day, staff_id, store_id, orders, gross_yen, refunded_yen) values ('2026-11-15', ${staffIds[0]}::uuid, 'r1', 1, 999, 0)
			on conflict (day, staff_id, store_id) do update set gross_yen = report_daily_staff_sales.gross_yen + 999`.execute(db);
		await db.transaction().execute((trx) => rollup.refreshRollups(trx, { full: true }));
		await expectRollupsEqualRaw(false);
	}, 120_000);
});
