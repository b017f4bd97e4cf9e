import type { AppDeps } from '../http/context.ts';
import type { WorkerSpec } from './worker.ts';

/** Every background loop the server runs; each module contributes its own. */
export function backgroundWorkers(_deps: AppDeps): WorkerSpec[] {
	return [];
}
