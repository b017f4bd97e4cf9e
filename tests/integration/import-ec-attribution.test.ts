/**
 * EC CSV rows go through the orders module like webhooks do (orders.applyDeliveries and its
 * change hooks). The same two orders — a ¥10,000 order later cancelled with a ¥4,000 refund, and
 * a ¥16,500 order with a ¥3,300 refund — reach the server four ways: by webhook only, by webhook
 * then CSV export, by CSV export then webhook, and by CSV export only. Each way must leave the
 * same orders, refunded totals, staff credit and sales report as the webhook-only way.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeLinks, createLinks, mintLinkCode } from '../../server/modules/links/links.service.ts';
import { runImport } from '../../server/ingest/import.ts';
import { salesReport } from '../../server/modules/reports/reports.service.ts';
import { processInboxBatch } from '../../server/modules/webhooks/inbox.service.ts';
import { shopifyInboxHandler } from '../../server/modules/webhooks/shopify.handler.ts';
import type { Runtime } from '../../server/runtime.ts';
import { buildOrderPayload, buildRefundPayload, shopifyHeaders, shopifyJson } from '../../server/sandbox/shopify.ts';
import { testDbKinds } from '../helpers/db.ts';
import { newCustomer, newStaff, newStore } from '../helpers/factories.ts';
import { createTestRuntime } from '../helpers/runtime.ts';

const CREATED = '2026-11-20T10:00:00+09:00';
const UPDATED = '2026-11-21T12:00:00+09:00';
const CSV_HEADER = 'order_id,order_name,ordered_at,updated_at,ec_customer_id,email,phone,status,line_no,sku,name,quantity,unit_price_yen,amount_yen,total_yen,refunded_yen';
let seq = 0;

type Way = 'webhook only' | 'webhook then CSV' | 'webhook (created only) then CSV' | 'CSV then webhook' | 'CSV only';
const WAYS: Way[] = ['webhook only', 'webhook then CSV', 'webhook (created only) then CSV', 'CSV then webhook', 'CSV only'];

describe.each(testDbKinds())('EC CSV import through the order rules on %s', (kind) => {
	let rt: Runtime;
	let store: string;
	let admin: string;
	let tmp: string;
	beforeAll(async () => {
		rt = await createTestRuntime(kind);
		store = (await newStore(rt.deps.db)).id;
		admin = (await newStaff(rt.deps.db, { storeId: store, role: 'admin', pin: null })).id;
		tmp = await mkdtemp(join(tmpdir(), 'tsunagu-ec-csv-'));
	});
	afterAll(async () => {
		await closeLinks(rt.deps);
		await rt?.close();
		await rm(tmp, { recursive: true, force: true });
	});
	const db = () => rt.deps.db;

	/** A staff member of their own, a member who clicked their link a day before ordering. */
	async function setUp() {
		const staffId = (await newStaff(db(), { storeId: store, pin: null })).id;
		const email = `csv-${randomUUID().slice(0, 8)}@example.jp`;
		const customer = await newCustomer(db(), { email });
		await db().insertInto('customer_identities').values({ customer_id: customer.id, kind: 'email', value: email }).execute();
		const code = mintLinkCode();
		await createLinks(db(), [{ code, follow_up_id: null, staff_id: staffId, store_id: store, customer_id: customer.id, product_id: null, target_url: 'https://shop.example.jp/p/1' }]);
		const clickedAt = new Date(new Date(CREATED).getTime() - 86_400_000);
		await db().insertInto('link_clicks').values({ click_id: randomUUID(), code, customer_id: customer.id, clicked_at: clickedAt, user_agent: null }).execute();
		const n = ++seq;
		return { staffId, email, code, cancelled: String(7500000000000000000n + BigInt(n) * 10n), refunded: String(7500000000000000000n + BigInt(n) * 10n + 1n) };
	}
	type Setup = Awaited<ReturnType<typeof setUp>>;

	async function post(topic: string, body: string) {
		const res = await rt.app.request('/webhooks/shopify', { method: 'POST', headers: shopifyHeaders(body, rt.config.shopify.webhookSecret, topic, randomUUID()), body });
		expect(res.status).toBe(200);
		for (;;) if ((await processInboxBatch(db(), { shopify: shopifyInboxHandler(rt.deps.orders) })).claimed === 0) return;
	}
	const order = (s: Setup, id: string, extra: { updatedAt?: string; cancelledAt?: string } = {}) =>
		shopifyJson(
			buildOrderPayload({
				id,
				createdAt: CREATED,
				customer: { email: s.email },
				noteAttributes: [{ name: 'tsunagu_ref', value: s.code }],
				lines: id === s.cancelled ? [{ sku: 'CSV-A', title: 'A', quantity: 2, price: 5000 }] : [{ sku: 'CSV-B', title: 'B', quantity: 1, price: 16500 }],
				...extra
			})
		);
	const refund = (orderId: string, amount: number) =>
		shopifyJson(buildRefundPayload({ id: String(BigInt(orderId) + 5000n), orderId, amount, createdAt: UPDATED }));

	async function webhooksCreated(s: Setup) {
		await post('orders/create', order(s, s.cancelled));
		await post('orders/create', order(s, s.refunded));
	}
	async function webhooksLater(s: Setup) {
		await post('refunds/create', refund(s.cancelled, 4000));
		await post('orders/cancelled', order(s, s.cancelled, { updatedAt: UPDATED, cancelledAt: UPDATED }));
		await post('refunds/create', refund(s.refunded, 3300));
		await post('orders/updated', order(s, s.refunded, { updatedAt: UPDATED }));
	}
	async function csvExport(s: Setup) {
		const file = join(tmp, `ec-${randomUUID()}.csv`);
		await writeFile(
			file,
			[
				CSV_HEADER,
				`${s.cancelled},#A,${CREATED},${UPDATED},,${s.email},,cancelled,1,CSV-A,A,2,5000,10000,10000,4000`,
				`${s.refunded},#B,${CREATED},${UPDATED},,${s.email},,open,1,CSV-B,B,1,16500,16500,16500,3300`
			].join('\n') + '\n'
		);
		const summary = await runImport(db(), { kind: 'ec', file, errorsFile: null, orders: rt.deps.orders, pool: rt.handle.pool });
		expect(summary.rowsBad).toBe(0);
	}

	async function arrive(way: Way, s: Setup) {
		if (way === 'webhook only') return webhooksCreated(s).then(() => webhooksLater(s));
		if (way === 'webhook then CSV') return webhooksCreated(s).then(() => webhooksLater(s)).then(() => csvExport(s));
		if (way === 'webhook (created only) then CSV') return webhooksCreated(s).then(() => csvExport(s));
		if (way === 'CSV then webhook') return csvExport(s).then(() => webhooksCreated(s)).then(() => webhooksLater(s));
		return csvExport(s);
	}

	/** What the manager and payroll see of the two orders, without ids that differ per way. */
	async function outcome(s: Setup) {
		const ids = [s.cancelled, s.refunded];
		const orders = await db()
			.selectFrom('ec_orders')
			.select(['ec_order_id', 'status', 'total_yen', 'customer_id'])
			.where('ec_order_id', 'in', ids)
			.orderBy('ec_order_id')
			.execute();
		const refunds = await db()
			.selectFrom('ec_refunds')
			.select(['ec_order_id', db().fn.sum<number>('amount_yen').as('refunded')])
			.where('ec_order_id', 'in', ids)
			.groupBy('ec_order_id')
			.orderBy('ec_order_id')
			.execute();
		const credit = await db()
			.selectFrom('attributions')
			.select(['ec_order_id', 'staff_id', 'store_id', 'status', 'gross_yen', 'refunded_yen'])
			.where('ec_order_id', 'in', ids)
			.orderBy('ec_order_id')
			.execute();
		const report = await salesReport(db(), { id: admin, role: 'admin' }, { from: '2026-11-01', to: '2026-11-30', staffId: s.staffId, groupBy: 'staff' });
		return {
			orders: orders.map((o) => ({ ...o, ec_order_id: o.ec_order_id === s.cancelled ? 'cancelled' : 'refunded' })),
			refunds: refunds.map((r) => ({ order: r.ec_order_id === s.cancelled ? 'cancelled' : 'refunded', refunded: Number(r.refunded) })),
			credit: credit.map((a) => ({ ...a, ec_order_id: a.ec_order_id === s.cancelled ? 'cancelled' : 'refunded', staff_id: a.staff_id === s.staffId })),
			report: report.rows.map((r) => ({ orders: r.orders, grossYen: r.grossYen, refundedYen: r.refundedYen, netYen: r.netYen }))
		};
	}

	it('the webhook-only result: the cancelled order voided, the refunded one netted', async () => {
		const s = await setUp();
		await arrive('webhook only', s);
		const o = await outcome(s);
		expect(o.credit).toEqual([
			{ ec_order_id: 'cancelled', staff_id: true, store_id: store, status: 'void', gross_yen: 10_000, refunded_yen: 4_000 },
			{ ec_order_id: 'refunded', staff_id: true, store_id: store, status: 'active', gross_yen: 16_500, refunded_yen: 3_300 }
		]);
		expect(o.report).toEqual([{ orders: 1, grossYen: 16_500, refundedYen: 3_300, netYen: 13_200 }]);
	});

	it.each(WAYS.slice(1))('%s leaves what the webhooks alone leave', async (way) => {
		const reference = await setUp();
		await arrive('webhook only', reference);
		const s = await setUp();
		await arrive(way, s);
		const expected = await outcome(reference);
		const got = await outcome(s);
		// customers differ per setup: compare that each order landed on its member
		const members = async (setup: Setup) =>
			(await db().selectFrom('customer_identities').select('customer_id').where('value', '=', setup.email).executeTakeFirstOrThrow()).customer_id;
		expect(got.orders.map((o) => o.customer_id)).toEqual([await members(s), await members(s)]);
		expect(expected.orders.map((o) => o.customer_id)).toEqual([await members(reference), await members(reference)]);
		const withoutCustomer = (o: typeof got) => ({ ...o, orders: o.orders.map(({ customer_id: _, ...rest }) => rest) });
		expect(withoutCustomer(got)).toEqual(withoutCustomer(expected));
	});

	it('a CSV export that is older than the stored webhook state changes nothing', async () => {
		const s = await setUp();
		await arrive('webhook only', s);
		const before = await outcome(s);
		const file = join(tmp, `ec-old-${randomUUID()}.csv`);
		await writeFile(file, `${CSV_HEADER}\n${s.refunded},#B,${CREATED},${CREATED},,${s.email},,open,1,CSV-B,B,1,16500,16500,16500,0\n`);
		const summary = await runImport(db(), { kind: 'ec', file, errorsFile: null, orders: rt.deps.orders });
		expect(summary.counts).toMatchObject({ orders_written: 0 });
		expect(await outcome(s)).toEqual(before);
	});
});
