/**
 * `npm run bench:orders`: Shopify orders/create ingestion with attribution on a throwaway
 * PostgreSQL database — orders/s through the webhook inbox (identity resolution, order upsert,
 * lines, and the attribution hook). Half the orders carry a `tsunagu_ref` cart attribute, the
 * other half come from members with recent clicks (last touch). Target ≥ 500 orders/s. Prints
 * the figure and how many were attributed; asserts nothing.
 *
 *   npm run bench:orders [-- --orders 5000] [-- --workers 4]
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { createLogger } from '../../server/logger.ts';
import { createOrders } from '../../server/modules/orders/orders.service.ts';
import { createLinks, mintLinkCode } from '../../server/modules/links/links.service.ts';
import { processInboxBatch } from '../../server/modules/webhooks/inbox.service.ts';
import { shopifyInboxHandler } from '../../server/modules/webhooks/shopify.handler.ts';
import { createRuntime } from '../../server/runtime.ts';
import { buildOrderPayload, shopifyHeaders, shopifyJson } from '../../server/sandbox/shopify.ts';
import { createTestDatabase } from '../helpers/db.ts';
import { testConfig } from '../helpers/runtime.ts';

const { values } = parseArgs({ options: { orders: { type: 'string', default: '5000' }, workers: { type: 'string', default: '4' }, 'no-attribution': { type: 'boolean', default: false } } });
const ORDERS = Number(values.orders);
const WORKERS = Number(values.workers);
process.env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/postgres';

async function main() {
	const database = await createTestDatabase('postgres', { migrate: false });
	const rt = await createRuntime(testConfig({ DATABASE_POOL_SIZE: String(WORKERS + 4) }), { handle: database, logger: createLogger('silent') });
	const db = rt.deps.db;
	// baseline for comparison: the same ingestion without the attribution hook
	const ordersModule = values["no-attribution"] ? createOrders() : rt.deps.orders;
	try {
		await db.insertInto('stores').values({ id: 'bench', name: 'ベンチ店', name_en: 'Bench' }).execute();
		const staff = await db.insertInto('staff').values({ staff_code: 'B001', display_name: 'ベンチ', sender_name: 'ベンチ', role: 'staff', home_store_id: 'bench' }).returning('id').executeTakeFirstOrThrow();
		const members = 500;
		const customers = await db
			.insertInto('customers')
			.values(Array.from({ length: members }, (_, i) => ({ member_no: String(3_000_000_000 + i), email: `member${i}@example.jp` })))
			.returning('id')
			.execute();
		await db.insertInto('customer_identities').values(customers.map((c, i) => ({ customer_id: c.id, kind: 'email' as const, value: `member${i}@example.jp` }))).execute();
		const codes = customers.map(() => mintLinkCode());
		await createLinks(db, customers.map((c, i) => ({ code: codes[i], follow_up_id: null, staff_id: staff.id, store_id: 'bench', customer_id: c.id, product_id: null, target_url: 'https://shop.example.jp/p' })));
		await db.insertInto('link_clicks').values(customers.map((c, i) => ({ click_id: randomUUID(), code: codes[i], customer_id: c.id, clicked_at: new Date(Date.now() - 86_400_000), user_agent: null }))).execute();

		// receipt (not timed here: bench:webhooks measures it)
		const now = new Date().toISOString();
		for (let i = 0; i < ORDERS; i++) {
			const m = i % members;
			const body = shopifyJson(
				buildOrderPayload({
					id: String(7600000000000000000n + BigInt(i)),
					createdAt: now,
					customer: { email: `member${m}@example.jp` },
					noteAttributes: i % 2 === 0 ? [{ name: 'tsunagu_ref', value: codes[(m + 1) % members] }] : [],
					lines: [{ sku: `SKU-${i % 50}`, quantity: 1, price: 3900 }]
				})
			);
			const res = await rt.app.request('/webhooks/shopify', { method: 'POST', headers: shopifyHeaders(body, rt.config.shopify.webhookSecret, 'orders/create', randomUUID()), body });
			if (res.status !== 200) throw new Error(`receipt ${res.status}`);
		}

		const started = performance.now();
		await Promise.all(
			Array.from({ length: WORKERS }, async () => {
				for (;;) if ((await processInboxBatch(db, { shopify: shopifyInboxHandler(ordersModule) })).claimed === 0) return;
			})
		);
		const seconds = (performance.now() - started) / 1000;
		const rules = await db.selectFrom('attributions').select(['rule', sql<number>`count(*)::int`.as('n')]).groupBy('rule').execute();
		const orders = await db.selectFrom('ec_orders').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow();
		console.log(`orders ingested: ${orders.n} in ${seconds.toFixed(2)} s with ${WORKERS} inbox workers on PostgreSQL`);
		console.log(`throughput: ${(ORDERS / seconds).toFixed(0)} orders/s (target ≥ 500)`);
		console.log(`attributed: ${rules.map((r) => `${r.rule}=${r.n}`).join(' ')}`);
	} finally {
		// the runtime's listeners (conversations LISTEN) hold a connection: pool.end would wait forever
		await rt.close();
		await database.dispose();
	}
}

main().then(
	() => process.exit(0),
	(err) => {
		console.error(err);
		process.exit(1);
	}
);
