/**
 * `npm run bench:outbox`: 10,000 follow-ups pushed by two worker processes against the LINE
 * sandbox with injected faults (5% 500s, 1% 429s) on a throwaway PostgreSQL database. Prints
 * delivered, duplicates (requests LINE accepted twice for one retry key), the highest number of
 * accepted pushes in any one second (the budget is 1,800/s channel-wide; LINE allows 2,000),
 * and the wall time. Asserts nothing.
 *
 *   npm run bench:outbox [-- --messages 10000] [-- --workers 2]
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { createLogger } from '../../server/logger.ts';
import { createRuntime } from '../../server/runtime.ts';
import { createTestDatabase } from '../helpers/db.ts';
import { testConfig } from '../helpers/runtime.ts';

const run = promisify(execFile);
const { values } = parseArgs({ options: { messages: { type: 'string', default: '10000' }, workers: { type: 'string', default: '2' } } });
const N = Number(values.messages);
const WORKERS = Number(values.workers);
process.env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/postgres';

async function main() {
	const database = await createTestDatabase('postgres', { migrate: false });
	const rt = await createRuntime(testConfig(), { handle: database, logger: createLogger('silent') });
	const db = rt.deps.db;
	try {
		await db.insertInto('stores').values({ id: 'bench', name: 'ベンチ店', name_en: 'Bench' }).execute();
		const staff = await db.insertInto('staff').values({ staff_code: 'B001', display_name: 'ベンチ', sender_name: 'ベンチ', role: 'staff', home_store_id: 'bench' }).returning('id').executeTakeFirstOrThrow();
		const customers = await db
			.insertInto('customers')
			.values(Array.from({ length: 200 }, (_, i) => ({ member_no: String(3_000_000_000 + i), line_user_id: `U${randomUUID().replace(/-/g, '')}`, line_friend: true, consent_messages: true })))
			.returning('id')
			.execute();
		for (let i = 0; i < N; i += 1000) {
			await db
				.insertInto('follow_ups')
				.values(
					Array.from({ length: Math.min(1000, N - i) }, (_, j) => ({
						customer_id: customers[(i + j) % customers.length].id,
						staff_id: staff.id,
						store_id: 'bench',
						body: `bench ${i + j}`,
						messages: JSON.stringify([{ type: 'text', text: `bench ${i + j}`, sender: { name: 'ベンチ' } }])
					}))
				)
				.execute();
		}
		const state = rt.lineSandbox!.state;
		Object.assign(state.faults, { rate500: 0.05, rate429: 0.01 });
		const env = { ...process.env, DATABASE_URL: database.url!, LINE_API_BASE: rt.config.line.apiBase, LINE_TOKEN: rt.config.line.channelAccessToken };
		const started = performance.now();
		const results = await Promise.all(
			Array.from({ length: WORKERS }, () => run(process.execPath, ['--import', 'tsx', 'tests/bench/outbox-worker.ts'], { env, maxBuffer: 1 << 20 }))
		);
		const seconds = (performance.now() - started) / 1000;
		const keys = await db.selectFrom('follow_ups').select(['retry_key', 'status']).execute();
		let delivered = 0;
		let duplicates = 0;
		for (const k of keys) {
			const accepted = state.stats.acceptedByRetryKey[k.retry_key] ?? 0;
			if (accepted > 0) delivered++;
			duplicates += Math.max(0, accepted - 1);
		}
		const perSecond = new Map<string, number>();
		for (const inbox of state.inboxes.values()) for (const m of inbox) perSecond.set(m.receivedAt.slice(0, 19), (perSecond.get(m.receivedAt.slice(0, 19)) ?? 0) + 1);
		const statuses = await db.selectFrom('follow_ups').select(['status', sql<number>`count(*)::int`.as('n')]).groupBy('status').execute();
		console.log(`follow-ups: ${N}, worker processes: ${WORKERS}, faults: 5% 500 + 1% 429`);
		console.log(`delivered exactly once: ${delivered}/${N}   duplicates: ${duplicates}   statuses: ${statuses.map((s) => `${s.status}=${s.n}`).join(' ')}`);
		console.log(`sandbox: accepted=${state.stats.accepted} 500s=${state.stats.serverErrors} 429s=${state.stats.rateLimited} 409s=${state.stats.conflicts}`);
		console.log(`max accepted pushes in one second: ${Math.max(...perSecond.values())} (limit 2,000/s; budget 1,800/s)`);
		console.log(`wall time: ${seconds.toFixed(1)} s (${(N / seconds).toFixed(0)} follow-ups/s incl. backoff waits)`);
		console.log(`workers: ${results.map((r) => r.stdout.trim()).join(' | ')}`);
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
