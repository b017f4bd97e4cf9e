/**
 * Words for the compose screen's contact panel: "3日前 佐藤（新宿店）LINE", what is left of the
 * limits, the quiet-hours schedule and why a send is refused — in JST, in the user's language.
 */
import { DAY_MS, jstDate, JST_OFFSET_MS } from '../../../../../../../server/shared/jst.ts';
import { i18n, t } from '$lib/i18n/index.svelte.ts';
import type { MessageKey } from '$lib/i18n/messages.ts';
import type { ComposeContext } from '$lib/api/types.ts';

type Contact = ComposeContext['contact'];

/** 今日 / 昨日 / N日前 by JST calendar days. */
export function daysAgo(at: string, now = new Date()): string {
	const days = Math.round((Date.parse(`${jstDate(now)}T00:00:00Z`) - Date.parse(`${jstDate(at)}T00:00:00Z`)) / DAY_MS);
	if (days <= 0) return t('followup.contact.today');
	if (days === 1) return t('followup.contact.yesterday');
	return t('followup.contact.daysAgo', { days });
}

/** "12月8日(火) 9:00" / "Tue 8 Dec 09:00", always in Japan time. */
export function jstWhen(iso: string): string {
	const d = new Date(Date.parse(iso) + JST_OFFSET_MS);
	const hm = `${d.getUTCHours()}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
	if (i18n.locale === 'ja') {
		const wd = '日月火水木金土'[d.getUTCDay()];
		return `${d.getUTCMonth() + 1}月${d.getUTCDate()}日(${wd}) ${hm}`;
	}
	const wd = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getUTCDay()];
	const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()];
	return `${wd} ${d.getUTCDate()} ${mon} ${hm.padStart(5, '0')}`;
}

export function lastContactLine(c: Contact, now = new Date()): string {
	const last = c.lastContact;
	if (!last) return t('followup.contact.none');
	return t('followup.contact.last', {
		when: daysAgo(last.at, now),
		staff: last.staffName,
		store: i18n.locale === 'ja' ? last.storeName : last.storeNameEn,
		how: t(`followup.contact.how.${last.kind}` as MessageKey)
	});
}

export function remainingLines(c: Contact): string[] {
	return c.windows.map((w) => `${t(`followup.contact.window.${w.window}` as MessageKey)}: ${t('followup.contact.remaining', { remaining: w.remaining, max: w.max, days: w.days })}`);
}

/** Why the limits refuse a send now (with when it becomes possible); null when they allow it. */
export function limitRefusal(c: Contact): string | null {
	if (c.reason !== 'limit_7d' && c.reason !== 'limit_30d') return null;
	const w = c.windows.find((x) => `limit_${x.window}` === c.reason);
	const next = c.nextAllowedAt ? t('followup.contact.nextAt', { at: jstWhen(c.nextAllowedAt) }) : t('followup.contact.never');
	return `${t(`followup.contact.${c.reason}` as MessageKey, { max: w?.max ?? 0 })}${next}`;
}
