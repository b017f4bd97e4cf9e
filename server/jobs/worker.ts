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
		while (!stopping) {
			let handled = 0;
			try {
				handled = await spec.tick();
			} catch (err) {
				logger.error({ worker: spec.name, err: { message: (err as Error).message } }, 'worker tick failed');
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
