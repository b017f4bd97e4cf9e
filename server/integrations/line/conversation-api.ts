/**
 * The Messaging API calls of two-way conversations — reply (free, single-use token),
 * mark-as-read and the monthly quota — with LINE's answers mapped to our own outcomes here,
 * so nothing past this file reads LINE's error text.
 */
import { HTTPFetchError, type messagingApi } from '@line/bot-sdk';
import { withTimeout } from '../../shared/timeout.ts';
import { lineErrorMessage } from './errors.ts';

export type ConversationApiClient = Pick<
	messagingApi.MessagingApiClient,
	'replyMessageWithHttpInfo' | 'markMessagesAsReadByToken' | 'getMessageQuota' | 'getMessageQuotaConsumption' | 'getProfile'
>;

export type ReplyOutcome =
	| { kind: 'sent'; requestId: string | null }
	/** LINE refused the token (expired, used, unknown): the message did not go out; push instead. */
	| { kind: 'token_refused'; reason: string }
	/** Any other refusal (bad message, blocked…): nothing went out. */
	| { kind: 'rejected'; reason: string }
	/** No answer or a 5xx: it may or may not have gone out. */
	| { kind: 'unknown'; reason: string };

const TIMEOUT_MS = 10_000;

export async function replyWithToken(client: ConversationApiClient, replyToken: string, messages: unknown[]): Promise<ReplyOutcome> {
	try {
		const res = await withTimeout(client.replyMessageWithHttpInfo({ replyToken, messages: messages as messagingApi.Message[] }), TIMEOUT_MS);
		return { kind: 'sent', requestId: res.httpResponse.headers.get('x-line-request-id') };
	} catch (err) {
		if (!(err instanceof HTTPFetchError)) return { kind: 'unknown', reason: 'network error or timeout' };
		const message = lineErrorMessage(err.body);
		if (err.status === 400 && /reply token/i.test(message)) return { kind: 'token_refused', reason: message };
		if (err.status >= 500 || err.status === 429) return { kind: 'unknown', reason: `line_${err.status}: ${message}` };
		return { kind: 'rejected', reason: `line_${err.status}: ${message}` };
	}
}

/** Marks the user's messages read up to the token's message; false when LINE refused or was unreachable. */
export async function markAsRead(client: ConversationApiClient, markAsReadToken: string): Promise<boolean> {
	try {
		await withTimeout(client.markMessagesAsReadByToken({ markAsReadToken }), TIMEOUT_MS);
		return true;
	} catch {
		return false;
	}
}

/** The LINE display name of a user who is not a member yet (null when LINE does not say). */
export async function displayNameOf(client: ConversationApiClient, userId: string): Promise<string | null> {
	try {
		const profile = await withTimeout(client.getProfile(userId), TIMEOUT_MS);
		return typeof profile.displayName === 'string' && profile.displayName ? profile.displayName.slice(0, 100) : null;
	} catch {
		return null;
	}
}

export interface QuotaReading {
	/** 'limited' plans have a monthly limit; 'none' is unlimited. */
	planType: 'limited' | 'none';
	limit: number | null;
	totalUsage: number;
}

export async function readQuota(client: ConversationApiClient): Promise<QuotaReading> {
	const [quota, consumption] = await Promise.all([
		withTimeout(client.getMessageQuota(), TIMEOUT_MS),
		withTimeout(client.getMessageQuotaConsumption(), TIMEOUT_MS)
	]);
	const limited = quota.type === 'limited';
	return { planType: limited ? 'limited' : 'none', limit: limited ? (quota.value ?? null) : null, totalUsage: consumption.totalUsage };
}
