import { describe, expect, it } from 'vitest';
import {
	PROFILE_TTL_MS,
	applyOutcome,
	backoffMs,
	classifyQuery,
	isDue,
	isExpired,
	isPurgeable,
	lruVictims,
	newOutboxState,
	outcomeForStatus,
	retryNow,
	summarize,
	SYNCED_RETENTION_MS
} from '../../src/lib/offline/policy.ts';
import { toKatakana } from '../../server/shared/kana.ts';

describe('cache expiry and LRU', () => {
	it('expires a profile exactly at the TTL', () => {
		expect(isExpired(1_000, 1_000 + PROFILE_TTL_MS - 1)).toBe(false);
		expect(isExpired(1_000, 1_000 + PROFILE_TTL_MS)).toBe(true);
	});

	it('evicts the least recently viewed beyond the limit', () => {
		const entries = [
			{ key: 'a', viewedAt: 30 },
			{ key: 'b', viewedAt: 10 },
			{ key: 'c', viewedAt: 20 },
			{ key: 'd', viewedAt: 40 }
		];
		expect(lruVictims(entries, 2)).toEqual(['b', 'c']);
		expect(lruVictims(entries, 4)).toEqual([]);
	});
});

describe('outbox state machine', () => {
	it('backs off exponentially with a cap', () => {
		expect(backoffMs(0)).toBe(0);
		expect(backoffMs(1)).toBe(2_000);
		expect(backoffMs(3)).toBe(8_000);
		expect(backoffMs(30)).toBe(5 * 60_000);
	});

	it('keeps a record pending on network errors and 5xx, with a later next attempt', () => {
		const s0 = newOutboxState(100);
		expect(isDue(s0, 100)).toBe(true);
		const s1 = applyOutcome(s0, outcomeForStatus(null, 'offline', ''), 100);
		expect(s1).toMatchObject({ status: 'pending', attempts: 1, nextAttemptAt: 2_100, lastError: 'offline' });
		expect(isDue(s1, 2_099)).toBe(false);
		expect(isDue(s1, 2_100)).toBe(true);
		const s2 = applyOutcome(s1, outcomeForStatus(503, 'unavailable', 'down'), 2_100);
		expect(s2).toMatchObject({ status: 'pending', attempts: 2, nextAttemptAt: 2_100 + 4_000 });
	});

	it('marks a record synced on 2xx (201 first write and 200 replay alike)', () => {
		for (const status of [200, 201]) {
			const s = applyOutcome(newOutboxState(0), outcomeForStatus(status, '', ''), 50);
			expect(s).toMatchObject({ status: 'synced', syncedAt: 50, lastError: null });
			expect(isDue(s, 1e12)).toBe(false);
		}
	});

	it('fails a record the server refuses, with the reason, until staff retry it', () => {
		const failed = applyOutcome(newOutboxState(0), outcomeForStatus(400, 'validation_failed', 'notes too long'), 10);
		expect(failed.status).toBe('failed');
		expect(failed.lastError).toBe('validation_failed: notes too long');
		expect(isDue(failed, 1e12)).toBe(false);
		const again = retryNow(failed, 20);
		expect(again).toMatchObject({ status: 'pending', nextAttemptAt: 20 });
		expect(isDue(again, 20)).toBe(true);
	});

	it('treats 401 as needing the author to sign in again, 409 as a rejection', () => {
		expect(outcomeForStatus(401, 'session_expired', '').kind).toBe('needs_auth');
		expect(outcomeForStatus(409, 'id_conflict', '').kind).toBe('rejected');
		expect(outcomeForStatus(429, 'rate_limited', '').kind).toBe('retry');
	});

	it('never re-sends a synced record and purges it after the retention', () => {
		const synced = applyOutcome(newOutboxState(0), { kind: 'acked' }, 1_000);
		expect(retryNow(synced, 2_000)).toBe(synced);
		expect(isPurgeable(synced, 1_000 + SYNCED_RETENTION_MS - 1)).toBe(false);
		expect(isPurgeable(synced, 1_000 + SYNCED_RETENTION_MS)).toBe(true);
		expect(isPurgeable(newOutboxState(0), 1e15)).toBe(false);
	});

	it('counts pending and failed as unsent', () => {
		expect(summarize([{ status: 'pending' }, { status: 'failed' }, { status: 'synced' }, { status: 'pending' }])).toEqual({
			pending: 2,
			failed: 1,
			unsent: 3
		});
	});
});

describe('search input', () => {
	it('converts hiragana to katakana and leaves the rest', () => {
		expect(toKatakana('やまだ はなこ')).toBe('ヤマダ ハナコ');
		expect(toKatakana('山田ヤマダabc')).toBe('山田ヤマダabc');
	});

	it('classifies member numbers, phone last 4 and names (full-width digits too)', () => {
		expect(classifyQuery(' 1000000001 ')).toEqual({ kind: 'member_no', q: '1000000001' });
		expect(classifyQuery('１２３４')).toEqual({ kind: 'phone_last4', q: '1234' });
		expect(classifyQuery('やま')).toEqual({ kind: 'name', q: 'ヤマ' });
		expect(classifyQuery('山')).toEqual({ kind: 'too_short', q: '山' });
	});
});
