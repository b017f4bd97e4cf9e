/**
 * Dates and times on screen, always in Japan time (the stores' clock) whatever the device's
 * time zone, in the user's language.
 */
import { i18n } from './index.svelte.ts';

const TZ = 'Asia/Tokyo';
const lang = () => (i18n.locale === 'ja' ? 'ja-JP' : 'en-GB');

/** 2026年12月4日 / 4 Dec 2026 */
export function jstDate(iso: string | number | Date): string {
	return new Date(iso).toLocaleDateString(lang(), { year: 'numeric', month: 'short', day: 'numeric', timeZone: TZ });
}

/** 2026/12/04 14:05 / 04/12/2026, 14:05 */
export function jstDateTime(iso: string | number | Date): string {
	return new Date(iso).toLocaleString(lang(), {
		year: 'numeric',
		month: '2-digit',
		day: '2-digit',
		hour: '2-digit',
		minute: '2-digit',
		timeZone: TZ
	});
}

/** 14:05 */
export function jstTime(iso: string | number | Date): string {
	return new Date(iso).toLocaleTimeString(lang(), { hour: '2-digit', minute: '2-digit', timeZone: TZ });
}

/** 'MM-DD' → 12月4日 / 4 Dec */
export function monthDay(mmdd: string): string {
	const [m, d] = mmdd.split('-').map(Number);
	return new Date(Date.UTC(2000, m - 1, d)).toLocaleDateString(lang(), { month: 'short', day: 'numeric', timeZone: 'UTC' });
}
