/**
 * `npm run test:chaos` — the fault run on a real PostgreSQL (DATABASE_URL's server, or
 * 127.0.0.1:5432), against the server as a real process (`node server/main.ts`):
 *
 *   1. kill -9 the server during a burst of 500 signed Shopify webhooks; restart; Shopify
 *      redelivers → every acknowledged delivery is applied exactly once;
 *   2. kill -9 the server during an outbox burst against the LINE sandbox running in its own
 *      process; restart → every follow-up is accepted by LINE exactly once per retry key;
 *   3. stall the database through a TCP proxy → /healthz 503 within 2 s, the API 503
 *      `database_unavailable`, workers back off (few log lines), recovery after the stall;
 *      startup against a stalled and an unreachable database exits non-zero with a message
 *      within 30 s.
 *
 * Prints tried / safe / bad per scenario and in total; exits 1 on any bad.
 *
 * A process killed with -9 leaves its claims leased (60 s). Rather than wait that out, the run
 * moves those leases to "expired" after the kill — the same state a minute later.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { sql } from 'kysely';
import { DEMO_SECRETS } from '../../server/config.ts';
import type { Db } from '../../server/db/index.ts';
import { buildOrderPayload, shopifyHeaders, shopifyJson } from '../../server/sandbox/shopify.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { startTcpProxy } from './tcp-proxy.ts';

process.env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/postgres';
const PG = new URL(process.env.DATABASE_URL);

interface Tally {
	tried: number;
	safe: number;
	bad: number;
	notes: string[];
}
const tallies = new Map<string, Tally>();
function check(scenario: string, ok: boolean, what: string): void {
	const t = tallies.get(scenario) ?? { tried: 0, safe: 0, bad: 0, notes: [] };
	tallies.set(scenario, t);
	t.tried++;
	if (ok) t.safe++;
	else {
		t.bad++;
		if (t.notes.length < 10) t.notes.push(what);
	}
}
const log = (msg: string) => console.log(`[chaos ${((performance.now() - started) / 1000).toFixed(1)}s] ${msg}`);
const started = performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
	return new Promise((resolve) => {
		const s = net.createServer().listen(0, '127.0.0.1', () => {
			const port = (s.address() as net.AddressInfo).port;
			s.close(() => resolve(port));
		});
	});
}

// ── the server as a process ──────────────────────────────────────────────────────────────────

interface ServerProcess {
	child: ChildProcess;
	url: string;
	lines: string[];
	exited: Promise<number | null>;
}

function spawnServer(env: Record<string, string>, port: number): ServerProcess {
	const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
		env: {
			PATH: process.env.PATH ?? '',
			TSUNAGU_MODE: 'test',
			SEED_ON_START: 'false',
			WORKERS: 'true',
			LOG_LEVEL: 'info',
			HOST: '127.0.0.1',
			PORT: String(port),
			...env
		},
		stdio: ['ignore', 'pipe', 'pipe']
	});
	const lines: string[] = [];
	const collect = (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean));
	child.stdout!.on('data', collect);
	child.stderr!.on('data', collect);
	const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
	return { child, url: `http://127.0.0.1:${port}`, lines, exited };
}

async function waitHealthy(server: ServerProcess, ms = 60_000): Promise<void> {
	const until = Date.now() + ms;
	while (Date.now() < until) {
		if (server.child.exitCode !== null) throw new Error(`server exited early:\n${server.lines.slice(-20).join('\n')}`);
		const ok = await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok).catch(() => false);
		if (ok) return;
		await sleep(200);
	}
	throw new Error('server did not become healthy');
}

async function killHard(server: ServerProcess): Promise<void> {
	server.child.kill('SIGKILL');
	await server.exited;
}

async function stopGracefully(server: ServerProcess): Promise<void> {
	if (server.child.exitCode !== null) return;
	server.child.kill('SIGTERM');
	await Promise.race([server.exited, sleep(10_000).then(() => server.child.kill('SIGKILL'))]);
}

async function withDatabase<T>(fn: (database: TestDatabase) => Promise<T>): Promise<T> {
	const database = await createTestDatabase('postgres');
	try {
		return await fn(database);
	} finally {
		await database.dispose();
	}
}

// ── 1. Shopify burst ─────────────────────────────────────────────────────────────────────────

const ORDERS = 500;

async function shopifyBurst(): Promise<void> {
	await withDatabase(async (database) => {
		const port = await freePort();
		const env = { DATABASE_URL: database.url! };
		const deliveries = Array.from({ length: ORDERS }, (_, i) => {
			const id = String(7500000000000000000n + BigInt(i) * 7n);
			const body = shopifyJson(
				buildOrderPayload({ id, lines: [{ sku: `CH-${i}`, title: 'カオス', quantity: 1 + (i % 3), price: 1000 + i }] })
			);
			return { id, webhookId: randomUUID(), body, totalYen: (1000 + i) * (1 + (i % 3)) };
		});
		const send = (server: ServerProcess, d: (typeof deliveries)[number]) =>
			fetch(`${server.url}/webhooks/shopify`, {
				method: 'POST',
				headers: shopifyHeaders(d.body, DEMO_SECRETS.shopifyWebhookSecret, 'orders/create', d.webhookId),
				body: d.body,
				signal: AbortSignal.timeout(10_000)
			})
				.then((r) => r.status === 200)
				.catch(() => false);

		let server = spawnServer(env, port);
		await waitHealthy(server);
		const acked = new Set<number>();
		let next = 0;
		let killed = false;
		const killAt = Math.floor(ORDERS * 0.4);
		await Promise.all(
			Array.from({ length: 16 }, async () => {
				while (!killed && next < ORDERS) {
					const i = next++;
					if (await send(server, deliveries[i])) acked.add(i);
					if (!killed && acked.size >= killAt) {
						killed = true;
						await killHard(server);
					}
				}
			})
		);
		log(`shopify: kill -9 after ${acked.size} of ${ORDERS} deliveries acknowledged`);
		await expireInboxLeases(database.db);
		server = spawnServer(env, port);
		await waitHealthy(server);
		// Shopify redelivers what was not acknowledged; we redeliver everything (duplicates must be harmless)
		let cursor = 0;
		let redeliveryFailures = 0;
		await Promise.all(
			Array.from({ length: 16 }, async () => {
				while (cursor < ORDERS) {
					const i = cursor++;
					if (await send(server, deliveries[i])) acked.add(i);
					else redeliveryFailures++;
				}
			})
		);
		if (redeliveryFailures > 0) log(`shopify: ${redeliveryFailures} redeliveries not acknowledged: ${server.lines.slice(-5).join(' | ')}`);
		await waitUntil(async () => (await openInboxRows(database.db)) === 0, 60_000);
		await stopGracefully(server);

		const rows = await database.db
			.selectFrom('ec_orders')
			.leftJoin('ec_order_lines', 'ec_order_lines.order_id', 'ec_orders.id')
			.select(['ec_orders.ec_order_id', 'ec_orders.total_yen', sql<number>`count(ec_order_lines.line_no)::int`.as('lines')])
			.groupBy(['ec_orders.id', 'ec_orders.ec_order_id', 'ec_orders.total_yen'])
			.execute();
		const byId = new Map<string, { n: number; total: number; lines: number }>();
		for (const r of rows) {
			const seen = byId.get(r.ec_order_id);
			byId.set(r.ec_order_id, { n: (seen?.n ?? 0) + 1, total: r.total_yen, lines: r.lines });
		}
		for (const [i, d] of deliveries.entries()) {
			if (!acked.has(i)) {
				check('shopify', false, `delivery ${i} never acknowledged`);
				continue;
			}
			const got = byId.get(d.id);
			check('shopify', got?.n === 1 && got.lines === 1 && got.total === d.totalYen, `order ${d.id}: ${JSON.stringify(got ?? null)}`);
		}
	});
}

async function expireInboxLeases(db: Db): Promise<void> {
	await sql`update webhook_inbox set locked_until = now() - interval '1 second' where processed_at is null and locked_until > now()`.execute(db);
}

async function openInboxRows(db: Db): Promise<number> {
	const r = await sql<{ n: number }>`select count(*)::int as n from webhook_inbox where processed_at is null and next_attempt_at < 'infinity'`.execute(db);
	return r.rows[0].n;
}

async function waitUntil(predicate: () => Promise<boolean>, ms: number): Promise<boolean> {
	const until = Date.now() + ms;
	while (Date.now() < until) {
		if (await predicate()) return true;
		await sleep(200);
	}
	return false;
}

// ── 2. LINE outbox burst ─────────────────────────────────────────────────────────────────────

const FOLLOW_UPS = 600;

async function startSandboxProcess(): Promise<{ child: ChildProcess; url: string }> {
	const child = spawn(process.execPath, ['--import', 'tsx', 'tests/chaos/line-sandbox.ts'], { stdio: ['ignore', 'pipe', 'inherit'] });
	const port = await new Promise<number>((resolve, reject) => {
		child.stdout!.once('data', (chunk: Buffer) => resolve(JSON.parse(chunk.toString().split('\n')[0]).port));
		child.once('exit', () => reject(new Error('the LINE sandbox exited')));
	});
	return { child, url: `http://127.0.0.1:${port}` };
}

async function outboxBurst(): Promise<void> {
	await withDatabase(async (database) => {
		const db = database.db;
		const sandbox = await startSandboxProcess();
		try {
			await db.insertInto('stores').values({ id: 'chaos', name: 'カオス店', name_en: 'Chaos' }).execute();
			const staff = await db
				.insertInto('staff')
				.values({ staff_code: 'C001', display_name: 'カオス', sender_name: 'カオス', role: 'staff', home_store_id: 'chaos' })
				.returning('id')
				.executeTakeFirstOrThrow();
			const customers = await db
				.insertInto('customers')
				.values(Array.from({ length: 100 }, (_, i) => ({ member_no: String(3_100_000_000 + i), line_user_id: `U${randomUUID().replace(/-/g, '')}`, line_friend: true, consent_messages: true })))
				.returning('id')
				.execute();
			await db
				.insertInto('follow_ups')
				.values(
					Array.from({ length: FOLLOW_UPS }, (_, i) => ({
						customer_id: customers[i % customers.length].id,
						staff_id: staff.id,
						store_id: 'chaos',
						body: `chaos ${i}`,
						messages: JSON.stringify([{ type: 'text', text: `chaos ${i}` }])
					}))
				)
				.execute();
			const port = await freePort();
			const env = { DATABASE_URL: database.url!, LINE_API_BASE: sandbox.url };
			const stats = async () => (await (await fetch(`${sandbox.url}/_sandbox/stats`)).json()) as { accepted: number; conflicts: number; acceptedByRetryKey: Record<string, number> };
			let server = spawnServer(env, port);
			await waitUntil(async () => (await stats()).accepted >= FOLLOW_UPS * 0.2, 60_000);
			await killHard(server);
			const atKill = await stats();
			log(`outbox: kill -9 after ${atKill.accepted} of ${FOLLOW_UPS} pushes accepted`);
			await sql`update follow_ups set locked_until = now() - interval '1 second' where status = 'sending'`.execute(db);
			server = spawnServer(env, port);
			await waitHealthy(server);
			const done = await waitUntil(async () => {
				const open = await sql<{ n: number }>`select count(*)::int as n from follow_ups where status in ('queued', 'sending')`.execute(db);
				return open.rows[0].n === 0;
			}, 90_000);
			if (!done) log('outbox: follow-ups still open after 90 s');
			await stopGracefully(server);
			const final = await stats();
			log(`outbox: ${final.accepted} accepted, ${final.conflicts} repeats deduplicated by retry key (409)`);
			const rows = await db.selectFrom('follow_ups').select(['id', 'retry_key', 'status']).execute();
			for (const r of rows) {
				const accepted = final.acceptedByRetryKey[r.retry_key] ?? 0;
				check('outbox', accepted === 1 && r.status === 'sent', `follow-up ${r.id}: status ${r.status}, accepted ${accepted}×`);
			}
		} finally {
			sandbox.child.kill('SIGKILL');
		}
	});
}

// ── 3. stalled database ──────────────────────────────────────────────────────────────────────

/** Time of one request, and its status (0 = no answer within `ms`). */
async function timed(url: string, ms: number, init: RequestInit = {}): Promise<{ status: number; ms: number; body: string }> {
	const t0 = performance.now();
	try {
		const res = await fetch(url, { ...init, signal: AbortSignal.timeout(ms) });
		return { status: res.status, ms: performance.now() - t0, body: await res.text() };
	} catch {
		return { status: 0, ms: performance.now() - t0, body: '' };
	}
}

async function stalledDatabase(): Promise<void> {
	await withDatabase(async (database) => {
		const proxy = await startTcpProxy({ host: PG.hostname, port: Number(PG.port || 5432) });
		const viaProxy = new URL(database.url!);
		viaProxy.hostname = '127.0.0.1';
		viaProxy.port = String(proxy.port);
		const port = await freePort();
		// smaller read timeout than the default (20 s) to keep the run short; the mechanism is the same
		const server = spawnServer({ DATABASE_URL: viaProxy.toString(), DATABASE_QUERY_TIMEOUT_MS: '4000', DATABASE_STATEMENT_TIMEOUT_MS: '3000' }, port);
		try {
			await waitHealthy(server);
			// warm the pool: several connections in use and idle when the path goes dark
			await Promise.all(Array.from({ length: 6 }, () => timed(`${server.url}/api/stores`, 5000)));
			const linesBefore = server.lines.length;
			proxy.stall();
			log('stall: database path stalled');
			for (let i = 0; i < 5; i++) {
				const h = await timed(`${server.url}/healthz`, 5000);
				check('stall', h.status === 503 && h.ms < 2000, `healthz during stall: ${h.status} after ${Math.round(h.ms)} ms`);
			}
			const api = await Promise.all(Array.from({ length: 4 }, () => timed(`${server.url}/api/stores`, 15_000)));
			for (const a of api) {
				const code = a.body.includes('"database_unavailable"');
				check('stall', a.status === 503 && code, `API during stall: ${a.status} after ${Math.round(a.ms)} ms ${a.body.slice(0, 80)}`);
			}
			await sleep(6000);
			const workerLines = server.lines.slice(linesBefore).filter((l) => l.includes('worker tick failed')).length;
			log(`stall: ${workerLines} worker error lines in ~${Math.round((performance.now() - started) / 1000)} s run so far during the stall`);
			check('stall', workerLines <= 30, `workers logged ${workerLines} failures during a ~15 s stall (no backoff?)`);
			proxy.resume();
			const t0 = performance.now();
			const recovered = await waitUntil(async () => (await timed(`${server.url}/healthz`, 2500)).status === 200, 30_000);
			const recoveryMs = performance.now() - t0;
			log(`stall: healthz 200 again ${Math.round(recoveryMs)} ms after the path came back`);
			check('stall', recovered && recoveryMs < 10_000, `recovery took ${Math.round(recoveryMs)} ms`);
			const after = await timed(`${server.url}/api/stores`, 5000);
			check('stall', after.status === 200, `API after recovery: ${after.status}`);

			// startup against a stalled database, with the default timeouts
			proxy.stall();
			const t1 = performance.now();
			const starting = spawnServer({ DATABASE_URL: viaProxy.toString() }, await freePort());
			const code = await Promise.race([starting.exited, sleep(35_000).then(() => 'hung' as const)]);
			const startMs = performance.now() - t1;
			if (code === 'hung') starting.child.kill('SIGKILL');
			const message = starting.lines.some((l) => l.includes('cannot start') && l.includes('did not answer'));
			log(`stall: startup against a stalled database exited ${String(code)} after ${Math.round(startMs)} ms`);
			check('startup', code !== 'hung' && code !== 0 && startMs < 30_000 && message, `stalled startup: ${String(code)} after ${Math.round(startMs)} ms`);
			proxy.resume();
		} finally {
			await stopGracefully(server);
			await proxy.close();
		}
		// startup against nothing listening
		const closed = await freePort();
		const unreachable = new URL(database.url!);
		unreachable.hostname = '127.0.0.1';
		unreachable.port = String(closed);
		const t2 = performance.now();
		const nowhere = spawnServer({ DATABASE_URL: unreachable.toString(), DATABASE_STARTUP_TIMEOUT_MS: '5000' }, await freePort());
		const code = await Promise.race([nowhere.exited, sleep(35_000).then(() => 'hung' as const)]);
		if (code === 'hung') nowhere.child.kill('SIGKILL');
		const ms = performance.now() - t2;
		check('startup', code !== 'hung' && code !== 0 && ms < 30_000 && nowhere.lines.some((l) => l.includes('cannot start')), `unreachable startup: ${String(code)} after ${Math.round(ms)} ms`);
	});
}

// ── run ──────────────────────────────────────────────────────────────────────────────────────

const scenarios: Array<[string, () => Promise<void>]> = [
	['shopify', shopifyBurst],
	['outbox', outboxBurst],
	['stall', stalledDatabase]
];
const only = process.argv[2];
for (const [name, run] of scenarios) {
	if (only && only !== name) continue;
	const t0 = performance.now();
	try {
		await run();
	} catch (err) {
		check(name, false, `scenario crashed: ${err instanceof Error ? err.stack : String(err)}`);
	}
	log(`${name} done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
let total = { tried: 0, safe: 0, bad: 0 };
for (const [name, t] of tallies) {
	console.log(`${name.padEnd(8)} tried ${String(t.tried).padStart(4)}  safe ${String(t.safe).padStart(4)}  bad ${String(t.bad).padStart(3)}`);
	for (const n of t.notes) console.log(`  bad: ${n}`);
	total = { tried: total.tried + t.tried, safe: total.safe + t.safe, bad: total.bad + t.bad };
}
console.log(`chaos total: tried ${total.tried}, safe ${total.safe}, bad ${total.bad} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
process.exit(total.bad > 0 ? 1 : 0);
