/** Daily refresh of product_affinities in the background (stale after 24 h; checked hourly). */
import type { AppDeps } from '../../http/context.ts';
import type { WorkerSpec } from '../../jobs/worker.ts';
import { lastAffinityRefresh, refreshProductAffinities } from './affinities.repository.ts';

const DAY_MS = 86_400_000;

export function affinityRefreshWorker(deps: AppDeps): WorkerSpec {
	return {
		name: 'product-affinities',
		idleMs: 60 * 60 * 1000,
		tick: async () => {
			const last = await lastAffinityRefresh(deps.maintenanceDb);
			if (last && Date.now() - last.getTime() < DAY_MS) return 0;
			const rows = await refreshProductAffinities(deps.maintenanceDb);
			if (rows >= 0) deps.logger.info({ rows }, 'product affinities refreshed');
			// always sleep afterwards: the next check is an hour away
			return 0;
		}
	};
}
