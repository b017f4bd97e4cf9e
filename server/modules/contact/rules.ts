/**
 * Contact-limit arithmetic — pure, so every JST boundary is unit-testable:
 * quiet hours (a message composed inside them goes out when they end) and the rolling windows
 * (at most N counted contacts in any 7 / 30 days, whichever staff member sent them).
 */
import { DAY_MS, JST_OFFSET_MS } from '../../shared/jst.ts';

/** 'HH:MM' in Japan time; start > end wraps midnight (21:00–09:00). */
export interface QuietHours {
	start: string;
	end: string;
}

export interface ContactPolicy {
	/** Counted contacts allowed per rolling 7 days (0 = none). */
	maxPer7Days: number;
	/** Counted contacts allowed per rolling 30 days. */
	maxPer30Days: number;
	/** null = no quiet hours. */
	quietHours: QuietHours | null;
}

export const WINDOWS = [
	{ key: '7d', days: 7, max: (p: ContactPolicy) => p.maxPer7Days },
	{ key: '30d', days: 30, max: (p: ContactPolicy) => p.maxPer30Days }
] as const;
export type WindowKey = (typeof WINDOWS)[number]['key'];

export const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

export function minutesOf(hhmm: string): number {
	const [h, m] = hhmm.split(':').map(Number);
	return h * 60 + m;
}

/** Minutes since JST midnight of an instant (0–1439). */
export function jstMinuteOfDay(at: Date): number {
	const ms = (at.getTime() + JST_OFFSET_MS) % DAY_MS;
	return Math.floor((ms < 0 ? ms + DAY_MS : ms) / 60_000);
}

/** Whether an instant falls inside the quiet hours: [start, end), wrapping midnight when start > end. */
export function inQuietHours(at: Date, quiet: QuietHours | null): boolean {
	if (!quiet) return false;
	const m = jstMinuteOfDay(at);
	const start = minutesOf(quiet.start);
	const end = minutesOf(quiet.end);
	if (start === end) return false;
	return start < end ? m >= start && m < end : m >= start || m < end;
}

/**
 * When a message composed at `at` goes out: at once outside the quiet hours, otherwise at
 * their end (the next JST `end` o'clock, to the minute).
 */
export function sendTimeFor(at: Date, quiet: QuietHours | null): Date {
	if (!quiet || !inQuietHours(at, quiet)) return at;
	const end = minutesOf(quiet.end);
	const jstMidnight = at.getTime() - ((at.getTime() + JST_OFFSET_MS) % DAY_MS + DAY_MS) % DAY_MS;
	let candidate = jstMidnight + end * 60_000;
	if (candidate <= at.getTime()) candidate += DAY_MS;
	return new Date(candidate);
}

export interface WindowUse {
	window: WindowKey;
	days: number;
	max: number;
	used: number;
	remaining: number;
}

export interface LimitDecision {
	/** A send composed now goes out at `sendAt`; `scheduled` when that is later (quiet hours). */
	sendAt: Date;
	scheduled: boolean;
	allowed: boolean;
	/** The first window that is full, when not allowed. */
	over: WindowKey | null;
	windows: WindowUse[];
	/** The earliest time a send would be allowed again (already moved out of quiet hours); null = never (a limit of 0). */
	nextAllowedAt: Date | null;
}

/**
 * Decides a send composed at `now` against the customer's counted contacts (their send times,
 * including ones scheduled later). A window counts the contacts with `at > sendAt − days`.
 */
export function decide(now: Date, contacts: Date[], policy: ContactPolicy): LimitDecision {
	const sendAt = sendTimeFor(now, policy.quietHours);
	const sorted = [...contacts].sort((a, b) => a.getTime() - b.getTime());
	let over: WindowKey | null = null;
	let next = sendAt.getTime();
	let never = false;
	const windows = WINDOWS.map((w): WindowUse => {
		const max = w.max(policy);
		const inside = sorted.filter((c) => c.getTime() > sendAt.getTime() - w.days * DAY_MS);
		const used = inside.length;
		if (used >= max) {
			over ??= w.key;
			if (max === 0) never = true;
			// the oldest (used − max + 1) contacts must leave the window first
			else next = Math.max(next, inside[used - max].getTime() + w.days * DAY_MS);
		}
		return { window: w.key, days: w.days, max, used, remaining: Math.max(0, max - used) };
	});
	const allowed = over === null;
	return {
		sendAt,
		scheduled: sendAt.getTime() > now.getTime(),
		allowed,
		over,
		windows,
		nextAllowedAt: allowed ? sendAt : never ? null : sendTimeFor(new Date(next), policy.quietHours)
	};
}
