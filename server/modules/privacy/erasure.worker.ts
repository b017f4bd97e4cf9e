/**
 * 退会 → erasure once the grace period has passed. Looks every minute (a cheap indexed query;
 * a due date is days away); a failing request backs off on its own (1 min doubling to 6 h,
 * privacy.service `erasureRetryDelayMs`) and a failing database backs the loop off (worker.ts).
 * It runs on the maintenance pool: an erasure searches the stored webhook bodies for the person's
 * identifiers, a scan of the whole inbox that may outlast the request statement timeout.
 */
import type { AppDeps } from '../../http/context.ts';
import type { WorkerSpec } from '../../jobs/worker.ts';
import { runDueErasures } from './privacy.service.ts';

export const ERASURE_WORKER = 'privacy-erasure';

export function erasureWorker(deps: AppDeps): WorkerSpec {
	return {
		name: ERASURE_WORKER,
		idleMs: 60_000,
		tick: () => runDueErasures({ db: deps.maintenanceDb, logger: deps.logger }, deps.now?.() ?? new Date())
	};
}
