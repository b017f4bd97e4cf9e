/**
 * The attribution ledger: every change of an order's credit is appended to attribution_changes
 * with its cause (and where it came from), the drill-down shows the history, and reports split
 * credit into 確定 / 未確定 at the brand's holding period.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREDIT_HOLDING_DAYS } from '../../server/modules/attribution/attribution.service.ts';
import { runImport } from '../../server/ingest/import.ts';
import { closeLinks, createLinks, mintLinkCode } from '../../server/modules/links/links.service.ts';
import { meReport, salesOrders, salesReport } from '../../server/modules/reports/reports.service.ts';
import { writeSetting } from '../../server/modules/settings/settings.service.ts';
import { processInboxBatch } from '../../server/modules/webhooks/inbox.service.ts';
import { shopifyInboxHandler } from '../../server/modules/webhooks/shopify.handler.ts';
import type { Runtime } from '../../server/runtime.ts';
import { buildOrderPayload, buildRefundPayload, shopifyHeaders, shopifyJson } from '../../server/sandbox/shopify.ts';
import { testDbKinds } from '../helpers/db.ts';
import { newCustomer, newStaff, newStore } from '../helpers/factories.ts';
import { createTestRuntime } from '../helpers/runtime.ts';

const CREATED = '2026-11-20T10:00:00+09:00';
let seq = 0;
const nextId = () => String(7600000000000000000n + BigInt(++seq) * 10n);

describe.each(testDbKinds())('attribution ledger on %s', (kind) => {
	let rt: Runtime;
	let store: string;
	let admin: string;
	beforeAll(async () => {
		rt = await createTestRuntime(kind);
		store = (await newStore(rt.deps.db)).id;
		admin = (await newStaff(rt.deps.db, { storeId: store, role: 'admin', pin: null })).id;
	});
	afterAll(async () => {
		await closeLinks(rt.deps);
		await rt?.close();
	});
	const db = () => rt.deps.db;

	async function post(topic: string, body: string, webhookId = randomUUID()) {
		const res = await rt.app.request('/webhooks/shopify', { method: 'POST', headers: shopifyHeaders(body, rt.config.shopify.webhookSecret, topic, webhookId), body });
		expect(res.status).toBe(200);
		for (;;) if ((await processInboxBatch(db(), { shopify: shopifyInboxHandler(rt.deps.orders) })).claimed === 0) return;
	}
	async function staffWithLink() {
		const staffId = (await newStaff(db(), { storeId: store, pin: null })).id;
		const email = `ledger-${randomUUID().slice(0, 8)}@example.jp`;
		const customer = await newCustomer(db(), { email });
		await db().insertInto('customer_identities').values({ customer_id: customer.id, kind: 'email', value: email }).execute();
		const code = mintLinkCode();
		await createLinks(db(), [{ code, follow_up_id: null, staff_id: staffId, store_id: store, customer_id: customer.id, product_id: null, target_url: 'https://shop.example.jp/p/1' }]);
		return { staffId, email, code };
	}
	const order = (id: string, s: { email: string; code: string }, extra: { updatedAt?: string; cancelledAt?: string } = {}) =>
		shopifyJson(buildOrderPayload({ id, createdAt: CREATED, customer: { email: s.email }, noteAttributes: [{ name: 'tsunagu_ref', value: s.code }], lines: [{ sku: 'L-1', quantity: 1, price: 16_500 }], ...extra }));
	const ledger = (id: string) =>
		db().selectFrom('attribution_changes').select(['cause', 'via', 'status', 'previous_net_yen', 'net_yen']).where('ec_order_id', '=', id).orderBy('id').execute();

	it('appends created, refunded and cancelled, and nothing for a redelivery', async () => {
		const s = await staffWithLink();
		const id = nextId();
		const webhookId = randomUUID();
		await post('orders/create', order(id, s), webhookId);
		await post('orders/create', order(id, s)); // same state again: no change of credit
		await post('refunds/create', shopifyJson(buildRefundPayload({ id: nextId(), orderId: id, amount: 3_300, createdAt: '2026-12-03T10:00:00+09:00' })));
		await post('orders/cancelled', order(id, s, { updatedAt: '2026-12-04T10:00:00+09:00', cancelledAt: '2026-12-04T10:00:00+09:00' }));
		expect(await ledger(id)).toEqual([
			{ cause: 'created', via: 'webhook', status: 'active', previous_net_yen: null, net_yen: 16_500 },
			{ cause: 'refunded', via: 'webhook', status: 'active', previous_net_yen: 16_500, net_yen: 13_200 },
			{ cause: 'cancelled', via: 'webhook', status: 'void', previous_net_yen: 13_200, net_yen: 0 }
		]);
	});

	it('records a CSV export\'s refund as coming from the CSV import', async () => {
		const s = await staffWithLink();
		const id = nextId();
		await post('orders/create', order(id, s));
		const tmp = await mkdtemp(join(tmpdir(), 'tsunagu-ledger-'));
		try {
			const file = join(tmp, 'ec.csv');
			await writeFile(
				file,
				'order_id,ordered_at,updated_at,email,status,line_no,sku,name,quantity,unit_price_yen,amount_yen,total_yen,refunded_yen\n' +
					`${id},${CREATED},2026-12-03T10:00:00+09:00,${s.email},open,1,L-1,L,1,16500,16500,16500,3300\n`
			);
			await runImport(db(), { kind: 'ec', file, errorsFile: null, orders: rt.deps.orders });
		} finally {
			await rm(tmp, { recursive: true, force: true });
		}
		expect((await ledger(id)).map((e) => `${e.cause}/${e.via}:${e.previous_net_yen}→${e.net_yen}`)).toEqual(['created/webhook:null→16500', 'refunded/csv:16500→13200']);
	});

	it('shows the credit history in the drill-down and splits 確定 / 未確定 at the holding period', async () => {
		const s = await staffWithLink();
		const id = nextId();
		await post('orders/create', order(id, s));
		await post('refunds/create', shopifyJson(buildRefundPayload({ id: nextId(), orderId: id, amount: 3_300 })));
		const who = { id: admin, role: 'admin' as const };
		const period = { from: '2026-11-01', to: '2026-11-30', staffId: s.staffId };

		const early = new Date('2026-11-25T00:00:00+09:00'); // 5 days after the order: pending
		const drill = await salesOrders(db(), who, period, early);
		expect(drill.orders).toHaveLength(1);
		expect(drill.orders[0]).toMatchObject({ netYen: 13_200, confirmed: false });
		expect(drill.orders[0].creditHistory.map((h) => [h.cause, h.previousNetYen, h.netYen])).toEqual([
			['created', null, 16_500],
			['refunded', 16_500, 13_200]
		]);
		const pending = await salesReport(db(), who, { ...period, groupBy: 'staff' }, early);
		expect(pending.rows[0]).toMatchObject({ netYen: 13_200, confirmedNetYen: 0, pendingNetYen: 13_200 });

		const late = new Date('2026-12-10T00:00:00+09:00'); // past the default 14 days
		const confirmed = await salesReport(db(), who, { ...period, groupBy: 'staff' }, late);
		expect(confirmed.rows[0]).toMatchObject({ confirmedNetYen: 13_200, pendingNetYen: 0 });
		const me = await meReport(db(), { id: s.staffId, role: 'staff' }, { month: '2026-11' }, late);
		expect(me.sales).toMatchObject({ netYen: 13_200, confirmedNetYen: 13_200, pendingNetYen: 0 });

		// the brand shortens its holding period to 3 days: the early look is confirmed too
		await writeSetting(db(), CREDIT_HOLDING_DAYS, 3, admin);
		try {
			const shorter = await salesReport(db(), who, { ...period, groupBy: 'staff' }, early);
			expect(shorter.rows[0]).toMatchObject({ confirmedNetYen: 13_200, pendingNetYen: 0 });
		} finally {
			await writeSetting(db(), CREDIT_HOLDING_DAYS, 14, admin);
		}
	});
});
