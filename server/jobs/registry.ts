import type { AppDeps } from '../http/context.ts';
import type { WorkerSpec } from './worker.ts';
import { createInboxWorker } from '../modules/webhooks/inbox.service.ts';
import { shopifyInboxHandler } from '../modules/webhooks/shopify.handler.ts';
import { handleLineInboxRow } from '../modules/line/line.service.ts';
import { affinityRefreshWorker } from '../modules/talking-points/affinities.worker.ts';
import { createOutboxWorker } from '../modules/followups/outbox.ts';
import { reportRollupWorker } from '../modules/reports/rollup.worker.ts';
import { quotaPollWorker } from '../modules/conversations/quota.worker.ts';
import { worklistBuildWorker } from '../modules/worklist/worklist.worker.ts';
import { erasureWorker } from '../modules/privacy/erasure.worker.ts';
import { identityMatchWorker } from '../modules/identity/identity.worker.ts';

/** Every background loop the server runs; each module contributes its own. */
export function backgroundWorkers(deps: AppDeps): WorkerSpec[] {
	return [
		// webhook inbox: one worker, one handler per source
		createInboxWorker(deps, { shopify: shopifyInboxHandler(deps.orders), line: handleLineInboxRow }),
		// staff tablet suggestions: co-purchase affinities, refreshed daily
		affinityRefreshWorker(deps),
		// LINE follow-ups: the push outbox (safe to run in several processes)
		createOutboxWorker(deps),
		// manager reports: daily sales / funnel rollups kept warm (requests refresh dirty days too)
		reportRollupWorker(deps),
		// LINE conversations: the monthly message quota, read every 10 minutes
		quotaPollWorker(deps),
		// today's lists: stores rebuilt when their list is of another day or older than an hour
		worklistBuildWorker(deps),
		// 退会: personal data erased once the brand's grace period has passed (issue 16)
		erasureWorker(deps),
		// merge suggestions: dirty customers matched, a daily full run, automatic merges by policy
		identityMatchWorker(deps)
	];
}
