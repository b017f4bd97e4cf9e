/**
 * LINE webhook payloads → the few facts Tsunagu uses. Vendor shapes stop here: the rest of the
 * server sees `LineEvent` only.
 */
import type { webhook } from '@line/bot-sdk';
import { readInboundContent, type InboundContent } from './message-content.ts';

export type LineEvent =
	| { kind: 'follow'; eventId: string; userId: string; at: Date; isUnblocked: boolean }
	| { kind: 'unfollow'; eventId: string; userId: string; at: Date }
	| {
			kind: 'message';
			eventId: string;
			userId: string;
			at: Date;
			messageType: string;
			text: string | null;
			/** Single use, valid about a minute from `at` (free reply). */
			replyToken: string | null;
			content: InboundContent;
	  };

export interface ParsedWebhook {
	destination: string | null;
	/** Handled events, each with LINE's raw object (stored as received in the inbox). */
	events: Array<{ event: LineEvent; raw: unknown }>;
	/** Events we do not handle (postback, join, other sources…), counted for the log. */
	ignored: number;
}

export class MalformedWebhook extends Error {}

/** Throws MalformedWebhook for bodies that are not a LINE callback request. */
export function parseWebhook(json: unknown): ParsedWebhook {
	if (!json || typeof json !== 'object' || !Array.isArray((json as { events?: unknown }).events)) {
		throw new MalformedWebhook('body must be an object with an events array');
	}
	const body = json as webhook.CallbackRequest;
	const events: ParsedWebhook['events'] = [];
	let ignored = 0;
	for (const raw of body.events as unknown[]) {
		const event = toLineEvent(raw);
		if (event) events.push({ event, raw });
		else ignored++;
	}
	return { destination: typeof body.destination === 'string' ? body.destination : null, events, ignored };
}

/** One raw LINE event → LineEvent, or null for events Tsunagu does not handle. */
export function toLineEvent(raw: unknown): LineEvent | null {
	if (!raw || typeof raw !== 'object') return null;
	const e = raw as webhook.Event & { webhookEventId?: unknown; timestamp?: unknown };
	const userId = e.source && e.source.type === 'user' ? e.source.userId : undefined;
	if (typeof e.webhookEventId !== 'string' || !e.webhookEventId || typeof userId !== 'string' || typeof e.timestamp !== 'number') {
		return null;
	}
	const base = { eventId: e.webhookEventId, userId, at: new Date(e.timestamp) };
	switch (e.type) {
		case 'follow':
			return { kind: 'follow', ...base, isUnblocked: Boolean((e as webhook.FollowEvent).follow?.isUnblocked) };
		case 'unfollow':
			return { kind: 'unfollow', ...base };
		case 'message': {
			const message = (e as webhook.MessageEvent).message as { type?: unknown; text?: unknown } | undefined;
			const messageType = typeof message?.type === 'string' ? message.type : 'unknown';
			const text = messageType === 'text' && typeof message?.text === 'string' ? message.text : null;
			const replyToken = typeof (e as { replyToken?: unknown }).replyToken === 'string' ? (e as { replyToken: string }).replyToken : null;
			return { kind: 'message', ...base, messageType, text, replyToken, content: readInboundContent(message) };
		}
		default:
			return null;
	}
}
