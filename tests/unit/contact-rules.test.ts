/**
 * Contact-limit arithmetic at JST boundaries: quiet hours 21:00–09:00 (wrapping midnight), the
 * schedule of a message composed inside them, and the rolling 7 / 30-day windows.
 */
import { describe, expect, it } from 'vitest';
import { decide, inQuietHours, jstMinuteOfDay, sendTimeFor, type ContactPolicy } from '../../server/modules/contact/rules.ts';

const jst = (s: string) => new Date(`${s}+09:00`);
const QUIET = { start: '21:00', end: '09:00' };
const policy = (p: Partial<ContactPolicy> = {}): ContactPolicy => ({ maxPer7Days: 1, maxPer30Days: 4, quietHours: QUIET, ...p });

describe('quiet hours (JST)', () => {
	it('reads the JST minute of the day whatever the UTC date', () => {
		expect(jstMinuteOfDay(jst('2026-12-07T00:00:00'))).toBe(0);
		expect(jstMinuteOfDay(jst('2026-12-07T23:59:59'))).toBe(1439);
		expect(jstMinuteOfDay(new Date('2026-12-07T15:00:00Z'))).toBe(0); // JST midnight
	});

	it('starts at 21:00 and ends at 09:00, to the minute', () => {
		expect(inQuietHours(jst('2026-12-07T20:59:59'), QUIET)).toBe(false);
		expect(inQuietHours(jst('2026-12-07T21:00:00'), QUIET)).toBe(true);
		expect(inQuietHours(jst('2026-12-08T00:00:00'), QUIET)).toBe(true);
		expect(inQuietHours(jst('2026-12-08T08:59:59'), QUIET)).toBe(true);
		expect(inQuietHours(jst('2026-12-08T09:00:00'), QUIET)).toBe(false);
		expect(inQuietHours(jst('2026-12-08T12:00:00'), QUIET)).toBe(false);
	});

	it('handles hours that do not wrap midnight, and none', () => {
		const lunch = { start: '12:00', end: '13:00' };
		expect(inQuietHours(jst('2026-12-07T11:59:00'), lunch)).toBe(false);
		expect(inQuietHours(jst('2026-12-07T12:00:00'), lunch)).toBe(true);
		expect(inQuietHours(jst('2026-12-07T13:00:00'), lunch)).toBe(false);
		expect(inQuietHours(jst('2026-12-07T23:00:00'), null)).toBe(false);
		expect(sendTimeFor(jst('2026-12-07T23:00:00'), null)).toEqual(jst('2026-12-07T23:00:00'));
	});

	it('schedules a message composed in quiet hours for their end', () => {
		// 23:00 → 09:00 the next day; 00:30 and 08:59 → 09:00 the same day
		expect(sendTimeFor(jst('2026-12-07T23:00:00'), QUIET)).toEqual(jst('2026-12-08T09:00:00'));
		expect(sendTimeFor(jst('2026-12-07T21:00:00'), QUIET)).toEqual(jst('2026-12-08T09:00:00'));
		expect(sendTimeFor(jst('2026-12-08T00:30:00'), QUIET)).toEqual(jst('2026-12-08T09:00:00'));
		expect(sendTimeFor(jst('2026-12-08T08:59:00'), QUIET)).toEqual(jst('2026-12-08T09:00:00'));
		// outside: at once
		expect(sendTimeFor(jst('2026-12-07T20:59:00'), QUIET)).toEqual(jst('2026-12-07T20:59:00'));
		expect(sendTimeFor(jst('2026-12-08T09:00:00'), QUIET)).toEqual(jst('2026-12-08T09:00:00'));
		// across a month and a year end
		expect(sendTimeFor(jst('2026-12-31T22:00:00'), QUIET)).toEqual(jst('2027-01-01T09:00:00'));
	});

	it('says scheduled only when the send is later than the compose', () => {
		expect(decide(jst('2026-12-07T23:00:00'), [], policy())).toMatchObject({ allowed: true, scheduled: true, sendAt: jst('2026-12-08T09:00:00') });
		expect(decide(jst('2026-12-07T20:59:00'), [], policy())).toMatchObject({ allowed: true, scheduled: false });
	});
});

describe('rolling windows', () => {
	it('allows one per 7 days: a contact 7 days minus a second ago blocks, exactly 7 days ago does not', () => {
		const now = jst('2026-12-14T10:00:00');
		const blocked = decide(now, [jst('2026-12-07T10:00:01')], policy());
		expect(blocked).toMatchObject({ allowed: false, over: '7d', nextAllowedAt: jst('2026-12-14T10:00:01') });
		expect(blocked.windows[0]).toMatchObject({ window: '7d', used: 1, max: 1, remaining: 0 });
		expect(decide(now, [jst('2026-12-07T10:00:00')], policy())).toMatchObject({ allowed: true, over: null });
	});

	it('counts a contact scheduled later (a second message composed in the same night is refused)', () => {
		const first = jst('2026-12-08T09:00:00'); // composed at 23:00, goes out at 09:00
		const d = decide(jst('2026-12-07T23:30:00'), [first], policy());
		expect(d).toMatchObject({ allowed: false, over: '7d', nextAllowedAt: jst('2026-12-15T09:00:00') });
	});

	it('moves the next allowed time out of the quiet hours', () => {
		const d = decide(jst('2026-12-08T12:00:00'), [jst('2026-12-07T22:30:00')], policy({ quietHours: null }));
		expect(d.nextAllowedAt).toEqual(jst('2026-12-14T22:30:00'));
		const q = decide(jst('2026-12-08T12:00:00'), [jst('2026-12-07T22:30:00')], policy());
		expect(q.nextAllowedAt).toEqual(jst('2026-12-15T09:00:00'));
	});

	it('allows 4 per 30 days and waits for the oldest to leave', () => {
		const p = policy({ maxPer7Days: 10 });
		const contacts = ['2026-11-10', '2026-11-20', '2026-11-28', '2026-12-05'].map((d) => jst(`${d}T12:00:00`));
		const now = jst('2026-12-07T12:00:00');
		expect(decide(now, contacts.slice(0, 3), p)).toMatchObject({ allowed: true });
		expect(decide(now, contacts.slice(0, 3), p).windows[1]).toMatchObject({ window: '30d', used: 3, remaining: 1 });
		const full = decide(now, contacts, p);
		expect(full).toMatchObject({ allowed: false, over: '30d', nextAllowedAt: jst('2026-12-10T12:00:00') });
		expect(decide(jst('2026-12-10T12:00:00'), contacts, p)).toMatchObject({ allowed: true });
		expect(decide(jst('2026-12-10T11:59:59'), contacts, p)).toMatchObject({ allowed: false });
	});

	it('names the 7-day window first and waits for the later of both', () => {
		const contacts = ['2026-11-10', '2026-11-20', '2026-11-28', '2026-12-05'].map((d) => jst(`${d}T12:00:00`));
		const d = decide(jst('2026-12-07T12:00:00'), contacts, policy());
		expect(d.over).toBe('7d');
		expect(d.nextAllowedAt).toEqual(jst('2026-12-12T12:00:00')); // 7 days after 12-05 > 30 days after 11-10
	});

	it('never allows with a limit of 0', () => {
		expect(decide(jst('2026-12-07T12:00:00'), [], policy({ maxPer7Days: 0 }))).toMatchObject({ allowed: false, over: '7d', nextAllowedAt: null });
	});

	it('judges a scheduled send at its send time: a contact that ages out by 09:00 does not block a 23:00 compose', () => {
		const d = decide(jst('2026-12-14T23:00:00'), [jst('2026-12-07T08:30:00')], policy());
		expect(d).toMatchObject({ allowed: true, scheduled: true, sendAt: jst('2026-12-15T09:00:00') });
	});
});
