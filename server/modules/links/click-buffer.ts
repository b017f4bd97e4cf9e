/**
 * Clicks are buffered in memory so the redirect never waits on the database: flushed every
 * `intervalMs` (≤ 1 s), as soon as `maxItems` are waiting, and on shutdown. A failed flush
 * keeps the clicks for the next attempt (bounded, so a long outage cannot exhaust memory).
 */
import type { Db } from '../../db/index.ts';
import type { Logger } from '../../logger.ts';
import { insertClicks, type NewClick } from './links.repository.ts';

export interface ClickBufferOptions {
	intervalMs?: number;
	maxItems?: number;
	/** Clicks kept while the database is unreachable; older ones are dropped past this. */
	maxPending?: number;
}

export class ClickBuffer {
	#pending: NewClick[] = [];
	#flushing: Promise<void> | null = null;
	#timer: NodeJS.Timeout | null = null;
	#closed = false;
	readonly #intervalMs: number;
	readonly #maxItems: number;
	readonly #maxPending: number;

	constructor(
		private readonly db: Db,
		private readonly logger: Logger,
		options: ClickBufferOptions = {}
	) {
		this.#intervalMs = options.intervalMs ?? 250;
		this.#maxItems = options.maxItems ?? 500;
		this.#maxPending = options.maxPending ?? 100_000;
	}

	record(click: NewClick): void {
		this.#pending.push(click);
		if (this.#pending.length > this.#maxPending) this.#pending.splice(0, this.#pending.length - this.#maxPending);
		if (this.#pending.length >= this.#maxItems) void this.flush();
		else if (!this.#timer && !this.#closed) {
			this.#timer = setTimeout(() => {
				this.#timer = null;
				void this.flush();
			}, this.#intervalMs);
			// A pending timer must not keep a finished process alive; close() flushes anyway.
			this.#timer.unref();
		}
	}

	get pending(): number {
		return this.#pending.length;
	}

	/** Writes what is waiting; concurrent calls share one write at a time. */
	async flush(): Promise<void> {
		while (this.#flushing) await this.#flushing;
		if (this.#pending.length === 0) return;
		const batch = this.#pending;
		this.#pending = [];
		this.#flushing = insertClicks(this.db, batch)
			.catch((err: Error) => {
				this.logger.error({ clicks: batch.length, err: { message: err.message } }, 'click flush failed; will retry');
				this.#pending = batch.concat(this.#pending);
				if (!this.#closed && !this.#timer) {
					this.#timer = setTimeout(() => {
						this.#timer = null;
						void this.flush();
					}, this.#intervalMs);
					this.#timer.unref();
				}
			})
			.finally(() => {
				this.#flushing = null;
			});
		await this.#flushing;
	}

	/** Stops the timer and writes everything still buffered (SIGTERM path). */
	async close(): Promise<void> {
		this.#closed = true;
		if (this.#timer) clearTimeout(this.#timer);
		this.#timer = null;
		await this.flush();
	}
}
