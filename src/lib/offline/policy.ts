/**
 * Pure rules of the tablet's offline cache and outbox (no IndexedDB, no DOM), so they can be
 * unit-tested in Node: expiry of cached personal data, LRU trimming, retry backoff and the
 * outbox entry state machine.
 */
import { nameMatchTier, normalizeSearchText, parseSearchQuery } from '../../../server/shared/kana.ts';

/** Cached profiles are personal data: they expire a day after they were fetched. */
export const PROFILE_TTL_MS = 24 * 60 * 60 * 1000;
/** Recently viewed profiles kept on the tablet (today's customers come on top of these). */
export const MAX_CACHED_PROFILES = 200;
/** The sync loop runs at least this often while the app is open. */
export const SYNC_INTERVAL_MS = 30_000;
const BACKOFF_BASE_MS = 2_000;
const BACKOFF_MAX_MS = 5 * 60_000;

export function isExpired(cachedAt: number, now: number, ttlMs = PROFILE_TTL_MS): boolean {
	return now - cachedAt >= ttlMs;
}

/**
 * Which cached entries to drop so at most `max` stay: the least recently viewed first.
 * Returns the keys to delete.
 */
export function lruVictims<K>(entries: Array<{ key: K; viewedAt: number }>, max = MAX_CACHED_PROFILES): K[] {
	if (entries.length <= max) return [];
	return [...entries]
		.sort((a, b) => a.viewedAt - b.viewedAt)
		.slice(0, entries.length - max)
		.map((e) => e.key);
}

/** Exponential backoff after `attempts` failed tries (1 → 2 s, 2 → 4 s, … capped at 5 min). */
export function backoffMs(attempts: number): number {
	if (attempts <= 0) return 0;
	return Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (attempts - 1));
}

/**
 * pending: waiting to be sent (maybe after a backoff); failed: the server refused it (4xx) and
 * staff must look at it; synced: acknowledged by the server (kept briefly for the status view).
 */
export type OutboxStatus = 'pending' | 'failed' | 'synced';

export interface OutboxState {
	status: OutboxStatus;
	attempts: number;
	nextAttemptAt: number;
	lastError: string | null;
	syncedAt: number | null;
}

/** What one replay attempt returned. */
export type SendOutcome =
	| { kind: 'acked' }
	/** Network down, timeout or 5xx: the server may or may not have it; replay later (idempotent). */
	| { kind: 'retry'; error: string }
	/** 401 session_expired etc.: keep pending but wait until the author signs in again. */
	| { kind: 'needs_auth'; error: string }
	/** 4xx: the server will refuse it every time until staff edit it. */
	| { kind: 'rejected'; error: string };

export function newOutboxState(now: number): OutboxState {
	return { status: 'pending', attempts: 0, nextAttemptAt: now, lastError: null, syncedAt: null };
}

export function isDue(state: OutboxState, now: number): boolean {
	return state.status === 'pending' && state.nextAttemptAt <= now;
}

export function applyOutcome(state: OutboxState, outcome: SendOutcome, now: number): OutboxState {
	switch (outcome.kind) {
		case 'acked':
			return { ...state, status: 'synced', lastError: null, syncedAt: now };
		case 'retry': {
			const attempts = state.attempts + 1;
			return { ...state, status: 'pending', attempts, lastError: outcome.error, nextAttemptAt: now + backoffMs(attempts) };
		}
		case 'needs_auth':
			// Not the record's fault: no backoff growth, it goes out once the author has a fresh session.
			return { ...state, status: 'failed', lastError: outcome.error };
		case 'rejected':
			return { ...state, status: 'failed', attempts: state.attempts + 1, lastError: outcome.error };
	}
}

/** Staff edited or pressed "retry" on a failed record: send it again now. */
export function retryNow<S extends OutboxState>(state: S, now: number): S {
	if (state.status === 'synced') return state;
	return { ...state, status: 'pending', nextAttemptAt: now };
}

/** Classifies an HTTP status of a replay (null = no response at all: network error/timeout). */
export function outcomeForStatus(status: number | null, code: string, message: string): SendOutcome {
	if (status === null) return { kind: 'retry', error: code || 'offline' };
	if (status >= 200 && status < 300) return { kind: 'acked' };
	if (status === 401) return { kind: 'needs_auth', error: code };
	if (status === 408 || status === 429 || status >= 500) return { kind: 'retry', error: `${code}: ${message}` };
	return { kind: 'rejected', error: `${code}: ${message}` };
}

/** Counts shown in the always-visible status: unsent = pending + failed. */
export function summarize(states: Array<{ status: OutboxStatus }>): { pending: number; failed: number; unsent: number } {
	const pending = states.filter((s) => s.status === 'pending').length;
	const failed = states.filter((s) => s.status === 'failed').length;
	return { pending, failed, unsent: pending + failed };
}

/** Synced records stay visible for a while ("送信済み"), then are dropped from the tablet. */
export const SYNCED_RETENTION_MS = 24 * 60 * 60 * 1000;

export function isPurgeable(state: OutboxState, now: number): boolean {
	return state.status === 'synced' && state.syncedAt !== null && now - state.syncedAt >= SYNCED_RETENTION_MS;
}

/** Decides what the fallback input is: a member number, a phone's last 4 digits, or a name. */
export function classifyQuery(raw: string): { kind: 'member_no' | 'phone_last4' | 'name' | 'too_short'; q: string } {
	const parsed = parseSearchQuery(raw);
	if (parsed.kind === 'too_short') return { kind: 'too_short', q: parsed.text };
	if (parsed.kind === 'digits') {
		if (parsed.digits.length === 4) return { kind: 'phone_last4', q: parsed.digits };
		if (parsed.digits.length >= 6) return { kind: 'member_no', q: parsed.digits };
	}
	return { kind: 'name', q: normalizeSearchText(raw) };
}

/**
 * The tablet's offline search over the profiles it holds, with the server's folding and
 * ranking (exact member number, exact full name, exact family name, prefix); null = no match.
 */
export function offlineMatchTier(
	raw: string,
	customer: { memberNo: string; name: string; kana: string }
): number | null {
	const parsed = parseSearchQuery(raw);
	if (parsed.kind === 'too_short') return null;
	if (parsed.kind === 'digits') return customer.memberNo === parsed.digits ? 0 : null;
	const [family, ...given] = customer.name.split(' ');
	const [familyKana, ...givenKana] = customer.kana.split(' ');
	const tier = nameMatchTier(parsed, { family, given: given.join(''), familyKana, givenKana: givenKana.join('') });
	return tier === null ? null : tier + 1;
}
