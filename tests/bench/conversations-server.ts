/**
 * The server process of bench:conversations: a full runtime (workers on) on the given
 * PostgreSQL database, serving HTTP on a free port it prints as JSON. The bench reads this
 * process's RSS from /proc, so the figure is the server's alone.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { loadConfig } from '../../server/config.ts';
import { createLogger } from '../../server/logger.ts';
import { createRuntime } from '../../server/runtime.ts';

const url = process.argv[2];
const rt = await createRuntime(loadConfig({ TSUNAGU_MODE: 'test', LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'silent', WORKERS: 'true', SEED_ON_START: 'false', DATABASE_URL: url, DATABASE_POOL_SIZE: process.env.BENCH_POOL_SIZE ?? '20' }), {
	logger: createLogger((process.env.BENCH_LOG_LEVEL ?? 'silent') as 'silent')
});
const server = serve({ fetch: rt.app.fetch, port: 0, hostname: '127.0.0.1' });
server.once('listening', () => {
	process.stdout.write(JSON.stringify({ port: (server.address() as AddressInfo).port, secret: rt.config.line.channelSecret, sessionSecret: rt.config.sessionSecret }) + '\n');
});
// the bench asks for the heap's share of the RSS (a line of JSON on stdout)
process.on('SIGUSR2', () => {
	const m = process.memoryUsage();
	process.stdout.write(JSON.stringify({ memory: { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers } }) + '\n');
});
process.on('SIGTERM', () => {
	server.close();
	void rt.close().finally(() => process.exit(0));
});
