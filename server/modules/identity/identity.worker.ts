/**
 * The identity worker: matches customers marked dirty (new or changed records), runs a full
 * match once a day, and applies the brand's automatic-merge policy. A failing tick backs off
 * (server/jobs/worker.ts: 1 s, 2 s … 30 s); work is claimed with SKIP LOCKED and the full run
 * with an advisory lock, so several processes can run it.
 */
import type { AppDeps } from '../../http/context.ts';
import type { WorkerSpec } from '../../jobs/worker.ts';
import { autoMergePolicy, fullMatch, matchDirty, VERIFIED_KINDS } from './identity.service.ts';
import { lastFinishedRun } from './identity.repository.ts';
import { autoMergePass } from './merge.service.ts';

export const IDENTITY_WORKER = 'identity-match';
export const FULL_RUN_EVERY_MS = 24 * 3_600_000;
const BATCH = 500;

export function identityMatchWorker(deps: AppDeps, options: { fullRunEveryMs?: number } = {}): WorkerSpec {
	const every = options.fullRunEveryMs ?? FULL_RUN_EVERY_MS;
	return {
		name: IDENTITY_WORKER,
		idleMs: 5_000,
		tick: async () => {
			const incremental = await matchDirty(deps.db, BATCH);
			const last = await lastFinishedRun(deps.db);
			if (!last || Date.now() - last.getTime() >= every) {
				const run = await fullMatch(deps.db);
				if (run) deps.logger.info(run, 'identity: full match run');
			}
			const merged = await autoMergePass(deps.db, await autoMergePolicy(deps.db), VERIFIED_KINDS, (msg, data) => deps.logger.info(data, `identity: ${msg}`));
			// a full batch: more may be waiting, look again at once
			return incremental.customers >= BATCH ? incremental.customers : merged;
		}
	};
}
