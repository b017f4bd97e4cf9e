/**
 * Pushing to LINE: one push with its retry key, and how the attempt ends from the Messaging
 * API's answer (pure, so the outbox's behaviour under every status is unit-testable). The retry
 * key makes retries safe: LINE answers 409 when a request with the same key was already
 * accepted, which is a success.
 */
import { HTTPFetchError, type messagingApi } from '@line/bot-sdk';
import { withTimeout } from '../../shared/timeout.ts';
import { lineErrorDetails, lineErrorMessage } from './errors.ts';

export type Outcome =
	| { kind: 'sent'; requestId: string | null }
	| { kind: 'retry'; reason: string }
	| { kind: 'failed'; reason: string };

export interface PushErrorFacts {
	/** HTTP status, or null for a network error or timeout. */
	status: number | null;
	body: string;
	headers: { get(name: string): string | null } | null;
}

/** LINE's retry key is honoured for 24 h after the first request; we stop a little earlier. */
export const RETRY_WINDOW_MS = 23 * 3_600_000;

export function classifyPushError(e: PushErrorFacts): Outcome {
	if (e.status === null) return { kind: 'retry', reason: 'network error or timeout' };
	const message = lineErrorMessage(e.body);
	if (e.status === 409) return { kind: 'sent', requestId: e.headers?.get('x-line-accepted-request-id') ?? null };
	if (e.status === 429) {
		// The monthly message quota does not come back by waiting a few seconds.
		if (/monthly limit/i.test(message)) return { kind: 'failed', reason: `monthly_limit: ${message}` };
		return { kind: 'retry', reason: `rate_limited: ${message || '429'}` };
	}
	if (e.status >= 500) return { kind: 'retry', reason: `line_${e.status}: ${message}` };
	return { kind: 'failed', reason: `line_${e.status}: ${message}${lineErrorDetails(e.body)}` };
}

/** The part of the Messaging API client a push needs (tests pass a stand-in). */
export type PushClient = Pick<messagingApi.MessagingApiClient, 'pushMessageWithHttpInfo'>;

/** One push with its retry key; a timeout or network error is a retry, LINE's answers are classified. */
export async function pushWithRetryKey(
	client: PushClient,
	push: { to: string; messages: messagingApi.Message[]; retryKey: string; timeoutMs: number }
): Promise<Outcome> {
	try {
		const response = await withTimeout(client.pushMessageWithHttpInfo({ to: push.to, messages: push.messages }, push.retryKey), push.timeoutMs);
		return { kind: 'sent', requestId: response.httpResponse.headers.get('x-line-request-id') };
	} catch (err) {
		if (err instanceof HTTPFetchError) return classifyPushError({ status: err.status, body: err.body, headers: err.headers });
		return classifyPushError({ status: null, body: '', headers: null });
	}
}
