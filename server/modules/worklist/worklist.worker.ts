/**
 * The background half of building today's lists: every 10 minutes, each store whose list is
 * of another JST day or older than an hour is built again (adds only new occasions). The first
 * list read of a store's day builds it on demand too (worklist.service ensureBuilt).
 */
import type { AppDeps } from '../../http/context.ts';
import type { WorkerSpec } from '../../jobs/worker.ts';
import { jstDate } from '../../shared/jst.ts';
import { buildStores, staleStores } from './worklist.service.ts';

const HOUR_MS = 3_600_000;

export function worklistBuildWorker(deps: AppDeps): WorkerSpec {
	return {
		name: 'worklist-build',
		idleMs: 10 * 60 * 1000,
		tick: async () => {
			const now = deps.now?.() ?? new Date();
			const today = jstDate(now);
			const stale = await staleStores(deps.db, today, now, HOUR_MS);
			for (const storeId of stale) {
				const result = await buildStores(deps.db, [storeId], today, deps.worklist.options);
				if (result.created > 0) deps.logger.info({ storeId, ...result }, 'worklist built');
			}
			return 0;
		}
	};
}
