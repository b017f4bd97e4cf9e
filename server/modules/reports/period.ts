/**
 * Report periods: JST calendar dates (inclusive) turned into half-open instants
 * [start, end) — a day in Japan runs from 15:00Z the day before, so an order at
 * 2026-10-31T15:30Z belongs to 2026-11-01.
 */
import { badRequest } from '../../errors.ts';

import { addDays, DAY_MS, jstDate, jstMidnight } from '../../shared/jst.ts';

export { TIME_ZONE, addDays, jstDate, jstMidnight } from '../../shared/jst.ts';
/** Longest period one request may ask for (keeps any report bounded). */
export const MAX_PERIOD_DAYS = 3 * 366;

export interface Period {
	/** First JST date, 'YYYY-MM-DD'. */
	from: string;
	/** Last JST date, inclusive. */
	to: string;
	/** Instant of JST midnight starting `from`. */
	start: Date;
	/** Instant of JST midnight after `to` (exclusive). */
	end: Date;
}

/** The JST month containing `now`: from its first day to its last. */
export function jstMonth(now: Date, month?: string): { from: string; to: string } {
	const ym = month ?? jstDate(now).slice(0, 7);
	const from = `${ym}-01`;
	const [y, m] = ym.split('-').map(Number);
	const next = m === 12 ? `${y + 1}-01-01` : `${y}-${String(m + 1).padStart(2, '0')}-01`;
	return { from, to: addDays(next, -1) };
}

/** Parses from/to (both optional: default = this JST month up to its last day); 400 when invalid. */
export function parsePeriod(input: { from?: string; to?: string }, now = new Date()): Period {
	const month = jstMonth(now);
	const from = input.from ?? month.from;
	const to = input.to ?? (input.from ? input.from : month.to);
	const start = jstMidnight(from);
	const last = jstMidnight(to);
	if (!start) throw badRequest('invalid_period', 'from must be a date YYYY-MM-DD', { from: 'invalid date' });
	if (!last) throw badRequest('invalid_period', 'to must be a date YYYY-MM-DD', { to: 'invalid date' });
	// distinct codes, so the manager screen can say which of the two is wrong
	if (last < start) throw badRequest('period_reversed', 'to is before from', { to: 'before from' });
	const days = Math.round((last.getTime() - start.getTime()) / DAY_MS) + 1;
	if (days > MAX_PERIOD_DAYS) {
		throw badRequest('period_too_long', `A period may span at most ${MAX_PERIOD_DAYS} days`, { to: 'too long' });
	}
	return { from, to, start, end: new Date(last.getTime() + DAY_MS) };
}

export type Bucket = 'day' | 'week' | 'month';

/** Every bucket start (JST date) in the period, so charts show empty days as zero. */
export function bucketStarts(period: Period, bucket: Bucket): string[] {
	const out: string[] = [];
	let cursor = bucketStart(period.from, bucket);
	while (cursor <= period.to) {
		out.push(cursor);
		cursor = nextBucket(cursor, bucket);
	}
	return out;
}

/** Start of the bucket holding a date: the date, its ISO week's Monday, or the 1st. */
export function bucketStart(date: string, bucket: Bucket): string {
	if (bucket === 'day') return date;
	if (bucket === 'month') return `${date.slice(0, 7)}-01`;
	const weekday = new Date(`${date}T00:00:00Z`).getUTCDay(); // 0 = Sunday
	return addDays(date, -((weekday + 6) % 7));
}

function nextBucket(date: string, bucket: Bucket): string {
	if (bucket === 'day') return addDays(date, 1);
	if (bucket === 'week') return addDays(date, 7);
	return jstMonthAfter(date);
}

function jstMonthAfter(firstOfMonth: string): string {
	const [y, m] = firstOfMonth.split('-').map(Number);
	return m === 12 ? `${y + 1}-01-01` : `${y}-${String(m + 1).padStart(2, '0')}-01`;
}
