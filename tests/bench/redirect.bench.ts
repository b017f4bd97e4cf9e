/**
 * `npm run bench:redirect`: requests/s and latency of `GET /l/{code}` (the full app: request
 * context, secure headers, LRU lookup, buffered click write) against a bare Hono route that
 * answers the same 302, both served by @hono/node-server on this machine, autocannon with 100
 * connections, one after the other in one run. Prints both, the ratio and p99; then checks the
 * clicks reached the database. Target: ratio ≥ 0.5, p99 < 25 ms. Asserts nothing.
 *
 *   npm run bench:redirect [-- --seconds 10] [-- --db pglite|postgres]
 */
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { createLogger } from '../../server/logger.ts';
import { closeLinks, createLinks, linkState, mintLinkCode } from '../../server/modules/links/links.service.ts';
import { redirectTarget } from '../../server/modules/links/codes.ts';
import { createRuntime } from '../../server/runtime.ts';
import { createTestDatabase } from '../helpers/db.ts';
import { testConfig } from '../helpers/runtime.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, db: { type: 'string', default: 'pglite' } } });
const SECONDS = Number(values.seconds);
const WARMUP_SECONDS = 2;
const kind = values.db === 'postgres' ? 'postgres' : 'pglite';
if (kind === 'postgres') process.env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/postgres';

interface CannonResult {
	requests: { average: number };
	latency: { p99: number };
	errors: number;
	non2xx: number;
	'3xx': number;
}
type Cannon = (opts: Record<string, unknown>) => Promise<CannonResult>;
// autocannon ships no types; this is the part of its API the bench uses.
const autocannon = createRequire(import.meta.url)('autocannon') as Cannon;

async function listen(fetch: (req: Request) => Response | Promise<Response>): Promise<{ url: string; close: () => void }> {
	const server = serve({ fetch, port: 0, hostname: '127.0.0.1' });
	await new Promise((r) => server.once('listening', r));
	return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

/**
 * The load runs in a worker thread: on the server's own event loop it would take turns with the
 * server and add its own work to every measured latency. Each connection walks the code list.
 */
function cannon(url: string, paths: string[], seconds = SECONDS): Promise<CannonResult> {
	return autocannon({
		url,
		connections: 100,
		duration: seconds,
		workers: 1,
		requests: paths.map((path) => ({ method: 'GET', path }))
	});
}

async function main() {
	const database = await createTestDatabase(kind, { migrate: false });
	const rt = await createRuntime(testConfig(), { handle: database, logger: createLogger('silent') });
	const db = rt.deps.db;
	const store = await db.insertInto('stores').values({ id: 'bench', name: 'ベンチ店', name_en: 'Bench' }).returning('id').executeTakeFirstOrThrow();
	const staff = await db.insertInto('staff').values({ staff_code: 'B001', display_name: 'ベンチ', sender_name: 'ベンチ', role: 'staff', home_store_id: store.id }).returning('id').executeTakeFirstOrThrow();
	const target = 'https://shop.example.jp/products/SKU-1';
	const codes = Array.from({ length: 1000 }, () => mintLinkCode());
	await createLinks(db, codes.map((code) => ({ code, follow_up_id: null, staff_id: staff.id, store_id: store.id, customer_id: null, product_id: null, target_url: target })));

	const bare = new Hono().get('/l/:code', (c) => c.redirect(redirectTarget(target, c.req.param('code')), 302));
	const bareServer = await listen(bare.fetch);
	const appServer = await listen(rt.app.fetch);
	const paths = codes.map((c) => `/l/${c}`);
	try {
		// warm-up of both stacks (JIT; our code → target cache, filled on a code's first click)
		await cannon(bareServer.url, paths, WARMUP_SECONDS);
		await cannon(appServer.url, paths, WARMUP_SECONDS);
		const baseline = await cannon(bareServer.url, paths);
		const countClicks = async () => Number((await db.selectFrom('link_clicks').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
		await linkState(rt.deps).clicks.flush();
		const before = await countClicks();
		const ours = await cannon(appServer.url, paths);
		await closeLinks(rt.deps);
		// autocannon counts responses finished inside the window; up to 100 in flight land after it
		const clicks = { n: (await countClicks()) - before };
		const ratio = ours.requests.average / baseline.requests.average;
		console.log(`database: ${kind}, ${SECONDS}s each, 100 connections`);
		console.log(`bare Hono 302:   ${baseline.requests.average.toFixed(0)} req/s  p99 ${baseline.latency.p99} ms  (non-3xx: ${baseline.non2xx - baseline['3xx'] || 0})`);
		console.log(`GET /l/{code}:   ${ours.requests.average.toFixed(0)} req/s  p99 ${ours.latency.p99} ms  (errors: ${ours.errors}, 3xx: ${ours['3xx']})`);
		console.log(`ratio: ${ratio.toFixed(2)} (target ≥ 0.50)   p99 target < 25 ms`);
		console.log(`clicks stored: ${Number(clicks.n)} of ${ours['3xx']} redirects`);
	} finally {
		bareServer.close();
		appServer.close();
		await rt.lineSandbox?.close();
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
