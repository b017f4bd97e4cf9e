/**
 * The LINE outbox worker. Each tick reserves pushes from the channel-wide budget (a row per
 * 100 ms slot, shared by every process, so together they stay under LINE's 2,000/s), claims
 * that many due follow-ups (SKIP LOCKED + lease) and pushes them with their fixed retry key.
 * Any number of processes may run it: a row is pushed by one worker at a time, and a push
 * repeated after a lost answer or an expired lease is deduplicated by LINE (409 = accepted).
 */
import type { messagingApi } from '@line/bot-sdk';
import type { Db } from '../../db/index.ts';
import type { AppDeps } from '../../http/context.ts';
import { OUTBOX_WORKER } from '../../jobs/wakeups.ts';
import type { WorkerSpec } from '../../jobs/worker.ts';
import type { Logger } from '../../logger.ts';
import { createMessagingClient } from '../../integrations/line/client.ts';
import { pushWithRetryKey, RETRY_WINDOW_MS, type Outcome, type PushClient } from '../../integrations/line/push.ts';
import { followUpEligibility } from './messages.ts';
import { releaseFollowUp } from '../contact/contact.service.ts';
import * as repo from './followups.repository.ts';

export interface OutboxOptions {
	/** Channel-wide pushes per second (all processes together); LINE allows 2,000. */
	ratePerSecond?: number;
	/** Rows claimed per tick at most. */
	batchSize?: number;
	leaseSeconds?: number;
	pushTimeoutMs?: number;
	idleMs?: number;
	logger?: Logger;
	/** The clock deciding what is due (tests move it past the quiet hours); the database's now() when absent. */
	now?: () => Date;
}

export const OUTBOX_DEFAULTS = { ratePerSecond: 1800, batchSize: 100, leaseSeconds: 60, pushTimeoutMs: 15_000, idleMs: 500 } as const;
const SLOT_MS = 100;

export interface TickResult {
	claimed: number;
	sent: number;
	retried: number;
	failed: number;
	cancelled: number;
	/** The channel's budget for this 100 ms slot was spent: try again in the next slot. */
	throttled: boolean;
}

export async function processOutboxBatch(db: Db, client: PushClient, options: OutboxOptions = {}): Promise<TickResult> {
	const o = { ...OUTBOX_DEFAULTS, ...options };
	const perSlot = Math.max(1, Math.floor((o.ratePerSecond * SLOT_MS) / 1000));
	const result: TickResult = { claimed: 0, sent: 0, retried: 0, failed: 0, cancelled: 0, throttled: false };
	const { granted, slot } = await repo.reserveBudget(db, Math.min(o.batchSize, perSlot), perSlot, SLOT_MS);
	if (granted === 0) {
		result.throttled = true;
		return result;
	}
	const rows = await repo.claimDue(db, granted, o.leaseSeconds, o.now ? o.now() : null);
	result.claimed = rows.length;
	// An idle or nearly idle tick must not hold the channel's slot budget it did not use: other
	// processes (and this one's next tick) would be throttled for nothing.
	await repo.releaseBudget(db, slot, granted - rows.length);
	await Promise.all(
		rows.map(async (row) => {
			const outcome = await deliver(client, row, o.pushTimeoutMs, o.now ? o.now().getTime() : Date.now());
			await record(db, row, outcome, result);
			if (outcome.kind !== 'sent' && o.logger) o.logger.warn({ followUpId: row.id, outcome: outcome.kind, reason: outcome.reason }, 'follow-up not sent');
		})
	);
	return result;
}

async function deliver(client: PushClient, row: repo.ClaimedFollowUp, timeoutMs: number, nowMs: number): Promise<Outcome | { kind: 'cancelled'; reason: string }> {
	// An answer to the customer's own message is a service reply: no marketing consent needed.
	const eligibility = followUpEligibility(row.kind === 'conversation' ? { ...row, consent_messages: true } : row);
	if (!eligibility.allowed) return { kind: 'cancelled', reason: eligibility.reason! };
	// LINE keeps a retry key 24 h from the first request: a scheduled follow-up's first is at its time
	if (nowMs - new Date(row.scheduled_for ?? row.created_at).getTime() > RETRY_WINDOW_MS) {
		return { kind: 'failed', reason: 'retry_window_expired: not accepted by LINE within 24 hours' };
	}
	const messages = (typeof row.messages === 'string' ? JSON.parse(row.messages) : row.messages) as messagingApi.Message[];
	return pushWithRetryKey(client, { to: row.line_user_id!, messages, retryKey: row.retry_key, timeoutMs });
}

async function record(db: Db, row: repo.ClaimedFollowUp, outcome: Outcome | { kind: 'cancelled'; reason: string }, result: TickResult) {
	switch (outcome.kind) {
		case 'sent':
			result.sent++;
			return repo.markSent(db, row.id, outcome.requestId);
		case 'retry':
			result.retried++;
			return repo.markRetry(db, row.id, backoffMs(row.attempts), outcome.reason);
		case 'failed':
		case 'cancelled': {
			if (outcome.kind === 'failed') result.failed++;
			else result.cancelled++;
			// never reached the customer: it stops counting against the contact limits
			const status = outcome.kind;
			return db.transaction().execute(async (trx) => {
				await repo.markFinal(trx, row.id, status, outcome.reason);
				await releaseFollowUp(trx, row.id);
			});
		}
	}
}

/** A retry's wait: exponential backoff with jitter: 2 s, 4 s, 8 s … capped at 10 minutes. */
export function backoffMs(attempts: number, random = Math.random): number {
	const base = Math.min(600_000, 1000 * 2 ** Math.max(1, attempts));
	return Math.round(base * (0.75 + random() * 0.5));
}

/** Woken by `deps.wake.outbox()` when a follow-up is queued (jobs/wakeups.ts). */
export function createOutboxWorker(deps: AppDeps, options: OutboxOptions = {}): WorkerSpec {
	const client = createMessagingClient({ apiBase: deps.config.line.apiBase, channelAccessToken: deps.config.line.channelAccessToken });
	const logger = options.logger ?? deps.logger;
	const idleMs = options.idleMs ?? OUTBOX_DEFAULTS.idleMs;
	let ticks = 0;
	let throttled = false;
	return {
		name: OUTBOX_WORKER,
		// nothing due: wait for a compose or a short while; the slot's budget spent: until the next slot
		idleMs: () => (throttled ? SLOT_MS : idleMs),
		tick: async () => {
			if (++ticks % 1000 === 0) await repo.pruneBudget(deps.db, SLOT_MS).catch(() => {});
			const r = await processOutboxBatch(deps.db, client, { ...options, logger });
			throttled = r.throttled;
			return r.claimed;
		}
	};
}
