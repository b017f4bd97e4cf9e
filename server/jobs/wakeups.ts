/**
 * Wake-ups of this process's workers by name: the paths that store work (a webhook receipt, a
 * queued follow-up) poke the worker that will process it, through the one worker mechanism
 * (`RunningWorker.poke`). Other processes find the work on their next poll. Built in runtime.ts
 * and handed to the modules in `deps.wake`; before the workers start (or when they do not run,
 * as in tests and the CLI) a poke does nothing.
 */
import type { RunningWorker } from './worker.ts';

export const INBOX_WORKER = 'webhook-inbox';
export const OUTBOX_WORKER = 'line-outbox';

export interface Wakeups {
	/** A webhook delivery was stored. */
	inbox(): void;
	/** A follow-up was queued. */
	outbox(): void;
}

export function workerWakeups(): Wakeups & { attach(workers: RunningWorker[]): void } {
	const running = new Map<string, RunningWorker>();
	const poke = (name: string) => running.get(name)?.poke();
	return {
		inbox: () => poke(INBOX_WORKER),
		outbox: () => poke(OUTBOX_WORKER),
		attach: (workers) => {
			for (const w of workers) running.set(w.name, w);
		}
	};
}
