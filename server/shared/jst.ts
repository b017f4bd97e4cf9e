/**
 * Japan time (Asia/Tokyo, UTC+9, no daylight saving) calendar arithmetic: the one home for
 * business days on the server and in the SPA (both import it). Dates are 'YYYY-MM-DD' strings.
 */
export const TIME_ZONE = 'Asia/Tokyo';
export const JST_OFFSET_MS = 9 * 3_600_000;
export const DAY_MS = 86_400_000;

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The JST calendar date of an instant. */
export function jstDate(at: Date | string | number): string {
	return new Date(new Date(at).getTime() + JST_OFFSET_MS).toISOString().slice(0, 10);
}

/** 'YYYY-MM-DD HH:mm' in Japan time. */
export function jstDateTime(at: Date | string | number): string {
	return new Date(new Date(at).getTime() + JST_OFFSET_MS).toISOString().slice(0, 16).replace('T', ' ');
}

/** JST midnight of a 'YYYY-MM-DD' date; null when the text is not a real date. */
export function jstMidnight(date: string): Date | null {
	if (!DATE.test(date)) return null;
	const at = new Date(`${date}T00:00:00+09:00`);
	return Number.isNaN(at.getTime()) || jstDate(at) !== date ? null : at;
}

/** The calendar date `days` after (or before) a date. */
export function addDays(date: string, days: number): string {
	return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** The first instant (UTC) of the JST calendar month `at` falls in, or of a month `offset` months later. */
export function jstMonthStart(at: Date, offset = 0): Date {
	const jst = new Date(at.getTime() + JST_OFFSET_MS);
	return new Date(Date.UTC(jst.getUTCFullYear(), jst.getUTCMonth() + offset, 1) - JST_OFFSET_MS);
}
