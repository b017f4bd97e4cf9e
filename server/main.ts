/**
 * Node entry: config → database (migrated) → demo seed on an empty database → HTTP server →
 * background workers; SIGTERM/SIGINT drain requests and workers before exit.
 */
import { resolve } from 'node:path';
import { serve } from '@hono/node-server';
import { ConfigError, loadConfig } from './config.ts';
import { DatabaseUnavailableError } from './db/unavailable.ts';
import { createRuntime } from './runtime.ts';
import { seedIfEmpty } from './seed/seed.ts';

async function main() {
	const config = loadConfig();
	const runtime = await createRuntime(config, { staticDir: resolve('build') });
	const { logger } = runtime;
	logger.info(
		{ mode: config.mode, database: runtime.handle.kind, sandbox: config.sandbox },
		'starting Tsunagu'
	);
	if (config.seedOnStart) {
		await seedIfEmpty(runtime.deps.db, logger, { publicBaseUrl: config.publicBaseUrl, dormantDays: config.dormantDays });
	}

	const server = serve({ fetch: runtime.app.fetch, port: config.port, hostname: config.host }, (info) => {
		logger.info({ url: `http://localhost:${info.port}` }, 'ready');
	});

	let closing = false;
	const shutdown = async (signal: string) => {
		if (closing) return;
		closing = true;
		logger.info({ signal }, 'shutting down');
		server.close();
		await runtime.close();
		process.exit(0);
	};
	process.on('SIGTERM', () => void shutdown('SIGTERM'));
	process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err) => {
	if (err instanceof ConfigError) {
		console.error(err.message);
	} else if (err instanceof DatabaseUnavailableError) {
		console.error(`Tsunagu cannot start: ${err.message}`);
	} else {
		console.error('Tsunagu failed to start:', err);
	}
	process.exit(1);
});
