/**
 * LINE webhook events: receipt stores each event once in the durable inbox (deduplicated by
 * webhookEventId) and answers; the inbox worker then applies it here, idempotently:
 * dedupe → resolve the customer → persist the timeline entry → side effects (reachability,
 * cancelling queued follow-ups on a block).
 */
import type { Db, Trx } from '../../db/index.ts';
import { cancelQueuedForBlocked } from '../followups/followups.service.ts';
import { toLineEvent, type LineEvent, type ParsedWebhook } from '../../integrations/line/webhook.ts';
import { isSaneDate } from '../../shared/safe-input.ts';
import { PermanentInboxError, receiveWebhooks, type InboxRow } from '../webhooks/inbox.service.ts';
import { linkMember, receiveMessage } from '../conversations/conversations.service.ts';
import * as repo from './line.repository.ts';

export const LINE_INBOX_SOURCE = 'line';

export interface LineReceipt {
	stored: number;
	duplicates: number;
}

/** All events of one callback in one statement: a bad event cannot leave the ones after it unstored. */
export async function receiveLineEvents(db: Db, parsed: ParsedWebhook, wakeInbox: () => void): Promise<LineReceipt> {
	const stored = await receiveWebhooks(
		db,
		parsed.events.map(({ event, raw }) => ({ source: LINE_INBOX_SOURCE, externalId: event.eventId, topic: event.kind, payload: raw }))
	);
	if (stored > 0) wakeInbox();
	return { stored, duplicates: parsed.events.length - stored };
}

/** The inbox handler for source 'line' (registered in server/jobs/registry.ts). */
export async function handleLineInboxRow(trx: Trx, row: InboxRow): Promise<void> {
	const event = toLineEvent(row.payload);
	if (!event) throw new PermanentInboxError('not a LINE event Tsunagu handles');
	// retrying cannot fix a timestamp outside 1900–2100: park it at once
	if (!isSaneDate(event.at)) throw new PermanentInboxError(`timestamp out of range: ${String((row.payload as { timestamp?: unknown }).timestamp).slice(0, 40)}`);
	await applyLineEvent(trx, event);
}

export async function applyLineEvent(trx: Trx, event: LineEvent): Promise<void> {
	const customerId = await repo.findCustomerIdByLineUser(trx, event.userId);
	const fresh = await repo.insertLineEvent(trx, {
		webhookEventId: event.eventId,
		lineUserId: event.userId,
		customerId,
		type: event.kind === 'message' ? `message:${event.messageType}` : event.kind,
		text: event.kind === 'message' ? (event.text ?? event.content.text) : null,
		at: event.at
	});
	// Every message also lands in the sender's conversation (members and not-yet-members alike).
	if (fresh && event.kind === 'message') {
		await receiveMessage(trx, { eventId: event.eventId, lineUserId: event.userId, at: event.at, replyToken: event.replyToken, content: event.content }, customerId, new Date());
	}
	// Already in the timeline: this exact event was applied before.
	if (!fresh || !customerId) return;
	if (event.kind === 'follow') {
		await repo.applyLineStatus(trx, customerId, true, event.at);
	} else if (event.kind === 'unfollow') {
		if (await repo.applyLineStatus(trx, customerId, false, event.at)) {
			await cancelQueuedForBlocked(trx, customerId);
		}
	}
}

/** Applies what LINE told us about a user before they linked (follow/unfollow) to their new record. */
export async function adoptEarlierLineStatus(trx: Trx, customerId: string, lineUserId: string): Promise<void> {
	await linkMember(trx, lineUserId, customerId);
	const latest = await repo.latestFollowEvent(trx, lineUserId);
	if (!latest) return;
	const friend = latest.type === 'follow';
	if ((await repo.applyLineStatus(trx, customerId, friend, latest.occurred_at)) && !friend) {
		await cancelQueuedForBlocked(trx, customerId);
	}
}

export { deleteLineEventsOf } from './line.repository.ts';
/** Merge support: the owning repository's "reassign customer" function (server/modules/identity/merge.service.ts). */
export { reassignLineEvents } from './line.repository.ts';
