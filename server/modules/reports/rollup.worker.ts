/**
 * Keeps the report rollups and customer facts warm so a report request's own refresh finds
 * little to do. Freshness does not depend on it: every report request refreshes what is dirty.
 * It runs on the maintenance pool: a first build at 1,000,000 orders takes longer than the
 * request statement timeout.
 */
import type { AppDeps } from '../../http/context.ts';
import type { WorkerSpec } from '../../jobs/worker.ts';
import { refreshRollups } from './rollup.repository.ts';
import { refreshCustomerFacts } from './customer-facts.repository.ts';

export function reportRollupWorker(deps: AppDeps): WorkerSpec {
	return {
		name: 'report-rollups',
		idleMs: 60_000,
		tick: async () => {
			const changed = await deps.maintenanceDb.transaction().execute((trx) => refreshRollups(trx));
			if (changed.salesDays + changed.funnelDays > 0) deps.logger.debug(changed, 'report rollups refreshed');
			const customers = await deps.maintenanceDb.transaction().execute((trx) => refreshCustomerFacts(trx));
			if (customers.customers > 0) deps.logger.debug(customers, 'customer facts refreshed');
			// always sleep: the next look is a minute away
			return 0;
		}
	};
}
