/**
 * `npm run bench:webhooks`: Shopify webhook receipt latency (p50/p95 over real HTTP, signed
 * orders/create deliveries stored in the inbox) and inbox processing throughput (orders/s,
 * identity resolution included) on a throwaway PostgreSQL database (DATABASE_URL's server, or
 * 127.0.0.1 by default). Shopify's limit is an answer within 5 s. Prints figures; asserts nothing.
 *
 *   npm run bench:webhooks [-- --orders 2000] [-- --concurrency 16] [-- --workers 2]
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { serve } from '@hono/node-server';
import { createLogger } from '../../server/logger.ts';
import { processInboxBatch } from '../../server/modules/webhooks/inbox.service.ts';
import { shopifyInboxHandler } from '../../server/modules/webhooks/shopify.handler.ts';
import { createRuntime } from '../../server/runtime.ts';
import { buildOrderPayload, shopifyHeaders, shopifyJson } from '../../server/sandbox/shopify.ts';
import { createTestDatabase } from '../helpers/db.ts';
import { testConfig } from '../helpers/runtime.ts';

const { values } = parseArgs({
	options: {
		orders: { type: 'string', default: '2000' },
		concurrency: { type: 'string', default: '16' },
		workers: { type: 'string', default: '2' }
	}
});
const ORDERS = Number(values.orders);
const CONCURRENCY = Number(values.concurrency);
const WORKERS = Number(values.workers);
process.env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/postgres';

function percentile(sorted: number[], p: number): number {
	return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function payloadFor(i: number): string {
	const id = String(7300000000000000000n + BigInt(i));
	return shopifyJson(
		buildOrderPayload({
			id,
			customer: { id: String(8100000000000000000n + BigInt(i % Math.ceil(ORDERS / 3))), email: `buyer${i % Math.ceil(ORDERS / 3)}@example.jp` },
			lines: [
				{ sku: `SKU-${i % 50}`, quantity: 1 + (i % 3), price: 3900 },
				{ sku: `SKU-${(i + 7) % 50}`, quantity: 1, price: 12800 }
			]
		})
	);
}

async function main() {
	const database = await createTestDatabase('postgres', { migrate: false });
	const rt = await createRuntime(testConfig({ DATABASE_POOL_SIZE: '10' }), { handle: database, logger: createLogger('silent') });
	const server = serve({ fetch: rt.app.fetch, port: 0, hostname: '127.0.0.1' });
	await new Promise((r) => server.once('listening', r));
	const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	const secret = rt.config.shopify.webhookSecret;
	try {
		const bodies = Array.from({ length: ORDERS }, (_, i) => payloadFor(i));
		const latencies: number[] = [];
		let next = 0;
		let failures = 0;
		const receiptStarted = performance.now();
		await Promise.all(
			Array.from({ length: CONCURRENCY }, async () => {
				for (let i = next++; i < ORDERS; i = next++) {
					const started = performance.now();
					const res = await fetch(`${base}/webhooks/shopify`, {
						method: 'POST',
						headers: shopifyHeaders(bodies[i], secret, 'orders/create', randomUUID()),
						body: bodies[i]
					});
					await res.arrayBuffer();
					latencies.push(performance.now() - started);
					if (res.status !== 200) failures++;
				}
			})
		);
		const receiptSeconds = (performance.now() - receiptStarted) / 1000;
		latencies.sort((a, b) => a - b);

		const processStarted = performance.now();
		let processed = 0;
		await Promise.all(
			Array.from({ length: WORKERS }, async () => {
				for (;;) {
					const batch = await processInboxBatch(rt.deps.db, { shopify: shopifyInboxHandler(rt.deps.orders) }, { batchSize: 20 });
					if (batch.claimed === 0) return;
					processed += batch.processed;
				}
			})
		);
		const processSeconds = (performance.now() - processStarted) / 1000;
		const orders = await rt.deps.db.selectFrom('ec_orders').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();

		console.log(`Shopify webhooks on PostgreSQL — ${ORDERS} orders/create deliveries, ${CONCURRENCY} concurrent senders`);
		console.log(`  receipt:    p50 ${percentile(latencies, 50).toFixed(1)} ms, p95 ${percentile(latencies, 95).toFixed(1)} ms, max ${latencies.at(-1)!.toFixed(1)} ms (${(ORDERS / receiptSeconds).toFixed(0)} req/s, ${failures} non-200)`);
		console.log(`  processing: ${processed} processed by ${WORKERS} workers in ${processSeconds.toFixed(2)} s = ${(processed / processSeconds).toFixed(0)} orders/s (${Number(orders.n)} orders stored)`);
	} finally {
		server.close();
		// the runtime's listeners hold a connection (pool.end would wait for it); closing the
		// handle twice is harmless, and dispose() then drops the database
		await rt.close();
		await database.dispose();
	}
}

main().catch((err) => {
	console.error(err);
	process.exit(1);
});
