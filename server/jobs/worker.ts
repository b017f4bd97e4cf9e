/**
 * A polling background loop. Work is claimed in the database (FOR UPDATE SKIP LOCKED), so any
 * number of processes can run the same worker; this loop only decides when to look again.
 */
import type { Logger } from '../logger.ts';

export interface WorkerSpec {
	name: string;
	/** Processes one batch; returns how many items it handled (0 → sleep `idleMs`). */
	tick: () => Promise<number>;
	/** How long to sleep after an empty tick (asked after each tick when a function). */
	idleMs?: number | (() => number);
}

export interface RunningWorker {
	name: string;
	/** Wakes the loop now (e.g. right after a webhook was stored). */
	poke(): void;
	/** Finishes the current batch, then stops. */
	stop(): Promise<void>;
}

/** After consecutive failed ticks: 1 s, 2 s, 4 s … capped at 30 s (a database outage must not spin). */
export const WORKER_BACKOFF = { baseMs: 1000, maxMs: 30_000 } as const;

export function failureBackoffMs(failures: number): number {
	return Math.min(WORKER_BACKOFF.maxMs, WORKER_BACKOFF.baseMs * 2 ** Math.max(0, failures - 1));
}

export function startWorker(spec: WorkerSpec, logger: Logger): RunningWorker {
	const idleMs = typeof spec.idleMs === 'function' ? spec.idleMs : () => (spec.idleMs as number | undefined) ?? 1000;
	let stopping = false;
	// a poke during a tick is kept, so work stored meanwhile is not left until the next poll
	let poked = false;
	let wake: (() => void) | undefined;
	const sleep = (ms: number) =>
		new Promise<void>((resolve) => {
			const timer = setTimeout(resolve, ms);
			wake = () => {
				clearTimeout(timer);
				resolve();
			};
		});
	const loop = (async () => {
		let failures = 0;
		while (!stopping) {
			let handled = 0;
			try {
				handled = await spec.tick();
				if (failures > 0) logger.info({ worker: spec.name, failures }, 'worker recovered');
				failures = 0;
			} catch (err) {
				// one line per back-off step, however long the outage lasts at the cap
				failures++;
				const retryInMs = failureBackoffMs(failures);
				logger.error({ worker: spec.name, failures, retryInMs, err: { message: (err as Error).message } }, 'worker tick failed; backing off');
				if (!stopping) await sleep(retryInMs);
				continue;
			}
			if (!stopping && handled === 0 && !poked) await sleep(idleMs());
			poked = false;
		}
	})();
	return {
		name: spec.name,
		poke: () => {
			poked = true;
			wake?.();
		},
		stop: async () => {
			stopping = true;
			wake?.();
			await loop;
		}
	};
}
