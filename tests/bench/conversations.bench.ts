/**
 * `npm run bench:conversations` on a throwaway PostgreSQL database (DATABASE_URL's server, or
 * 127.0.0.1 by default). Prints; asserts nothing. The server runs in its own process
 * (conversations-server.ts, workers on); this process holds the streams and sends the webhooks,
 * and reads the server's RSS from /proc.
 *
 *  1. Open event streams: N staff members each hold /api/conversations/events over real HTTP;
 *     RSS of the process with all of them open.
 *  2. Webhook → stream latency: signed LINE message webhooks at R msg/s for D seconds, each for a
 *     customer owned by one of the staff; time from posting the webhook to the 'unread' event on
 *     that staff member's stream (receipt, inbox worker, NOTIFY on commit, badge query). p50/p95.
 *  3. Conversation list API p95 (mine / store queue / manager's store) with C customers and M
 *     messages loaded by SQL.
 *
 *   npm run bench:conversations [-- --streams 1000] [-- --rate 200] [-- --seconds 15]
 *                               [-- --customers 1000000] [-- --messages 5000000] [-- --requests 400]
 *                               [-- --node-flags=…]   (the server's Node flags; default: those of `npm start`)
 * A quick run: -- --streams 200 --seconds 5 --customers 20000 --messages 100000 --requests 50
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { signSession } from '../../server/modules/staff/tokens.ts';
import { signLikeLine } from '../../server/sandbox/line/platform.ts';
import { createTestDatabase } from '../helpers/db.ts';

const { values } = parseArgs({
	options: {
		streams: { type: 'string', default: '1000' },
		rate: { type: 'string', default: '200' },
		seconds: { type: 'string', default: '15' },
		customers: { type: 'string', default: '1000000' },
		messages: { type: 'string', default: '5000000' },
		requests: { type: 'string', default: '400' },
		stores: { type: 'string', default: '20' },
		'node-flags': { type: 'string' }
	}
});
const STREAMS = Number(values.streams);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const CUSTOMERS = Number(values.customers);
const MESSAGES = Number(values.messages);
const REQUESTS = Number(values.requests);
const STORES = Number(values.stores);
/** The server's Node flags: as `npm start` runs it (package.json), unless --node-flags says otherwise. */
const startScript = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts.start;
const SERVER_NODE_FLAGS = (values['node-flags'] ?? startScript.split(' --import')[0].replace(/^node\s*/, '')).split(' ').filter(Boolean);
process.env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/postgres';

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
const lineUser = (i: number) => `U${i.toString(16).padStart(32, '0')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** VmRSS of a process, from /proc (Linux). */
function rssOf(pid: number): number {
	const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
	return Number(kb) * 1024;
}

/** A webhook post; a keep-alive socket the server closed meanwhile is retried (LINE redelivers; we dedupe by event id). */
async function post(url: string, init: RequestInit, tries = 3): Promise<void> {
	try {
		await (await fetch(url, init)).arrayBuffer();
	} catch (err) {
		if (tries <= 1) throw err;
		await post(url, init, tries - 1);
	}
}

/** Every measured figure with its target, printed again together at the end. */
const summary: Array<{ measure: string; value: string; target: string; met: boolean }> = [];
const record = (measure: string, value: number, unit: string, target: number) =>
	summary.push({ measure, value: `${value.toFixed(unit === 'ms' && value < 100 ? 1 : 0)} ${unit}`, target: `≤ ${target} ${unit}`, met: value <= target });

async function main() {
	const database = await createTestDatabase('postgres');
	const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, '--import', 'tsx', 'tests/bench/conversations-server.ts', database.url!], { stdio: ['ignore', 'pipe', 'inherit'] });
	const lines = createInterface({ input: child.stdout! });
	const first = await new Promise<string>((resolve) => lines.once('line', resolve));
	/** The server's own memory figures (V8 heap vs the rest of the RSS). */
	const memoryOfServer = () =>
		new Promise<Record<string, number>>((resolve) => {
			lines.once('line', (line) => resolve((JSON.parse(line) as { memory: Record<string, number> }).memory));
			child.kill('SIGUSR2');
		});
	const info = JSON.parse(first) as { port: number; secret: string; sessionSecret: string };
	const base = `http://127.0.0.1:${info.port}`;
	const rt = { config: { sessionSecret: info.sessionSecret, line: { channelSecret: info.secret } } };
	const db = database.db;
	const streams: AbortController[] = [];
	try {
		console.log(`server process: node ${SERVER_NODE_FLAGS.join(' ')} (as npm start); machine: ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' / ')} (1/5/15 min)`);
		console.log(`bench:conversations on PostgreSQL — ${STREAMS} streams, ${RATE} msg/s for ${SECONDS} s, ${CUSTOMERS.toLocaleString()} customers, ${MESSAGES.toLocaleString()} messages`);
		// ---- staff, one customer each (owner), sessions ----
		await sql`insert into stores (id, name, name_en) select 'st' || g, '店舗' || g, 'Store ' || g from generate_series(1, ${STORES}) g`.execute(db);
		await sql`insert into devices (store_id, name, secret_hash) select 'st' || g, 'iPad', 'x' from generate_series(1, ${STORES}) g`.execute(db);
		await sql`insert into staff (staff_code, display_name, sender_name, role, home_store_id)
			select 'B' || g, 'スタッフ' || g, 'スタッフ' || g, case when g <= ${STORES} then 'manager' else 'staff' end, 'st' || (1 + g % ${STORES})
			from generate_series(1, ${STREAMS}) g`.execute(db);
		const staff = await db.selectFrom('staff').select(['id', 'role', 'home_store_id', 'staff_code']).orderBy('staff_code').execute();
		const devices = new Map((await db.selectFrom('devices').select(['id', 'store_id']).execute()).map((d) => [d.store_id, d.id]));
		const sessions = await Promise.all(
			staff.map(async (s) => (await signSession(rt.config.sessionSecret, { staffId: s.id, role: s.role, deviceId: devices.get(s.home_store_id!)!, storeId: s.home_store_id! })).token)
		);
		await sql`insert into customers (member_no, line_user_id, line_friend, home_store_id, owner_staff_id)
			select (3000000000 + n)::text, 'U' || lpad(to_hex(n), 32, '0'), true, s.home_store_id, s.id
			from (select id, home_store_id, row_number() over (order by staff_code) as n from staff) s`.execute(db);

		// ---- 1. open streams ----
		const rssBefore = rssOf(child.pid!);
		const pending: number[][] = staff.map(() => []);
		const latencies: number[] = [];
		let opened = 0;
		const openStream = async (i: number) => {
			const controller = new AbortController();
			streams.push(controller);
			const res = await fetch(`${base}/api/conversations/events`, { headers: { authorization: `Bearer ${sessions[i]}` }, signal: controller.signal });
			const reader = res.body!.getReader();
			const decoder = new TextDecoder();
			let buffer = '';
			let first = true;
			void (async () => {
				try {
					for (;;) {
						const { value, done } = await reader.read();
						if (done) return;
						buffer += decoder.decode(value, { stream: true });
						let end: number;
						while ((end = buffer.indexOf('\n\n')) >= 0) {
							const block = buffer.slice(0, end);
							buffer = buffer.slice(end + 2);
							if (!block.includes('event: unread')) continue;
							if (first) {
								first = false;
								opened++;
								continue;
							}
							const now = performance.now();
							for (const t0 of pending[i].splice(0)) latencies.push(now - t0);
						}
					}
				} catch {
					// aborted at the end
				}
			})();
		};
		for (let i = 0; i < staff.length; i += 50) await Promise.all(staff.slice(i, i + 50).map((_, j) => openStream(i + j)));
		while (opened < staff.length) await sleep(50);
		await sleep(1000);
		const rssOpen = rssOf(child.pid!);
		const memory = await memoryOfServer();
		console.log(`open event streams: ${opened} held by one server process, its RSS ${mb(rssOpen)} MB (${mb(rssBefore)} MB before opening; target ≤ 250 MB)`);
		record(`RSS of one server process holding ${opened} open event streams`, mb(rssOpen), 'MB', 250);
		console.log(`  server memory with them open: V8 heap ${mb(memory.heapUsed)} MB used of ${mb(memory.heapTotal)} MB, external ${mb(memory.external)} MB`);

		// ---- 2. webhook → stream latency at RATE msg/s ----
		const total = RATE * SECONDS;
		const secret = rt.config.line.channelSecret;
		const started = performance.now();
		const posts: Promise<unknown>[] = [];
		const receipts: number[] = [];
		for (let k = 0; k < total; k++) {
			const due = started + (k * 1000) / RATE;
			const wait = due - performance.now();
			if (wait > 1) await sleep(wait);
			const i = Math.floor(Math.random() * staff.length);
			const body = JSON.stringify({
				destination: 'Ubot',
				events: [
					{
						type: 'message',
						mode: 'active',
						timestamp: Date.now(),
						source: { type: 'user', userId: lineUser(i + 1) },
						webhookEventId: `01B${randomUUID().replace(/-/g, '').slice(0, 23).toUpperCase()}`,
						deliveryContext: { isRedelivery: false },
						replyToken: randomUUID().replace(/-/g, ''),
						message: { id: String(k), type: 'text', quoteToken: 'q', text: `ベンチ ${k}` }
					}
				]
			});
			const t0 = performance.now();
			pending[i].push(t0);
			posts.push(
				post(`${base}/webhooks/line`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-line-signature': signLikeLine(body, secret) }, body }).then(() =>
					receipts.push(performance.now() - t0)
				)
			);
		}
		await Promise.all(posts);
		const sentAt = performance.now();
		while (latencies.length < total && performance.now() - sentAt < 30_000) await sleep(100);
		const sorted = [...latencies].sort((a, b) => a - b);
		const achieved = total / ((sentAt - started) / 1000);
		console.log(
			`webhook → staff's open event stream: ${sorted.length}/${total} delivered at ${achieved.toFixed(0)} msg/s, p50 ${percentile(sorted, 50).toFixed(0)} ms, p95 ${percentile(sorted, 95).toFixed(0)} ms, max ${sorted.at(-1)!.toFixed(0)} ms (target p95 ≤ 1000 ms)`
		);
		record(`webhook → assigned staff member's open stream, p95, at ${achieved.toFixed(0)} msg/s (${sorted.length}/${total} delivered)`, sorted.length === total ? percentile(sorted, 95) : Infinity, 'ms', 1000);
		receipts.sort((a, b) => a - b);
		console.log(`  of which the webhook's own answer (receipt, stored in the inbox): p50 ${percentile(receipts, 50).toFixed(0)} ms, p95 ${percentile(receipts, 95).toFixed(0)} ms; load average ${loadavg().map((l) => l.toFixed(1)).join(' / ')}`);
		const waits = await sql<{ p50: number; p95: number }>`
			select percentile_cont(0.5) within group (order by extract(epoch from processed_at - received_at) * 1000) as p50,
				percentile_cont(0.95) within group (order by extract(epoch from processed_at - received_at) * 1000) as p95
			from webhook_inbox where source = 'line'`.execute(db);
		console.log(`  stored → its inbox batch began: p50 ${Number(waits.rows[0].p50).toFixed(0)} ms, p95 ${Number(waits.rows[0].p95).toFixed(0)} ms`);
		const rssAfter = mb(rssOf(child.pid!));
		record(`RSS of that process after the burst, ${opened} streams still open`, rssAfter, 'MB', 250);
		console.log(`server RSS after the burst with ${opened} streams open: ${rssAfter} MB`);
		for (const c of streams) c.abort();
		streams.length = 0;

		// ---- 3. conversation list API at scale ----
		const loadStart = performance.now();
		const extraCustomers = Math.max(0, CUSTOMERS - staff.length);
		const conversations = Math.max(1, Math.floor(MESSAGES / 10));
		await sql`set session_replication_role = replica`.execute(db).catch(() => {});
		await sql`insert into customers (member_no, line_user_id, line_friend, home_store_id)
			select (5000000000 + g)::text, 'V' || lpad(to_hex(g), 32, '0'), true, 'st' || (1 + g % ${STORES})
			from generate_series(1, ${extraCustomers}) g`.execute(db);
		// a tenth of the customers have a conversation (10 messages each on average), spread over the
		// staff (half), their store queues (the rest) with a few in the brand queue
		await sql`insert into conversations (line_user_id, customer_id, assigned_staff_id, store_id, status, unread_count, last_message_at, last_message_preview)
			select c.line_user_id, c.id,
				case when n % 2 = 0 then (select id from staff where staff_code = 'B' || (1 + (n / 2) % ${STREAMS})) end,
				case when n % 97 = 0 then null else c.home_store_id end,
				case when n % 3 = 0 then 'done' else 'open' end,
				case when n % 5 = 0 then 1 + n % 4 else 0 end,
				now() - make_interval(mins => (n % 43200)::int),
				'ベンチのメッセージ ' || n
			from (select id, line_user_id, home_store_id, row_number() over () as n from customers where line_user_id like 'V%' limit ${conversations}) c`.execute(db);
		await sql`insert into conversation_messages (conversation_id, direction, kind, text, occurred_at)
			select c.id, case when g % 3 = 0 then 'out' else 'in' end, 'text', 'ベンチ本文 ' || g, now() - make_interval(mins => g % 43200)
			from (select id, row_number() over () as n from conversations) c
			join generate_series(1, ${MESSAGES}) g on g % ${conversations} = c.n - 1`.execute(db);
		await sql`set session_replication_role = origin`.execute(db).catch(() => {});
		await sql`analyze customers; analyze conversations; analyze conversation_messages`.execute(db).catch(async () => {
			await sql`analyze conversations`.execute(db);
			await sql`analyze conversation_messages`.execute(db);
		});
		const counts = await sql<{ c: number; v: number; m: number }>`select (select count(*) from customers)::int as c, (select count(*) from conversations)::int as v, (select count(*) from conversation_messages)::int as m`.execute(db);
		console.log(`loaded ${counts.rows[0].c.toLocaleString()} customers, ${counts.rows[0].v.toLocaleString()} conversations, ${counts.rows[0].m.toLocaleString()} messages in ${((performance.now() - loadStart) / 1000).toFixed(0)} s`);
		const listPage = async (i: number, tab: string, cursor?: string) => {
			const res = await fetch(`${base}/api/conversations?tab=${tab}${cursor ? `&cursor=${cursor}` : ''}`, { headers: { authorization: `Bearer ${sessions[i]}` } });
			return (await res.json()) as { nextCursor: string | null };
		};
		// the second page of each manager's store tab, by the first page's cursor
		const secondPage = new Map<number, string | null>();
		for (let i = 0; i < STORES; i++) secondPage.set(i, (await listPage(i, 'store')).nextCursor);
		for (const [label, tab, who, paged] of [
			['staff, tab=mine', 'mine', 'staff', false],
			['staff, tab=store (queue)', 'store', 'staff', false],
			['manager, tab=store', 'store', 'manager', false],
			['manager, tab=store, 2nd page (cursor)', 'store', 'manager', true],
			['manager, tab=unassigned', 'unassigned', 'manager', false]
		] as const) {
			const times: number[] = [];
			for (let r = 0; r < REQUESTS; r++) {
				const i = who === 'manager' ? r % STORES : STORES + (r % (staff.length - STORES));
				const t0 = performance.now();
				await listPage(i, tab, paged ? (secondPage.get(i) ?? undefined) : undefined);
				times.push(performance.now() - t0);
			}
			times.sort((a, b) => a - b);
			console.log(`conversation list API (${label}): p50 ${percentile(times, 50).toFixed(1)} ms, p95 ${percentile(times, 95).toFixed(1)} ms over ${REQUESTS} requests (target p95 ≤ 50 ms)`);
			record(`conversation list API p95 (${label}), ${counts.rows[0].c.toLocaleString()} customers, ${counts.rows[0].m.toLocaleString()} messages`, percentile(times, 95), 'ms', 50);
		}
		console.log(`\nsummary (load average ${loadavg().map((l) => l.toFixed(1)).join(' / ')}):`);
		for (const f of summary) console.log(`  ${f.met ? 'met    ' : 'NOT MET'}  ${f.measure}: ${f.value} (target ${f.target})`);
	} finally {
		for (const c of streams) c.abort();
		const exited = new Promise((r) => child.once('exit', r));
		child.kill('SIGTERM');
		await Promise.race([exited, sleep(10_000)]);
		await database.dispose().catch(() => {});
	}
}

main().then(
	() => process.exit(0),
	(err) => {
		console.error(err);
		process.exit(1);
	}
);
