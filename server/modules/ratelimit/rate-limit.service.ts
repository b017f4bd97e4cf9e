/**
 * Rate limits and lockouts shared by every process through PostgreSQL (or PGlite): a token
 * bucket per key in `rate_limits`, optionally with lockouts that grow with each strike.
 * One statement per check on the hot path; expired keys are swept now and then by the
 * callers themselves (no extra worker needed).
 */
import type { DbOrTrx } from '../../db/index.ts';
import * as repo from './rate-limit.repository.ts';

export interface LimitPolicy {
	/** Key prefix; one policy per use (`member.address`, `enroll.brand`…). */
	name: string;
	capacity: number;
	refillPerSecond: number;
	/** When set, the bucket running dry locks the key for base × 2^strikes seconds (≤ max). */
	lockout?: { baseSeconds: number; maxSeconds: number; decaySeconds?: number };
}

export interface LimitResult {
	allowed: boolean;
	retryAfterSeconds: number;
	/** This call used the last token and started a lockout (callers audit it). */
	lockedNow: boolean;
	lockedUntil: Date | null;
	strikes: number;
}

const DEFAULT_DECAY_SECONDS = 24 * 3600;
/** One sweep per this many checks in a process keeps the table near its live size. */
const SWEEP_EVERY = 500;
const SWEEP_BATCH = 1000;
let checksSinceSweep = 0;

function params(policy: LimitPolicy, subject: string): repo.BucketParams {
	if (policy.lockout && policy.capacity < 2) throw new Error(`${policy.name}: a lockout policy needs a capacity of 2 or more`);
	const lockBase = policy.lockout?.baseSeconds ?? 0;
	const lockMax = policy.lockout?.maxSeconds ?? 0;
	const decay = policy.lockout ? (policy.lockout.decaySeconds ?? DEFAULT_DECAY_SECONDS) : 0;
	const refillSeconds = policy.capacity / policy.refillPerSecond;
	return {
		key: `${policy.name}:${subject}`,
		capacity: policy.capacity,
		refillPerSecond: policy.refillPerSecond,
		lockBaseSeconds: lockBase,
		lockMaxSeconds: lockMax,
		decaySeconds: decay,
		ttlSeconds: Math.ceil(refillSeconds + (policy.lockout ? lockMax + decay : 0))
	};
}

const secondsUntil = (d: Date | null) => (d ? Math.max(1, Math.ceil((new Date(d).getTime() - Date.now()) / 1000)) : 0);

/** Takes one token for `subject` under `policy`. */
export async function take(db: DbOrTrx, policy: LimitPolicy, subject: string): Promise<LimitResult> {
	const p = params(policy, subject);
	const row = await repo.takeToken(db, p);
	maybeSweep(db);
	const lockedUntil = row.locked_until ? new Date(row.locked_until) : null;
	const locked = lockedUntil !== null && lockedUntil.getTime() > Date.now();
	const retryAfterSeconds = row.allowed
		? 0
		: locked
			? secondsUntil(lockedUntil)
			: Math.max(1, Math.ceil((1 - Number(row.tokens)) / policy.refillPerSecond));
	return { allowed: row.allowed, retryAfterSeconds, lockedNow: row.locked_now, lockedUntil: locked ? lockedUntil : null, strikes: row.strikes };
}

/**
 * Gives back the token an attempt took, for limits that should count failures only but must
 * claim before checking (so parallel guesses cannot all pass): the caller takes, checks, and
 * returns the token when the attempt turned out right.
 */
export async function giveBack(db: DbOrTrx, policy: LimitPolicy, subject: string): Promise<void> {
	await repo.returnToken(db, params(policy, subject).key, policy.capacity);
}

/** The longest running lockout among these subjects, without taking a token (null = none). */
export async function lockedFor(db: DbOrTrx, policy: LimitPolicy, subjects: string[]): Promise<number | null> {
	const rows = await repo.lockedKeys(db, subjects.map((s) => params(policy, s).key));
	if (rows.length === 0) return null;
	return Math.max(...rows.map((r) => secondsUntil(r.locked_until)));
}

/** Forgets these subjects' buckets and lockouts. */
export async function reset(db: DbOrTrx, policy: LimitPolicy, subjects: string[]): Promise<void> {
	await repo.deleteKeys(db, subjects.map((s) => params(policy, s).key));
}

/** Deletes expired keys now (tests and the occasional sweep). */
export async function sweepExpired(db: DbOrTrx, limit = SWEEP_BATCH): Promise<number> {
	return repo.deleteExpired(db, limit);
}

function maybeSweep(db: DbOrTrx): void {
	if (++checksSinceSweep < SWEEP_EVERY) return;
	checksSinceSweep = 0;
	// off the request's path; a failed sweep is retried at the next one
	void repo.deleteExpired(db, SWEEP_BATCH).catch(() => undefined);
}

export { deleteKeysMentioning } from './rate-limit.repository.ts';
