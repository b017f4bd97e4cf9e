import { describe, expect, it } from 'vitest';
import { auditBatches, auditOutcome } from '../../src/lib/offline/audit-policy.ts';
import type { PendingAuditView } from '../../src/lib/offline/db.ts';

const view = (n: number, authToken = 't1'): PendingAuditView => ({
	id: `v${n}`,
	customerId: `c${n}`,
	via: 'scan',
	viewedAt: new Date(Date.UTC(2026, 10, 23, 9, 0, n)).toISOString(),
	staffId: authToken === 't1' ? 's1' : 's2',
	authToken
});

describe('offline profile view replay', () => {
	it('batches per session token, oldest first, at most 100 per request', () => {
		const views = [...Array.from({ length: 205 }, (_, i) => view(204 - i)), view(999, 't2')];
		const batches = auditBatches(views);
		expect(batches.map((b) => b.length)).toEqual([100, 100, 5, 1]);
		expect(batches[0][0].id).toBe('v0');
		expect(batches[2].at(-1)!.id).toBe('v204');
		expect(batches[3][0].authToken).toBe('t2');
		for (const batch of batches) expect(new Set(batch.map((v) => v.authToken)).size).toBe(1);
	});

	it('keeps views on network errors and 5xx, waits on 401, drops other 4xx', () => {
		expect(auditOutcome(200)).toBe('sent');
		expect(auditOutcome(null)).toBe('keep');
		expect(auditOutcome(503)).toBe('keep');
		expect(auditOutcome(429)).toBe('keep');
		expect(auditOutcome(401)).toBe('wait_for_session');
		expect(auditOutcome(400)).toBe('drop');
		expect(auditOutcome(403)).toBe('drop');
	});
});
