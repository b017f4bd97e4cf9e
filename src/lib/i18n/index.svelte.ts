/**
 * A tiny typed i18n: a reactive locale (persisted per device) and `t(key, vars)`. No library:
 * two locales and a few hundred strings do not justify shipping one to the tablet.
 */
import { ja, en, type MessageKey } from './messages.ts';

export type Locale = 'ja' | 'en';
const STORAGE_KEY = 'tsunagu.locale';
const dictionaries: Record<Locale, Record<MessageKey, string>> = { ja, en };

function initialLocale(): Locale {
	if (typeof localStorage === 'undefined') return 'ja';
	return localStorage.getItem(STORAGE_KEY) === 'en' ? 'en' : 'ja';
}

export const i18n = $state({ locale: initialLocale() });

export function setLocale(locale: Locale): void {
	i18n.locale = locale;
	if (typeof localStorage !== 'undefined') localStorage.setItem(STORAGE_KEY, locale);
	if (typeof document !== 'undefined') document.documentElement.lang = locale;
}

export function t(key: MessageKey, vars: Record<string, string | number> = {}): string {
	const template = dictionaries[i18n.locale][key] ?? key;
	return template.replace(/\{(\w+)\}/g, (_, name: string) => String(vars[name] ?? `{${name}}`));
}

/** For codes that come from data (statuses, size categories): the label when one exists, else the code. */
export function tOr(key: string, fallback: string): string {
	return key in dictionaries[i18n.locale] ? t(key as MessageKey) : fallback;
}

/** Integer yen → "¥12,800" in both locales. */
export function yen(amount: number): string {
	return `¥${amount.toLocaleString('ja-JP')}`;
}
