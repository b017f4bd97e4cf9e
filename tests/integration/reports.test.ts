/**
 * Manager reports on hand-built data with hand-computed figures: staff-attributed sales
 * (refunds, void attributions, JST midnight boundaries), drill-down, funnel, the OMO KPIs,
 * the staff member's own month, CSV, and the access matrix (every role × every endpoint).
 *
 * The period under test is November 2026 in Japan: [2026-10-31T15:00Z, 2026-11-30T15:00Z).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../server/runtime.ts';
import { testDbKinds } from '../helpers/db.ts';
import { createTestRuntime } from '../helpers/runtime.ts';
import { newCustomer, newEcOrder, newStaff, newStore, newStorePurchase } from '../helpers/factories.ts';
import { newAttribution, newClick, newFollowUp, newLink, sessionFor } from '../helpers/report-factories.ts';

type Json = Record<string, any>;
const at = (iso: string) => new Date(iso);
const NOV = 'from=2026-11-01&to=2026-11-30';

describe.each(testDbKinds())('reports on %s', (kind) => {
	let rt: Runtime;
	const staff: Record<string, { id: string }> = {};
	const tokens: Record<string, string> = {};
	const fu: Record<string, { id: string }> = {};
	const cu: Record<string, { id: string }> = {};

	const get = async (path: string, who?: string) => {
		const res = await rt.app.request(`/api/reports${path}`, {
			headers: who ? { authorization: `Bearer ${tokens[who]}` } : {}
		});
		// keep the BOM: Response.text() strips it
		const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(await res.arrayBuffer());
		const isJson = (res.headers.get('content-type') ?? '').includes('json');
		return { status: res.status, body: (isJson ? JSON.parse(text) : null) as Json, text, headers: res.headers };
	};

	beforeAll(async () => {
		rt = await createTestRuntime(kind);
		const db = rt.deps.db;
		await newStore(db, { id: 'a', name: '渋谷店', name_en: 'Shibuya' });
		await newStore(db, { id: 'b', name: '新宿店', name_en: 'Shinjuku' });
		staff.admin = await newStaff(db, { storeId: 'b', role: 'admin', display_name: '本部', pin: null });
		staff.managerA = await newStaff(db, { storeId: 'a', role: 'manager', display_name: '佐藤', pin: null });
		staff.a1 = await newStaff(db, { storeId: 'a', role: 'staff', display_name: '鈴木', pin: null });
		staff.a2 = await newStaff(db, { storeId: 'a', role: 'staff', display_name: '高橋', pin: null });
		staff.managerB = await newStaff(db, { storeId: 'b', role: 'manager', display_name: '伊藤', pin: null });
		staff.b1 = await newStaff(db, { storeId: 'b', role: 'staff', display_name: '田中', pin: null });
		staff.gone = await newStaff(db, { storeId: 'a', role: 'staff', display_name: '退職', pin: null, active: false });
		const secret = rt.config.sessionSecret;
		tokens.admin = await sessionFor(db, secret, { id: staff.admin.id, role: 'admin' }, 'a');
		tokens.managerA = await sessionFor(db, secret, { id: staff.managerA.id, role: 'manager' }, 'a');
		tokens.a1 = await sessionFor(db, secret, { id: staff.a1.id, role: 'staff' }, 'a');
		tokens.b1 = await sessionFor(db, secret, { id: staff.b1.id, role: 'staff' }, 'b');

		const created = at('2026-01-01T00:00:00Z');
		for (const [name, home] of [
			['c1', 'a'], ['c2', 'a'], ['c3', 'a'], ['c4', 'a'], ['c5', 'a'], ['c6', 'a'],
			['c7', 'a'], ['c8', 'a'], ['c9', 'b'], ['c11', 'a']
		] as const) {
			cu[name] = await newCustomer(db, { home_store_id: home, created_at: created });
		}
		cu.c10 = await newCustomer(db, { home_store_id: 'a', created_at: created, merged_into: cu.c8.id });
		await seedFunnelAndSales(db);
		await seedPurchases(db);
	}, 180_000);
	afterAll(async () => rt?.close());

	/** Follow-ups, links, clicks and attributions (no purchases of known customers: KPIs stay separate). */
	async function seedFunnelAndSales(db: Runtime['deps']['db']) {
		const { a1, a2, b1 } = staff;
		const f = (key: string, staffId: string, storeId: string, status: 'sent' | 'failed' | 'queued', createdAt: string) =>
			newFollowUp(db, { customerId: cu.c1.id, staffId, storeId, status, createdAt: at(createdAt), body: `メッセージ ${key}: 新作のご案内` }).then((r) => (fu[key] = r));
		await f('fu1', a1.id, 'a', 'sent', '2026-11-01T01:00:00Z');
		await f('fu2', a1.id, 'a', 'sent', '2026-11-02T01:00:00Z');
		await f('fu3', a1.id, 'a', 'sent', '2026-11-03T01:00:00Z');
		await f('fu4', a1.id, 'a', 'failed', '2026-11-04T01:00:00Z');
		await f('fu5', a1.id, 'a', 'queued', '2026-11-05T01:00:00Z');
		await f('fu6', a2.id, 'a', 'sent', '2026-10-31T15:10:00Z'); // Nov 1 JST
		await f('fu7', a2.id, 'a', 'sent', '2026-10-31T14:50:00Z'); // Oct 31 JST: not in the cohort
		await f('fu8', b1.id, 'b', 'sent', '2026-11-09T01:00:00Z');
		await f('fu9', b1.id, 'b', 'sent', '2026-11-20T01:00:00Z');
		for (const [code, key, who, store] of [
			['L1', 'fu1', a1, 'a'], ['L2', 'fu2', a1, 'a'], ['L3', 'fu3', a1, 'a'], ['L6', 'fu6', a2, 'a'],
			['L7', 'fu7', a2, 'a'], ['L8', 'fu8', b1, 'b'], ['L9', 'fu9', b1, 'b']
		] as const) {
			await newLink(db, { code, staffId: who.id, storeId: store, followUpId: fu[key].id });
		}
		await newClick(db, { code: 'L1', at: at('2026-11-01T02:00:00Z'), clickId: 'click-1' });
		await newClick(db, { code: 'L1', at: at('2026-11-01T03:00:00Z') });
		await newClick(db, { code: 'L1', at: at('2026-12-01T03:00:00Z') }); // December: not in the "me" month
		await newClick(db, { code: 'L2', at: at('2026-11-02T02:00:00Z'), clickId: 'click-2' });
		await newClick(db, { code: 'L6', at: at('2026-11-01T00:00:00Z'), clickId: 'click-6' });
		await newClick(db, { code: 'L7', at: at('2026-11-01T00:00:00Z') });
		await newClick(db, { code: 'L8', at: at('2026-11-09T02:00:00Z'), clickId: 'click-8' });
		await newClick(db, { code: 'L9', at: at('2026-11-20T02:00:00Z') });

		const order = await newEcOrder(db, { customerId: null, at: at('2026-10-31T15:30:00Z'), lines: [] });
		// a1: Nov 1 00:30 JST (the JST boundary), ref through L1
		await newAttribution(db, { staffId: a1.id, storeId: 'a', at: at('2026-10-31T15:30:00Z'), grossYen: 10_000, rule: 'ref', linkCode: 'L1', clickId: 'click-1', followUpId: fu.fu1.id, ecOrderId: order.ec_order_id });
		// a2: Oct 31 23:59 JST → October
		await newAttribution(db, { staffId: a1.id, storeId: 'a', at: at('2026-10-31T14:59:00Z'), grossYen: 5_000, rule: 'last_touch' });
		// a3: partly refunded
		await newAttribution(db, { staffId: a1.id, storeId: 'a', at: at('2026-11-15T03:00:00Z'), grossYen: 8_000, refundedYen: 3_000, rule: 'last_touch', linkCode: 'L2', clickId: 'click-2', followUpId: fu.fu2.id });
		// a4: cancelled → void, excluded everywhere
		await newAttribution(db, { staffId: a1.id, storeId: 'a', at: at('2026-11-16T03:00:00Z'), grossYen: 7_000, status: 'void', linkCode: 'L2', followUpId: fu.fu2.id });
		// a5: Nov 30 23:59:59 JST, fully refunded
		await newAttribution(db, { staffId: a2.id, storeId: 'a', at: at('2026-11-30T14:59:59Z'), grossYen: 20_000, refundedYen: 20_000, linkCode: 'L6', clickId: 'click-6', followUpId: fu.fu6.id });
		// a6: Dec 1 00:00 JST → December
		await newAttribution(db, { staffId: a2.id, storeId: 'a', at: at('2026-11-30T15:00:00Z'), grossYen: 9_999 });
		// a7: store B
		await newAttribution(db, { staffId: b1.id, storeId: 'b', at: at('2026-11-10T01:00:00Z'), grossYen: 12_000, refundedYen: 2_000, linkCode: 'L8', clickId: 'click-8', followUpId: fu.fu8.id });
	}

	/** Purchases for the customer KPIs (see the expected figures in the KPI tests). */
	async function seedPurchases(db: Runtime['deps']['db']) {
		const store = (c: string, iso: string, storeId = 'a', kind: 'sale' | 'return' = 'sale') =>
			newStorePurchase(db, { storeId, customerId: cu[c].id, at: at(iso), lines: [], kind });
		const ec = (c: string, iso: string, status: 'open' | 'cancelled' = 'open') =>
			newEcOrder(db, { customerId: cu[c].id, at: at(iso), lines: [], status });
		await store('c1', '2026-11-03T03:00:00Z');
		await ec('c1', '2026-11-20T03:00:00Z');
		await ec('c2', '2026-11-05T03:00:00Z');
		await ec('c3', '2026-10-31T15:30:00Z'); // Nov 1 JST
		await ec('c3', '2026-11-10T03:00:00Z', 'cancelled');
		await store('c4', '2026-10-31T14:30:00Z'); // Oct 31 JST
		await store('c4', '2026-11-12T03:00:00Z');
		await store('c4', '2026-11-13T03:00:00Z', 'a', 'return');
		await store('c5', '2026-03-01T03:00:00Z');
		await ec('c5', '2026-04-01T03:00:00Z');
		await ec('c5', '2026-11-25T03:00:00Z');
		await store('c6', '2026-01-10T03:00:00Z');
		await store('c7', '2026-09-01T03:00:00Z');
		await ec('c7', '2026-10-01T03:00:00Z');
		await store('c7', '2026-11-02T01:00:00Z');
		await store('c7', '2026-11-02T05:00:00Z');
		await ec('c7', '2026-11-09T03:00:00Z');
		await store('c9', '2026-11-04T03:00:00Z', 'b');
		await store('c9', '2026-11-06T03:00:00Z', 'b');
		await ec('c10', '2026-11-07T03:00:00Z'); // merged away: not counted
		await store('c11', '2026-05-20T03:00:00Z');
	}

	describe('staff-attributed sales', () => {
		it('groups by staff: refunds netted, void and out-of-period orders excluded, JST boundaries', async () => {
			const res = await get(`/sales?groupBy=staff&${NOV}`, 'admin');
			expect(res.status).toBe(200);
			const rows = res.body.rows.map((r: Json) => [r.label, r.orders, r.grossYen, r.refundedYen, r.netYen]);
			expect(rows.slice(0, 3)).toEqual([
				['鈴木', 2, 18_000, 3_000, 15_000],
				['田中', 1, 12_000, 2_000, 10_000],
				['高橋', 1, 20_000, 20_000, 0]
			]);
			// every active staff member stays on the board, ¥0 included (after those with figures); 退職 (inactive) does not
			expect(rows.slice(3).sort()).toEqual([
				['伊藤', 0, 0, 0, 0],
				['佐藤', 0, 0, 0, 0],
				['本部', 0, 0, 0, 0]
			].sort());
			expect(res.body.totals).toEqual({ orders: 4, grossYen: 50_000, refundedYen: 25_000, netYen: 25_000 });
			expect(res.body.period).toEqual({ from: '2026-11-01', to: '2026-11-30', timeZone: 'Asia/Tokyo' });
			expect(res.body.definition.ja).toContain('返金');
		});

		it('keeps ¥0 staff of the store on a manager\'s leaderboard, and only theirs', async () => {
			const res = await get(`/sales?groupBy=staff&${NOV}`, 'managerA');
			const labels = res.body.rows.map((r: Json) => r.label);
			expect(labels).toEqual(expect.arrayContaining(['鈴木', '高橋', '佐藤']));
			expect(labels).not.toContain('伊藤');
			expect(labels).not.toContain('退職');
			expect(res.body.rows.find((r: Json) => r.label === '佐藤')).toMatchObject({ orders: 0, netYen: 0, confirmedNetYen: 0, pendingNetYen: 0 });
		});

		it('groups by store', async () => {
			const res = await get(`/sales?groupBy=store&${NOV}`, 'admin');
			expect(res.body.rows.map((r: Json) => [r.key, r.label, r.labelEn, r.orders, r.grossYen, r.refundedYen, r.netYen])).toEqual([
				['a', '渋谷店', 'Shibuya', 3, 38_000, 23_000, 15_000],
				['b', '新宿店', 'Shinjuku', 1, 12_000, 2_000, 10_000]
			]);
		});

		it('groups by JST day with every day present', async () => {
			const res = await get(`/sales?groupBy=day&${NOV}`, 'admin');
			expect(res.body.rows).toHaveLength(30);
			const nonZero = res.body.rows.filter((r: Json) => r.orders > 0).map((r: Json) => [r.key, r.orders, r.grossYen, r.netYen]);
			expect(nonZero).toEqual([
				['2026-11-01', 1, 10_000, 10_000],
				['2026-11-10', 1, 12_000, 10_000],
				['2026-11-15', 1, 8_000, 5_000],
				['2026-11-30', 1, 20_000, 0]
			]);
		});

		it('groups by ISO week (Monday) and by month', async () => {
			const weeks = await get(`/sales?groupBy=week&${NOV}`, 'admin');
			expect(weeks.body.rows.map((r: Json) => [r.key, r.orders, r.grossYen, r.refundedYen])).toEqual([
				['2026-10-26', 1, 10_000, 0],
				['2026-11-02', 0, 0, 0],
				['2026-11-09', 2, 20_000, 5_000],
				['2026-11-16', 0, 0, 0],
				['2026-11-23', 0, 0, 0],
				['2026-11-30', 1, 20_000, 20_000]
			]);
			const months = await get('/sales?groupBy=month&from=2026-10-01&to=2026-12-31', 'admin');
			expect(months.body.rows.map((r: Json) => [r.key, r.orders, r.grossYen, r.netYen])).toEqual([
				['2026-10-01', 1, 5_000, 5_000],
				['2026-11-01', 4, 50_000, 25_000],
				['2026-12-01', 1, 9_999, 9_999]
			]);
		});

		it('a single JST day holds exactly the orders of that day', async () => {
			const oct31 = await get('/sales?groupBy=staff&from=2026-10-31&to=2026-10-31', 'admin');
			expect(oct31.body.totals).toMatchObject({ orders: 1, grossYen: 5_000 });
			const nov1 = await get('/sales?groupBy=staff&from=2026-11-01&to=2026-11-01', 'admin');
			expect(nov1.body.totals).toMatchObject({ orders: 1, grossYen: 10_000 });
		});

		it('drills down to the orders of one staff member with rule, click and message', async () => {
			const res = await get(`/sales/orders?staffId=${staff.a1.id}&${NOV}`, 'managerA');
			expect(res.status).toBe(200);
			expect(res.body.orders).toHaveLength(2);
			const [latest, first] = res.body.orders;
			expect(latest).toMatchObject({ rule: 'last_touch', linkCode: 'L2', clickId: 'click-2', followUpId: fu.fu2.id, grossYen: 8_000, refundedYen: 3_000, netYen: 5_000 });
			expect(first).toMatchObject({ rule: 'ref', linkCode: 'L1', clickId: 'click-1', followUpId: fu.fu1.id, netYen: 10_000 });
			expect(new Date(first.clickedAt).toISOString()).toBe('2026-11-01T02:00:00.000Z');
			expect(first.followUpExcerpt).toBe('メッセージ fu1: 新作のご案内');
			expect(first.orderName).toMatch(/^#\d+$/);
		});

		it('rejects an invalid period with 400', async () => {
			expect((await get('/sales?from=2026-11-31', 'admin')).status).toBe(400);
			const reversed = await get('/sales?from=2026-11-10&to=2026-11-01', 'admin');
			expect(reversed.status).toBe(400);
			expect(reversed.body.error.code).toBe('period_reversed');
			const tooLong = await get('/sales?from=2020-01-01&to=2026-11-01', 'admin');
			expect(tooLong.status).toBe(400);
			expect(tooLong.body.error.code).toBe('period_too_long');
			expect((await get('/sales?groupBy=year', 'admin')).status).toBe(400);
		});
	});

	describe('funnel', () => {
		it('counts sent → delivered → clicked → ordered → net by staff', async () => {
			const res = await get(`/funnel?groupBy=staff&${NOV}`, 'admin');
			expect(res.status).toBe(200);
			const rows = Object.fromEntries(res.body.rows.map((r: Json) => [r.label, r]));
			expect(rows['鈴木']).toMatchObject({ created: 5, sent: 3, failed: 1, delivered: 3, clicked: 2, ordered: 2, orders: 2, netYen: 15_000, clickRate: 0.6667, conversionRate: 1 });
			expect(rows['高橋']).toMatchObject({ created: 1, sent: 1, failed: 0, clicked: 1, ordered: 1, netYen: 0, clickRate: 1, conversionRate: 1 });
			expect(rows['田中']).toMatchObject({ sent: 2, clicked: 2, ordered: 1, netYen: 10_000, clickRate: 1, conversionRate: 0.5 });
			expect(res.body.totals).toMatchObject({ created: 8, sent: 6, failed: 1, delivered: 6, clicked: 5, ordered: 4, orders: 4, grossYen: 50_000, refundedYen: 25_000, netYen: 25_000, clickRate: 0.8333, conversionRate: 0.8 });
			expect(res.body.definitions.delivered.en).toContain('no delivery receipt');
		});

		it('groups by store', async () => {
			const res = await get(`/funnel?groupBy=store&${NOV}`, 'admin');
			expect(res.body.rows.map((r: Json) => [r.key, r.sent, r.clicked, r.ordered, r.netYen])).toEqual([
				['a', 4, 3, 3, 15_000],
				['b', 2, 2, 1, 10_000]
			]);
		});
	});

	describe('OMO KPIs', () => {
		it('computes F2, cross-channel, dormant reactivation, median interval and state moves (all stores)', async () => {
			const res = await get(`/kpis?${NOV}`, 'admin');
			expect(res.status).toBe(200);
			const { kpis, states } = res.body;
			expect(kpis.f2Rate).toEqual({ value: 0.5, numerator: 2, denominator: 4 });
			expect(kpis.crossChannelRate).toEqual({ value: 0.2857, numerator: 2, denominator: 7 });
			expect(kpis.dormantReactivationRate).toEqual({ value: 0.5, numerator: 1, denominator: 2 });
			expect(kpis.medianPurchaseIntervalDays).toEqual({ value: 7, intervals: 3 });
			expect(states.atStart).toEqual({ cross_channel: 1, store_only: 0, ec_only: 0, first_purchase_only: 2, dormant: 2, none: 5 });
			expect(states.atEnd).toEqual({ cross_channel: 3, store_only: 2, ec_only: 0, first_purchase_only: 2, dormant: 2, none: 1 });
			expect(states.transitions).toEqual([
				{ from: 'cross_channel', to: 'cross_channel', customers: 1 },
				{ from: 'first_purchase_only', to: 'store_only', customers: 1 },
				{ from: 'first_purchase_only', to: 'dormant', customers: 1 },
				{ from: 'dormant', to: 'cross_channel', customers: 1 },
				{ from: 'dormant', to: 'dormant', customers: 1 },
				{ from: 'none', to: 'cross_channel', customers: 1 },
				{ from: 'none', to: 'store_only', customers: 1 },
				{ from: 'none', to: 'first_purchase_only', customers: 2 },
				{ from: 'none', to: 'none', customers: 1 }
			]);
			for (const key of ['f2Rate', 'crossChannelRate', 'dormantReactivationRate', 'medianPurchaseIntervalDays', 'customerStates']) {
				expect(res.body.definitions[key].ja.length).toBeGreaterThan(10);
				expect(res.body.definitions[key].en.length).toBeGreaterThan(10);
			}
		});

		it("narrows a manager to their store's customers", async () => {
			const res = await get(`/kpis?${NOV}`, 'managerA');
			expect(res.status).toBe(200);
			expect(res.body.scope).toEqual({ storeId: 'a' });
			expect(res.body.kpis.f2Rate).toEqual({ value: 0.3333, numerator: 1, denominator: 3 });
			expect(res.body.kpis.crossChannelRate).toEqual({ value: 0.3333, numerator: 2, denominator: 6 });
			expect(res.body.kpis.medianPurchaseIntervalDays).toEqual({ value: 12, intervals: 2 });
		});
	});

	describe("staff's own month", () => {
		it('shows my follow-ups, clicks and attributed orders this month', async () => {
			const res = await get('/me?month=2026-11', 'a1');
			expect(res.status).toBe(200);
			expect(res.body.month).toBe('2026-11');
			expect(res.body.followUps).toEqual({ sent: 3, failed: 1, clicked: 2, clickRate: 0.6667 });
			expect(res.body.clicks).toBe(3);
			expect(res.body.sales).toMatchObject({ orders: 2, grossYen: 18_000, refundedYen: 3_000, netYen: 15_000 });
			// the net splits at the holding period into 確定 and 未確定, nothing lost
			expect(res.body.sales.confirmedNetYen + res.body.sales.pendingNetYen).toBe(15_000);
			expect(res.body.recentOrders).toHaveLength(2);
		});
	});

	describe('CSV export', () => {
		it('is UTF-8 with a BOM, Japanese headers, the same rows as the screen', async () => {
			const res = await get(`/sales?groupBy=staff&${NOV}&format=csv`, 'admin');
			expect(res.status).toBe(200);
			expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
			expect(res.headers.get('content-disposition')).toBe('attachment; filename="sales-staff_2026-11-01_2026-11-30.csv"');
			expect(res.text.charCodeAt(0)).toBe(0xfeff);
			const lines = res.text.slice(1).trimEnd().split('\r\n');
			expect(lines[0]).toBe('スタッフ,スタッフコード,注文数,総額（円）,返金（円）,純売上（円）');
			expect(lines).toHaveLength(1 + 3 + 3); // header, 3 with sales, 3 active staff with ¥0
			expect(lines[1]).toMatch(/^鈴木,T\w+,2,18000,3000,15000$/);
		});

		it.each([
			[`/sales/orders?staffId=STAFF_A1&${NOV}&format=csv`, '注文日時（日本時間）', 3],
			[`/funnel?groupBy=store&${NOV}&format=csv`, '店舗,送信,送信失敗,配信,クリック,注文', 4],
			[`/kpis?${NOV}&format=csv`, '指標,値,分子,分母,定義', 5],
			[`/kpis?${NOV}&format=csv&table=transitions`, '期間開始時の状態,期間終了時の状態,顧客数', 10],
			['/me?month=2026-11&format=csv', '注文日時（日本時間）', 3]
		])('%s has a BOM and its headers', async (path, header, lineCount) => {
			const res = await get(path.replace('STAFF_A1', staff.a1.id), path.startsWith('/me') ? 'a1' : 'admin');
			expect(res.status).toBe(200);
			expect(res.text.startsWith('\uFEFF' + header)).toBe(true);
			expect(res.text.slice(1).trimEnd().split('\r\n')).toHaveLength(lineCount);
		});

		it('drill-down CSV: order ids stay text in Excel, staff and store by name next to their codes', async () => {
			const res = await get(`/sales/orders?staffId=${staff.a1.id}&${NOV}&format=csv`, 'admin');
			const [header, ...lines] = res.text.slice(1).trimEnd().split('\r\n');
			expect(header).toBe(
				'注文日時（日本時間）,注文ID,注文番号,スタッフ,スタッフコード,スタッフID,店舗,店舗コード,帰属ルール,リンクコード,クリック日時,フォローアップID,メッセージ（抜粋）,総額（円）,返金（円）,純売上（円）'
			);
			for (const line of lines) {
				// ="…" for digit-only ids (a 19-digit id would be 7.50E+18), the name before the code
				expect(line).toMatch(/^[^,]+,("=""\d+"""|[^,=][^,]*),[^,]*,鈴木,T\w+,[0-9a-f-]{36},渋谷店,a,/);
			}
		});

		it('neutralises cells that would start a formula (= + - @)', async () => {
			const { toCsv, asText } = await import('../../server/modules/reports/csv.ts');
			const csv = toCsv(
				[
					{ header: 'name', value: (r: { v: string }) => r.v },
					{ header: 'id', value: (r: { v: string }) => asText(r.v) }
				],
				[{ v: '=HYPERLINK("x")' }, { v: '+1' }, { v: '-2' }, { v: '@SUM(A1)' }, { v: '7500000000000000001' }, { v: '00123' }]
			);
			expect(csv.slice(1).trimEnd().split('\r\n')).toEqual([
				'name,id',
				`"'=HYPERLINK(""x"")","'=HYPERLINK(""x"")"`,
				"'+1,'+1",
				"'-2,'-2",
				"'@SUM(A1),'@SUM(A1)",
				'7500000000000000001,"=""7500000000000000001"""',
				'00123,"=""00123"""'
			]);
		});

		it('keeps the JST time of drill-down orders', async () => {
			const res = await get(`/sales/orders?staffId=${staff.a1.id}&${NOV}&format=csv`, 'admin');
			expect(res.text).toContain('2026-11-01 00:30:00');
		});
	});

	describe('access matrix', () => {
		// [path, staff a1, manager A, admin]; ids filled in per test
		const matrix: Array<[string, number, number, number]> = [
			['/sales', 200, 200, 200],
			['/sales?staffId=A2', 403, 200, 200],
			['/sales?staffId=B1', 403, 403, 200],
			['/sales?storeId=b', 403, 403, 200],
			['/sales?storeId=a&staffId=A1', 200, 200, 200],
			['/sales/orders', 200, 200, 200],
			['/sales/orders?staffId=A2', 403, 200, 200],
			['/sales/orders?staffId=B1', 403, 403, 200],
			['/sales/orders?storeId=b', 403, 403, 200],
			['/funnel', 200, 200, 200],
			['/funnel?staffId=A2', 403, 200, 200],
			['/funnel?staffId=B1', 403, 403, 200],
			['/funnel?storeId=b', 403, 403, 200],
			['/kpis', 403, 200, 200],
			['/kpis?storeId=b', 403, 403, 200],
			['/me', 200, 200, 200]
		];
		const fill = (path: string) => path.replace('A2', staff.a2.id).replace('B1', staff.b1.id).replace('A1', staff.a1.id);

		it.each(matrix)('%s → staff %i, manager %i, admin %i', async (path, asStaff, asManager, asAdmin) => {
			const sep = path.includes('?') ? '&' : '?';
			const url = `${fill(path)}${sep}${NOV}`.replace('/me&' + NOV, '/me?month=2026-11').replace(`/me?${NOV}`, '/me?month=2026-11');
			expect((await get(url, 'a1')).status).toBe(asStaff);
			expect((await get(url, 'managerA')).status).toBe(asManager);
			expect((await get(url, 'admin')).status).toBe(asAdmin);
			expect((await get(url)).status).toBe(401);
			expect((await get(`${url}&format=csv`, 'admin')).status).toBe(asAdmin);
		});

		it("never returns other people's rows to staff or other stores' rows to managers", async () => {
			const mine = await get(`/sales?groupBy=staff&${NOV}`, 'a1');
			expect(mine.body.rows.map((r: Json) => r.key)).toEqual([staff.a1.id]);
			const storeA = await get(`/sales?groupBy=store&${NOV}`, 'managerA');
			expect(storeA.body.rows.map((r: Json) => r.key)).toEqual(['a']);
			const funnel = await get(`/funnel?groupBy=staff&${NOV}`, 'b1');
			expect(funnel.body.rows.map((r: Json) => r.key)).toEqual([staff.b1.id]);
			const orders = await get(`/sales/orders?${NOV}`, 'managerA');
			expect(new Set(orders.body.orders.map((o: Json) => o.storeId))).toEqual(new Set(['a']));
		});
	});
});
