/**
 * The database not answering: the API says 503 `database_unavailable` (never 500, never a
 * hang), /healthz says 503 within 2 s, startup gives up with a clear message, and workers back
 * off instead of spinning. Uses a PostgreSQL URL on a port where nothing listens, so it needs
 * no server (the stalled-but-connected case is in the chaos run, through a TCP proxy).
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../server/app.ts';
import { openDatabase, type DatabaseHandle } from '../../server/db/index.ts';
import { waitForDatabase } from '../../server/db/ready.ts';
import { DatabaseUnavailableError, isDatabaseUnavailable } from '../../server/db/unavailable.ts';
import { failureBackoffMs, startWorker } from '../../server/jobs/worker.ts';
import { createLogger, type Logger } from '../../server/logger.ts';
import { testConfig } from '../helpers/runtime.ts';
import { composeModules } from '../../server/compose.ts';
import { workerWakeups } from '../../server/jobs/wakeups.ts';
import { createLinkState } from '../../server/modules/links/links.service.ts';

async function closedPort(): Promise<number> {
	return new Promise((resolve) => {
		const s = net.createServer().listen(0, '127.0.0.1', () => {
			const port = (s.address() as net.AddressInfo).port;
			s.close(() => resolve(port));
		});
	});
}

describe('database unavailable', () => {
	let handle: DatabaseHandle;
	let url: string;
	beforeAll(async () => {
		url = `postgres://postgres:secret-password@127.0.0.1:${await closedPort()}/nowhere`;
		handle = await openDatabase({ url, poolSize: 2, timeouts: { connectMs: 500, statementMs: 1000, queryMs: 1000 } });
	});
	afterAll(async () => handle?.close());

	// no conversation streams are opened here: an inert event source stands in for LISTEN
	const noEvents = { subscribe: () => () => {}, listeners: 0, close: async () => {} };
	const app = () => {
		const config = testConfig();
		const logger = createLogger('silent');
		return createApp({ config, db: handle.db, maintenanceDb: handle.db, logger, conversationEvents: noEvents, wake: workerWakeups(), links: createLinkState(handle.db, logger), ...composeModules(config) });
	};

	it('answers /healthz 503 within 2 s and the API 503 database_unavailable', async () => {
		const t0 = performance.now();
		const health = await app().request('/healthz');
		expect(health.status).toBe(503);
		expect(performance.now() - t0).toBeLessThan(2000);
		const res = await app().request('/api/stores');
		expect(res.status).toBe(503);
		expect(res.headers.get('retry-after')).toBe('5');
		const body = await res.json();
		expect(body.error.code).toBe('database_unavailable');
		expect(JSON.stringify(body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|secret/);
	});

	it('gives up waiting at startup with a message naming the server, never the password', async () => {
		const err = await waitForDatabase(handle.db, '127.0.0.1:x/nowhere', 1500, createLogger('silent')).catch((e: unknown) => e);
		expect(err).toBeInstanceOf(DatabaseUnavailableError);
		expect((err as Error).message).toMatch(/did not answer within 2 s|did not answer within 1 s/);
		expect((err as Error).message).not.toContain('secret-password');
		expect(isDatabaseUnavailable(err)).toBe(true);
	});

	it('backs a failing worker off exponentially, logging once per step', async () => {
		expect([1, 2, 3, 4, 5, 6, 7].map(failureBackoffMs)).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
		let ticks = 0;
		const errors: unknown[] = [];
		const logger = { error: (o: unknown) => errors.push(o), info: () => {}, warn: () => {} } as unknown as Logger;
		const worker = startWorker({ name: 'always-failing', idleMs: 0, tick: async () => { ticks++; throw new Error('connect ECONNREFUSED'); } }, logger);
		await new Promise((r) => setTimeout(r, 1500));
		await worker.stop();
		// without backoff an idleMs: 0 worker spins thousands of times a second
		expect(ticks).toBe(2);
		expect(errors).toHaveLength(2);
		expect(errors[1]).toMatchObject({ worker: 'always-failing', failures: 2, retryInMs: 2000 });
	});
});
