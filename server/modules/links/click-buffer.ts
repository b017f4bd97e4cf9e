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

/** How far past `maxPending` the buffer may grow before the oldest clicks are dropped. */
const DROP_SLACK = 1000;

export class ClickBuffer {
	#pending: NewClick[] = [];
	#draining: Promise<void> | null = null;
	#retrying = false;
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
		// past the cap (a long outage) the oldest go, a thousand at a time: dropping one per click
		// would copy the whole buffer on every redirect
		if (this.#pending.length > this.#maxPending + DROP_SLACK) this.#pending.splice(0, this.#pending.length - this.#maxPending);
		this.#schedule();
	}

	get pending(): number {
		return this.#pending.length;
	}

	/**
	 * One writer at a time. While it runs, clicks only queue: it takes them in turn. (Each click
	 * past `maxItems` used to start a flush that waited for the running one: under load thousands
	 * of them, all woken by every write — the redirect slowed to a crawl.)
	 */
	#schedule(): void {
		if (this.#draining || this.#retrying || this.#closed || this.#pending.length === 0) return;
		if (this.#pending.length >= this.#maxItems) {
			void this.flush();
		} else if (!this.#timer) {
			this.#startTimer();
		}
	}

	/** A flush after `intervalMs`; it must not keep a finished process alive (close() flushes anyway). */
	#startTimer(): void {
		this.#timer = setTimeout(() => {
			this.#timer = null;
			void this.flush();
		}, this.#intervalMs);
		this.#timer.unref();
	}

	/** Writes everything waiting (clicks that arrive meanwhile too); callers share the one writer. */
	flush(): Promise<void> {
		this.#draining ??= this.#drain().finally(() => {
			this.#draining = null;
			this.#schedule(); // a click that came as the writer finished
		});
		return this.#draining;
	}

	/**
	 * Writes of at most `maxItems` clicks: on the embedded database a write runs on the server's
	 * own thread, and one write of everything a burst left waiting held every redirect up (p99).
	 */
	async #drain(): Promise<void> {
		if (this.#timer) clearTimeout(this.#timer);
		this.#timer = null;
		this.#retrying = false; // this is the retry (or a flush asked for meanwhile)
		while (this.#pending.length > 0) {
			const batch = this.#pending.length <= this.#maxItems ? this.#pending : this.#pending.slice(0, this.#maxItems);
			this.#pending = batch === this.#pending ? [] : this.#pending.slice(batch.length);
			try {
				await insertClicks(this.db, batch);
			} catch (err) {
				this.logger.error({ clicks: batch.length, err: { message: (err as Error).message } }, 'click flush failed; will retry');
				this.#pending = batch.concat(this.#pending);
				this.#retryLater();
				return;
			}
		}
	}

	/** After a failure only the timer retries: never straight away, in a loop against a down database. */
	#retryLater(): void {
		if (this.#closed) return;
		this.#retrying = true;
		if (this.#timer) clearTimeout(this.#timer);
		this.#startTimer();
	}

	/** Stops the timer and writes everything still buffered (SIGTERM path). */
	async close(): Promise<void> {
		this.#closed = true;
		if (this.#timer) clearTimeout(this.#timer);
		this.#timer = null;
		await this.flush();
	}
}
