/**
 * Assembles a running Tsunagu from a Config: database (migrated), logger, the Hono app and
 * the background workers. Used by main.ts, the e2e runner and the benchmarks alike.
 */
import type { Hono } from 'hono';
import { createApp } from './app.ts';
import type { Config } from './config.ts';
import { openDatabase, type DatabaseHandle } from './db/index.ts';
import { migrateToLatest } from './db/migrate.ts';
import { describeDatabaseUrl, waitForDatabase } from './db/ready.ts';
import type { AppDeps, AppEnv } from './http/context.ts';
import { workerWakeups } from './jobs/wakeups.ts';
import { startWorker, type RunningWorker } from './jobs/worker.ts';
import { createLogger, type Logger } from './logger.ts';
import { backgroundWorkers } from './jobs/registry.ts';
import { pointLineAtSandbox, sandboxRoutes, startLineSandboxFor } from './sandbox/index.ts';
import type { RunningLineSandbox } from './sandbox/line/server.ts';
import { closeLinks, createLinkState } from './modules/links/links.service.ts';
import { composeModules } from './compose.ts';
import { shopRoutes } from './sandbox/shop/shop.routes.ts';
import { startConversationEvents } from './modules/conversations/events.ts';

export interface Runtime {
	config: Config;
	handle: DatabaseHandle;
	deps: AppDeps;
	app: Hono<AppEnv>;
	workers: RunningWorker[];
	logger: Logger;
	/** Pokes the workers by name; tests attach workers they start themselves. */
	wake: ReturnType<typeof workerWakeups>;
	/** The local LINE Platform (demo/test only), on its own port. */
	lineSandbox?: RunningLineSandbox;
	close(): Promise<void>;
}

export interface RuntimeOptions {
	staticDir?: string;
	logger?: Logger;
	handle?: DatabaseHandle;
}

/**
 * The process's database: waits (bounded) for it to answer, then migrates. Migrations run on a
 * connection of their own without statement/read timeouts (an index build may take minutes);
 * the pool the app uses has them.
 */
async function openConfiguredDatabase(config: Config, logger: Logger): Promise<DatabaseHandle> {
	const { url, pgliteDir, poolSize, timeouts, startupTimeoutMs } = config.database;
	const handle = await openDatabase({ url, pgliteDir, poolSize, timeouts });
	try {
		if (!url) {
			await migrateToLatest(handle.db);
			return handle;
		}
		await waitForDatabase(handle.db, describeDatabaseUrl(url), startupTimeoutMs, logger);
		const migrator = await openDatabase({ url, poolSize: 1, timeouts: { ...timeouts, statementMs: 0, queryMs: 0 } });
		try {
			await migrateToLatest(migrator.db);
		} finally {
			await migrator.close();
		}
		return handle;
	} catch (err) {
		// not awaited: closing a pool whose connections hang would hang the exit with it
		void handle.close().catch(() => {});
		throw err;
	}
}

/** A full rebuild may take minutes at scale; a stall still ends (the read timeout stays). */
const MAINTENANCE_TIMEOUTS = { statementMs: 30 * 60_000, queryMs: 31 * 60_000 };

/** The background rebuilds' pool (AppDeps.maintenanceDb): two connections, long timeouts. */
async function openMaintenanceDatabase(config: Config, handle: DatabaseHandle): Promise<DatabaseHandle> {
	const { url, timeouts } = config.database;
	if (!url || handle.kind !== 'postgres') return handle;
	return openDatabase({ url, poolSize: 2, timeouts: { ...timeouts, ...MAINTENANCE_TIMEOUTS } });
}

export async function createRuntime(config: Config, options: RuntimeOptions = {}): Promise<Runtime> {
	const logger = options.logger ?? createLogger(config.logLevel);
	const handle = options.handle ?? (await openConfiguredDatabase(config, logger));
	if (options.handle) await migrateToLatest(handle.db);
	// The LINE sandbox delivers its signed webhooks to this app in-process (app is set below).
	const lineSandbox = config.sandbox ? await startLineSandboxFor(config, (req) => app.fetch(req)) : undefined;
	if (lineSandbox) config = pointLineAtSandbox(config, lineSandbox);
	// conversation changes from every process reach this process's event streams
	const conversationEvents = await startConversationEvents(handle, logger);
	const wake = workerWakeups();
	const links = createLinkState(handle.db, logger);
	const maintenance = await openMaintenanceDatabase(config, handle);
	const deps: AppDeps = { config, db: handle.db, maintenanceDb: maintenance.db, logger, conversationEvents, wake, links, ...composeModules(config) };
	const extraRoutes = config.sandbox
		? [
				{ path: '/sandbox', app: sandboxRoutes(deps, lineSandbox) },
				// the demo EC shop; its checkout posts signed webhooks to this app in-process
				{ path: '/shop', app: shopRoutes(deps, (req) => app.fetch(req)) }
			]
		: [];
	const app = createApp(deps, { staticDir: options.staticDir, extraRoutes });
	const workers = config.workers ? backgroundWorkers(deps).map((w) => startWorker(w, logger)) : [];
	wake.attach(workers);
	return {
		config,
		handle,
		deps,
		app,
		workers,
		wake,
		logger,
		lineSandbox,
		close: async () => {
			await Promise.all(workers.map((w) => w.stop()));
			// buffered link clicks reach the database before it closes (SIGTERM path)
			await closeLinks(deps);
			await lineSandbox?.close();
			await conversationEvents.close();
			if (maintenance !== handle) await maintenance.close();
			await handle.close();
		}
	};
}
