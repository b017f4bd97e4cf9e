import { loadConfig, type Config } from '../../server/config.ts';
import { composeModules } from '../../server/compose.ts';
import { createRuntime, type Runtime } from '../../server/runtime.ts';
import { createLogger } from '../../server/logger.ts';
import { createTestDatabase, type TestDbKind } from './db.ts';

/** Test configuration: test mode (sandbox on, demo secrets), silent logs, no background loops. */
export function testConfig(env: Record<string, string> = {}): Config {
	return loadConfig({ TSUNAGU_MODE: 'test', LOG_LEVEL: 'silent', WORKERS: 'false', SEED_ON_START: 'false', ...env });
}

/** A full app on a fresh database; `close()` drops it. */
export async function createTestRuntime(kind: TestDbKind, env: Record<string, string> = {}): Promise<Runtime> {
	const database = await createTestDatabase(kind, { migrate: false });
	const runtime = await createRuntime(testConfig(env), { handle: database, logger: createLogger('silent') });
	return { ...runtime, close: async () => { await Promise.all(runtime.workers.map((w) => w.stop())); await runtime.deps.conversationEvents.close(); await database.dispose(); } };
}

/** The orders module wired as the server wires it (attribution on), for tests that need no app. */
export const testOrders = composeModules(testConfig()).orders;
