/**
 * The one place an error becomes words on screen: the server's `code` (or the client's own
 * offline/timeout) → the user's language, with what to do next. Screens never show
 * `err.message` (the server's English, meant for logs and developers).
 */
import { t } from '../i18n/index.svelte.ts';
import type { MessageKey } from '../i18n/messages.ts';
import { ja } from '../i18n/messages/errors.ts';
import { ApiError } from './client.ts';

const SECONDS_PER_MINUTE = 60;

export function hasErrorMessage(code: string): boolean {
	return `err.${code}` in ja;
}

/** Variables some messages carry from the envelope's `fields` (numbers sent as numbers). */
function vars(err: ApiError): Record<string, string | number> {
	const out: Record<string, string | number> = { status: err.status ?? 0 };
	const attempts = err.fields.attemptsLeft;
	if (typeof attempts === 'number') out.attempts = attempts;
	const retry = err.fields.retryAfterSeconds;
	if (typeof retry === 'number') out.minutes = Math.max(1, Math.ceil(retry / SECONDS_PER_MINUTE));
	return out;
}

export function errorMessage(err: unknown): string {
	if (!(err instanceof ApiError)) return t('error.generic');
	if (hasErrorMessage(err.code)) return t(`err.${err.code}` as MessageKey, vars(err));
	return t('err.http', vars(err));
}

/** A stored error ("code" or "code: server message", e.g. the outbox's lastError) in words. */
export function codeMessage(stored: string): string {
	const code = stored.split(':')[0].trim();
	return hasErrorMessage(code) ? t(`err.${code}` as MessageKey, { status: 0 }) : t('error.generic');
}
