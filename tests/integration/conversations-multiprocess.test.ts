/**
 * Two server processes on one PostgreSQL: a message received and processed by another process
 * reaches the event stream this process holds (LISTEN/NOTIFY). PostgreSQL only: PGlite is one
 * process by nature.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../server/logger.ts';
import { signSession } from '../../server/modules/staff/tokens.ts';
import { createRuntime, type Runtime } from '../../server/runtime.ts';
import { sql } from 'kysely';
import pg from 'pg';
import { CONVERSATION_CHANNEL, startConversationEvents, type ConversationChange } from '../../server/modules/conversations/events.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { newCustomer, newStaff, newStore } from '../helpers/factories.ts';
import { testConfig } from '../helpers/runtime.ts';

const run = promisify(execFile);

describe.runIf(process.env.DATABASE_URL)('conversation events across processes (PostgreSQL)', () => {
	let database: TestDatabase;
	let rt: Runtime;
	let token: string;
	const userId = `U${randomUUID().replace(/-/g, '')}`;

	beforeAll(async () => {
		database = await createTestDatabase('postgres');
		rt = await createRuntime(testConfig(), { handle: database, logger: createLogger('silent') });
		const store = await newStore(rt.deps.db);
		const staff = await newStaff(rt.deps.db, { storeId: store.id, pin: null });
		const device = await rt.deps.db.insertInto('devices').values({ store_id: store.id, name: 'iPad', secret_hash: 'x' }).returning('id').executeTakeFirstOrThrow();
		token = (await signSession(rt.config.sessionSecret, { staffId: staff.id, role: 'staff', deviceId: device.id, storeId: store.id })).token;
		const c = await newCustomer(rt.deps.db, { line_user_id: userId, line_friend: true, home_store_id: store.id });
		await rt.deps.db.updateTable('customers').set({ owner_staff_id: staff.id }).where('id', '=', c.id).execute();
	});
	afterAll(async () => {
		await rt?.lineSandbox?.close();
		await rt?.deps.conversationEvents.close();
		await database?.dispose();
	});

	it('a webhook processed by another process reaches this process\'s stream', async () => {
		const res = await rt.app.request('/api/conversations/events', { headers: { authorization: `Bearer ${token}` } });
		const reader = res.body!.getReader();
		const decoder = new TextDecoder();
		let text = '';
		const waitFor = async (pattern: RegExp) => {
			while (!pattern.test(text)) {
				const { value, done } = await reader.read();
				if (done) throw new Error('stream ended');
				text += decoder.decode(value, { stream: true });
			}
		};
		await waitFor(/"unread":0/);
		const child = await run(process.execPath, ['--import', 'tsx', 'tests/helpers/conversation-writer.ts', database.url!, userId, '別プロセスからです'], { timeout: 60_000 });
		const written = JSON.parse(child.stdout) as { status: number; pid: number };
		expect(written.status).toBe(200);
		expect(written.pid).not.toBe(process.pid);
		await waitFor(/"unread":1/);
		await reader.cancel();
	}, 90_000);

	it('the listener survives its connection being killed, and a killed connection after close() is no error', async () => {
		const events = await startConversationEvents(database, createLogger('silent'));
		const seen: ConversationChange[] = [];
		events.subscribe((c) => seen.push(c));
		// kills come from a connection of their own, so the pool's idle connections stay idle
		const admin = new pg.Client({ connectionString: database.url });
		await admin.connect();
		const kill = () =>
			admin.query(`select pg_terminate_backend(pid) from pg_stat_activity
				where datname = current_database() and pid <> pg_backend_pid() and query ilike $1`, [`%listen ${CONVERSATION_CHANNEL}%`]);
		const notify = (id: string) =>
			sql`select pg_notify(${CONVERSATION_CHANNEL}, ${JSON.stringify({ conversationId: id, staffId: null, storeId: null, kind: 'message' })})`.execute(rt.deps.db);

		await kill();
		// it listens again on a fresh connection (after a second): a later NOTIFY arrives, once
		const deadline = Date.now() + 15_000;
		while (!seen.some((c) => c.conversationId === 'after-kill') && Date.now() < deadline) {
			await notify('after-kill');
			await new Promise((r) => setTimeout(r, 300));
		}
		expect(seen.some((c) => c.conversationId === 'after-kill')).toBe(true);

		// closed, then its (idle, pooled) connection is killed: no second release, no uncaught error
		await events.close();
		await kill();
		await new Promise((r) => setTimeout(r, 500));
		await admin.end();
		const before = seen.length;
		await notify('after-close');
		await new Promise((r) => setTimeout(r, 300));
		expect(seen.length).toBe(before);
	}, 60_000);
});
