/**
 * Reads LINE's monthly quota and consumption on a schedule (every 10 minutes): the compose
 * screen's push cap and the managers' quota view use the latest reading of the month.
 */
import type { AppDeps } from '../../http/context.ts';
import type { WorkerSpec } from '../../jobs/worker.ts';
import { createMessagingClient } from '../../integrations/line/client.ts';
import { pollQuota } from './conversations.service.ts';

export const QUOTA_POLL_MS = 10 * 60_000;

export function quotaPollWorker(deps: AppDeps, everyMs = QUOTA_POLL_MS): WorkerSpec {
	const client = createMessagingClient({ apiBase: deps.config.line.apiBase, channelAccessToken: deps.config.line.channelAccessToken });
	return {
		name: 'line-quota',
		idleMs: everyMs,
		tick: async () => {
			try {
				await pollQuota(deps.db, client);
			} catch (err) {
				deps.logger.warn({ worker: 'line-quota', error: (err as Error).message }, 'LINE quota poll failed');
			}
			return 0;
		}
	};
}
