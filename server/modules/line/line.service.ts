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
import { PermanentInboxError, receiveWebhooks, type InboxHandler, type InboxRow } from '../webhooks/inbox.service.ts';
import { linkMember, receiveMessages } from '../conversations/conversations.service.ts';
import { applyLineStatus } from '../customers/customers.service.ts';
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

function eventOf(row: InboxRow): LineEvent {
	const event = toLineEvent(row.payload);
	if (!event) throw new PermanentInboxError('not a LINE event Tsunagu handles');
	// retrying cannot fix a timestamp outside 1900–2100: park it at once
	if (!isSaneDate(event.at)) throw new PermanentInboxError(`timestamp out of range: ${String((row.payload as { timestamp?: unknown }).timestamp).slice(0, 40)}`);
	return event;
}

/**
 * The inbox handler for source 'line' (registered in server/jobs/registry.ts). A claimed batch
 * is applied set-based in one call (`batch`); a single row — the inbox's fallback when a batch
 * fails, so a poison row is parked on its own — goes through the same code as a batch of one.
 */
export const handleLineInboxRow: InboxHandler = Object.assign(async (trx: Trx, row: InboxRow) => applyLineEvents(trx, [eventOf(row)]), {
	batch: async (trx: Trx, rows: InboxRow[]) => applyLineEvents(trx, rows.map(eventOf))
});

export async function applyLineEvent(trx: Trx, event: LineEvent): Promise<void> {
	await applyLineEvents(trx, [event]);
}

/**
 * Applies events (in received order) as processing them one by one would, in a fixed handful
 * of statements: customers resolved together, timeline rows inserted together (the insert's
 * conflicts tell which events are new), every new message stored in its conversation together;
 * follow/unfollow — rare, and order-sensitive per customer — one at a time.
 */
export async function applyLineEvents(trx: Trx, events: LineEvent[]): Promise<void> {
	if (events.length === 0) return;
	const customers = await repo.findCustomerIdsByLineUsers(trx, [...new Set(events.map((e) => e.userId))]);
	const customerOf = (e: LineEvent) => customers.get(e.userId) ?? null;
	const inserted = await repo.insertLineEvents(
		trx,
		events.map((event) => ({
			webhookEventId: event.eventId,
			lineUserId: event.userId,
			customerId: customerOf(event),
			type: event.kind === 'message' ? `message:${event.messageType}` : event.kind,
			text: event.kind === 'message' ? (event.text ?? event.content.text) : null,
			at: event.at
		}))
	);
	// Already in the timeline: that exact event was applied before (or earlier in this batch).
	const fresh = events.filter((e) => inserted.delete(e.eventId));
	// Every message also lands in the sender's conversation (members and not-yet-members alike).
	const messages = fresh.filter((e) => e.kind === 'message');
	await receiveMessages(
		trx,
		messages.map((e) => ({ eventId: e.eventId, lineUserId: e.userId, at: e.at, replyToken: e.replyToken, content: e.content, customerId: customerOf(e) })),
		new Date()
	);
	for (const event of fresh) {
		const customerId = customerOf(event);
		if (!customerId) continue;
		if (event.kind === 'follow') {
			await applyLineStatus(trx, customerId, true, event.at);
		} else if (event.kind === 'unfollow') {
			if (await applyLineStatus(trx, customerId, false, event.at)) {
				await cancelQueuedForBlocked(trx, customerId);
			}
		}
	}
}

/** Applies what LINE told us about a user before they linked (follow/unfollow) to their new record. */
export async function adoptEarlierLineStatus(trx: Trx, customerId: string, lineUserId: string): Promise<void> {
	await linkMember(trx, lineUserId, customerId);
	const latest = await repo.latestFollowEvent(trx, lineUserId);
	if (!latest) return;
	const friend = latest.type === 'follow';
	if ((await applyLineStatus(trx, customerId, friend, latest.occurred_at)) && !friend) {
		await cancelQueuedForBlocked(trx, customerId);
	}
}

export { deleteLineEventsOf } from './line.repository.ts';
/** Merge support: the owning repository's "reassign customer" function (server/modules/identity/merge.service.ts). */
export { reassignLineEvents } from './line.repository.ts';
