/**
 * Two-way LINE conversations: a customer's message is stored and routed (receive), staff see
 * the conversations they may (list/open, audited like a profile view) and answer — with the
 * free reply API while the customer's reply token is fresh and unused, else as a counted push
 * through the follow-up outbox. Every service method starts with its access check.
 */
import { randomUUID } from 'node:crypto';
import * as v from 'valibot';
import type { Db, DbOrTrx, Trx } from '../../db/index.ts';
import { badRequest, conflict, forbidden, notFound } from '../../errors.ts';
import type { StaffPrincipal } from '../../http/context.ts';
import type { Logger } from '../../logger.ts';
import { displayNameOf, markAsRead, readQuota, replyWithToken, type ConversationApiClient } from '../../integrations/line/conversation-api.ts';
import type { InboundContent } from '../../integrations/line/message-content.ts';
import { recordCustomerAccess } from '../audit/audit.service.ts';
import { recordConversationAnswer } from '../contact/contact.service.ts';
import {
	lastFollowUpSenders,
	productCard,
	pushesSince,
	queueConversationPush,
	senderAndProducts
} from '../followups/followups.service.ts';
import { buildLineMessages, MAX_TEXT_LENGTH } from '../../integrations/line/flex.ts';
import { renderTemplate } from '../followups/messages.ts';
import { createLinks, mintLinkCode, trackedLinkUrl, type NewTrackedLink } from '../links/links.service.ts';
import { defineSetting, readSetting } from '../settings/settings.service.ts';
import * as repo from './conversations.repository.ts';
import type { ConversationChange } from './events.ts';
import { chooseDelivery, deliveryLabel, monthStartJst, projectMonthEnd, pushesStopped, routeMessage, type DeliveryChoice, type Route } from './rules.ts';

// ---- brand settings (declared next to the code that reads them) ----

export const ROUTING_WINDOW_DAYS = defineSetting('conversations.routingWindowDays', v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(365)), 30);
/** LINE keeps a reply token about a minute; 50 s leaves room for the request itself. */
export const REPLY_WINDOW_SECONDS = defineSetting('conversations.replyWindowSeconds', v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(60)), 50);
export const MARK_AS_READ = defineSetting('conversations.markAsRead', v.boolean(), false);
/** Personal pushes stop at this share of the monthly plan (free replies keep working). */
export const PUSH_CAP_SHARE = defineSetting('conversations.pushCapShare', v.pipe(v.number(), v.minValue(0.1), v.maxValue(1)), 0.95);

export const CONVERSATION_SETTINGS = [ROUTING_WINDOW_DAYS, REPLY_WINDOW_SECONDS, MARK_AS_READ, PUSH_CAP_SHARE] as const;

export interface ConversationContext {
	db: Db;
	client: ConversationApiClient;
	publicBaseUrl: string;
	now: () => Date;
	logger: Logger;
	/** Pokes the push worker after a push was queued (deps.wake.outbox). */
	wakeOutbox: () => void;
}

// ---- receiving ----

export interface IncomingMessage {
	eventId: string;
	lineUserId: string;
	at: Date;
	replyToken: string | null;
	content: InboundContent;
	/** The member behind the LINE user, or null for a LINE user who has not joined. */
	customerId: string | null;
}

/**
 * Stores customers' messages (in received order) in their conversations inside the inbox
 * transaction and announces them to the event streams on commit; idempotent per webhook event.
 * A conversation is created and routed on its first message, and routed again when a closed
 * one (nothing unread) is reopened. Set-based — the same statements for one message or a
 * claimed batch — leaving the state that storing them one at a time would.
 */
export async function receiveMessages(trx: Trx, messages: IncomingMessage[], now: Date): Promise<void> {
	if (messages.length === 0) return;
	const conversations = await conversationsFor(trx, messages, now);
	const stored = await repo.insertInbounds(
		trx,
		messages.map((m) => ({
			conversationId: conversations.get(m.lineUserId)!.id,
			webhookEventId: m.eventId,
			kind: m.content.kind,
			text: m.content.text,
			details: m.content.details,
			replyToken: m.replyToken,
			markAsReadToken: m.content.markAsReadToken,
			at: m.at
		}))
	);
	// per conversation: how many are new, and the newest (a later one wins a tie, as one by one)
	const summaries = new Map<string, repo.InboundSummary>();
	for (const m of messages) {
		if (!stored.delete(m.eventId)) continue;
		const id = conversations.get(m.lineUserId)!.id;
		const s = summaries.get(id);
		if (!s) summaries.set(id, { id, count: 1, at: m.at, preview: preview(m.content.text) });
		else {
			s.count++;
			if (m.at >= s.at) Object.assign(s, { at: m.at, preview: preview(m.content.text) });
		}
	}
	await repo.recordInbounds(trx, [...summaries.values()]);
	const changed = [...conversations.values()].filter((c) => summaries.has(c.id));
	await repo.notifyChanges(trx, changed.map((c) => ({ conversationId: c.id, staffId: c.assigned_staff_id, storeId: c.store_id, kind: 'message' as const })));
}

type Routed = { id: string; assigned_staff_id: string | null; store_id: string | null };

/**
 * The conversation of each LINE user, created or reopened (and routed) where needed; locked.
 * Missing ones are inserted before any row is locked, and everything is then locked in
 * line-user order: a lane that waits on another lane's new row holds no row lock that lane may
 * want, so concurrent batches queue instead of deadlocking (a deadlock costs a second and sends
 * the batch one row at a time).
 */
async function conversationsFor(trx: Trx, messages: IncomingMessage[], now: Date): Promise<Map<string, Routed>> {
	const customerOf = new Map(messages.map((m) => [m.lineUserId, m.customerId]));
	const lineUsers = [...customerOf.keys()];
	const seen = new Set((await repo.conversationLineUsers(trx, lineUsers)).map((c) => c.line_user_id));
	const missing = lineUsers.filter((u) => !seen.has(u));
	const routes = await routesFor(trx, missing.map((u) => customerOf.get(u) ?? null), now);
	const targetOf = (u: string) => targetOfRoute(routes.get(customerOf.get(u) ?? null)!);
	// a concurrent creator's row wins (with its routing): the lock below reads what is there
	await repo.insertConversations(trx, missing.map((u) => ({ lineUserId: u, customerId: customerOf.get(u) ?? null, ...targetOf(u) })));
	const found = new Map((await repo.lockConversationsByLineUsers(trx, lineUsers)).map((c) => [c.line_user_id, c as Routed & { status: string; unread_count: number }]));
	// a closed conversation with nothing unread is routed again by its next message
	const reopened = lineUsers.filter((u) => found.get(u)!.status === 'done' && found.get(u)!.unread_count === 0);
	if (reopened.length === 0) return found;
	for (const [customerId, route] of await routesFor(trx, reopened.map((u) => customerOf.get(u) ?? null), now)) routes.set(customerId, route);
	await repo.reassignMany(trx, reopened.map((u) => ({ id: found.get(u)!.id, ...targetOf(u) })));
	for (const u of reopened) {
		const { staffId, storeId } = targetOf(u);
		found.set(u, { ...found.get(u)!, assigned_staff_id: staffId, store_id: storeId });
	}
	return found;
}

function targetOfRoute(route: Route): { staffId: string | null; storeId: string | null } {
	if (route.to === 'staff') return { staffId: route.staffId, storeId: route.storeId };
	if (route.to === 'store') return { staffId: null, storeId: route.storeId };
	return { staffId: null, storeId: null };
}

/** The route of a new message for each customer (null: a LINE user who is not a member), in a few queries. */
async function routesFor(db: DbOrTrx, customerIds: Array<string | null>, now: Date): Promise<Map<string | null, Route>> {
	const routes = new Map<string | null, Route>();
	if (customerIds.length === 0) return routes;
	const windowDays = await readSetting(db, ROUTING_WINDOW_DAYS);
	if (customerIds.includes(null)) routes.set(null, routeMessage({ lastSender: null, owner: null, homeStoreId: null, isMember: false }, now, windowDays));
	const ids = [...new Set(customerIds.filter((id) => id !== null))];
	if (ids.length === 0) return routes;
	const customers = await repo.customerFactsMany(db, ids);
	const answers = new Map((await repo.lastAnswerers(db, ids)).map((a) => [a.customer_id!, a]));
	const followUps = new Map((await lastFollowUpSenders(db, ids)).map((f) => [f.customer_id, f]));
	const lastOf = new Map<string, { staffId: string; storeId: string | null; at: Date }>();
	for (const id of ids) {
		const answer = answers.get(id);
		const followUp = followUps.get(id);
		const candidates = [
			answer?.staff_id ? { staffId: answer.staff_id, storeId: answer.store_id, at: new Date(answer.occurred_at) } : null,
			followUp ? { staffId: followUp.staff_id, storeId: followUp.store_id, at: new Date(followUp.created_at) } : null
		].filter((c) => c !== null);
		const last = candidates.sort((a, b) => b.at.getTime() - a.at.getTime())[0];
		if (last) lastOf.set(id, last);
	}
	const staffIds = new Set([...lastOf.values()].map((l) => l.staffId));
	for (const c of customers) if (c.owner_staff_id) staffIds.add(c.owner_staff_id);
	const staff = new Map((await repo.staffFactsMany(db, [...staffIds])).map((s) => [s.id, s]));
	const byId = new Map(customers.map((c) => [c.id, c]));
	for (const id of ids) {
		const customer = byId.get(id);
		const last = lastOf.get(id) ?? null;
		const owner = customer?.owner_staff_id ? staff.get(customer.owner_staff_id) : undefined;
		routes.set(
			id,
			routeMessage(
				{
					lastSender: last ? { ...last, active: staff.get(last.staffId)?.active ?? false } : null,
					owner: owner ? { staffId: owner.id, storeId: owner.home_store_id, active: owner.active } : null,
					homeStoreId: customer?.home_store_id ?? null,
					isMember: true
				},
				now,
				windowDays
			)
		);
	}
	return routes;
}

/** A LINE user who wrote before joining is now a member: their conversation becomes the customer's. */
export async function linkMember(trx: Trx, lineUserId: string, customerId: string): Promise<void> {
	const linked = await repo.linkCustomer(trx, lineUserId, customerId);
	if (linked) await repo.notifyChange(trx, { conversationId: linked.id, staffId: linked.assigned_staff_id, storeId: linked.store_id, kind: 'handover' });
}

const preview = (text: string) => ([...text].length > 80 ? [...text].slice(0, 79).join('') + '…' : text);

// ---- access ----

type Conversation = NonNullable<Awaited<ReturnType<typeof repo.findConversation>>>;

/** staff: their own and their store's queue; managers: their own, their store and the brand queue; admins: all. */
export function canSee(staff: StaffPrincipal, c: { assigned_staff_id: string | null; store_id: string | null }): boolean {
	if (staff.role === 'admin') return true;
	if (staff.role === 'manager') return c.assigned_staff_id === staff.id || c.store_id === staff.storeId || (c.store_id === null && c.assigned_staff_id === null);
	return c.assigned_staff_id === staff.id || (c.assigned_staff_id === null && c.store_id === staff.storeId);
}

/** Whether a change concerns this staff member's list or badge (for the event streams). */
export function concerns(staff: StaffPrincipal, change: ConversationChange): boolean {
	return (
		canSee(staff, { assigned_staff_id: change.staffId, store_id: change.storeId }) ||
		(change.previousStaffId !== undefined && canSee(staff, { assigned_staff_id: change.previousStaffId ?? null, store_id: change.previousStoreId ?? null }))
	);
}

async function visibleConversation(db: DbOrTrx, staff: StaffPrincipal, id: string): Promise<Conversation> {
	const c = await repo.findConversation(db, id);
	if (!c) throw notFound('conversation_not_found', 'No such conversation');
	if (!canSee(staff, c)) throw forbidden('conversation_forbidden', 'This conversation belongs to another staff member or store');
	return c;
}

// ---- reading ----

export type ListTab = 'mine' | 'store' | 'unassigned';

/** Names LINE users who wrote before becoming members (a few per list, from LINE's profile API). */
const NAMES_PER_LIST = 5;

/** What each tab lists for whom: mine; my store's queue (staff) or my store (managers; admins: all); the brand queue. */
function listFilter(staff: StaffPrincipal, tab: ListTab): repo.ListFilter {
	if (tab === 'mine') return { kind: 'assignee', staffId: staff.id };
	if (tab === 'unassigned') {
		if (staff.role === 'staff') throw forbidden('forbidden', 'The unassigned queue is for managers');
		return { kind: 'brand_queue' };
	}
	if (staff.role === 'admin') return { kind: 'all' };
	return staff.role === 'manager' ? { kind: 'store', storeId: staff.storeId } : { kind: 'store_queue', storeId: staff.storeId };
}

const PAGE_SIZE = 100;

export function encodeCursor(c: repo.ListCursor): string {
	return Buffer.from(JSON.stringify([c.unread ? 1 : 0, c.at, c.id])).toString('base64url');
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}(:?\d{2})?)$/;

function decodeCursor(text: string): repo.ListCursor {
	try {
		const [unread, at, id] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as [unknown, unknown, unknown];
		if ((unread === 0 || unread === 1) && typeof at === 'string' && TIMESTAMP.test(at) && typeof id === 'string' && /^[0-9a-f-]{36}$/i.test(id)) {
			return { unread: unread === 1, at, id };
		}
	} catch {
		// falls through to the 400
	}
	throw badRequest('validation_failed', 'Not a page cursor', { cursor: 'invalid' });
}

/** A page of a tab (unread first, newest first) and the cursor of the next page, if any. */
export async function listConversations(ctx: ConversationContext, staff: StaffPrincipal, tab: ListTab, cursor?: string) {
	const rows = await repo.listConversations(ctx.db, listFilter(staff, tab), PAGE_SIZE, cursor ? decodeCursor(cursor) : null);
	for (const r of rows.filter((r) => !r.customer_id && !r.display_name).slice(0, NAMES_PER_LIST)) {
		const name = await displayNameOf(ctx.client, r.line_user_id);
		if (name) {
			await repo.setDisplayName(ctx.db, r.id, name);
			r.display_name = name;
		}
	}
	const last = rows.at(-1);
	// the database's own text of the time: a JS Date would drop its microseconds and skip rows
	const nextCursor = rows.length === PAGE_SIZE && last?.cursor_at ? encodeCursor({ unread: last.unread_count > 0, at: last.cursor_at, id: last.id }) : null;
	const conversations = rows.map((r) => ({
		id: r.id,
		customerId: r.customer_id,
		name: [r.family_name, r.given_name].filter(Boolean).join(' ') || r.display_name || 'LINEユーザー',
		memberNo: r.member_no,
		isMember: r.customer_id !== null,
		assignedStaffId: r.assigned_staff_id,
		assignedStaffName: r.staff_name,
		storeId: r.store_id,
		status: r.status,
		unread: r.unread_count,
		lastMessageAt: iso(r.last_message_at),
		preview: r.last_message_preview ?? ''
	}));
	return { conversations, nextCursor };
}

export interface UnreadBadge {
	unread: number;
	conversations: number;
}

/** The badge: unread messages (and conversations) of exactly the conversations this staff member may see. */
export async function unreadBadge(db: DbOrTrx, staff: StaffPrincipal): Promise<UnreadBadge> {
	return (await unreadBadges(db, [staff]))[0];
}

/** Several staff members' badges from one query (the event streams of a process answer together). */
export async function unreadBadges(db: DbOrTrx, staff: StaffPrincipal[]): Promise<UnreadBadge[]> {
	if (staff.length === 0) return [];
	const groups = await repo.unreadGroups(
		db,
		[...new Set(staff.map((s) => s.id))],
		[...new Set(staff.map((s) => s.storeId))],
		staff.some((s) => s.role === 'admin')
	);
	return staff.map((s) =>
		groups.reduce((badge, g) => (canSee(s, g) ? { unread: badge.unread + g.unread, conversations: badge.conversations + g.conversations } : badge), { unread: 0, conversations: 0 })
	);
}

/** Opens a conversation: audited like a profile view, unread cleared, LINE read marks when the brand wants them. */
export async function openConversation(ctx: ConversationContext, staff: StaffPrincipal, id: string) {
	const c = await visibleConversation(ctx.db, staff, id);
	if (c.customer_id) await recordCustomerAccess(ctx.db, staff, 'conversation.view', [c.customer_id], 'conversation');
	const read = await repo.markConversationRead(ctx.db, c.id);
	if (read.wasUnread) await repo.notifyChange(ctx.db, { conversationId: c.id, staffId: c.assigned_staff_id, storeId: c.store_id, kind: 'read' });
	if (read.token && (await readSetting(ctx.db, MARK_AS_READ)) && (await markAsRead(ctx.client, read.token.token))) {
		await repo.recordReadMark(ctx.db, c.id, read.token.id);
	}
	return conversationView(ctx, staff, c);
}

/** The conversation of a customer (for the profile page), or null when they never wrote. */
export async function conversationOfCustomer(ctx: ConversationContext, staff: StaffPrincipal, customerId: string) {
	const c = await repo.findConversationByCustomer(ctx.db, customerId);
	if (!c) return null;
	if (!canSee(staff, c)) return { id: c.id, visible: false as const };
	return { id: c.id, visible: true as const };
}

async function conversationView(ctx: ConversationContext, staff: StaffPrincipal, c: Conversation) {
	const [messages, handovers, compose] = await Promise.all([
		repo.listMessages(ctx.db, c.id, 100),
		repo.listHandovers(ctx.db, c.id),
		composeState(ctx, c)
	]);
	const customer = c.customer_id ? await repo.customerFacts(ctx.db, c.customer_id) : null;
	return {
		id: c.id,
		customerId: c.customer_id,
		name: (customer && [customer.family_name, customer.given_name].filter(Boolean).join(' ')) || c.display_name || 'LINEユーザー',
		memberNo: customer?.member_no ?? null,
		status: c.status,
		assignedStaffId: c.assigned_staff_id,
		storeId: c.store_id,
		mine: c.assigned_staff_id === staff.id,
		messages: messages.map((m) => ({
			id: m.id,
			direction: m.direction,
			kind: m.kind,
			text: m.text,
			staffName: m.staff_name,
			delivery: m.delivery,
			state: outboundState(m.state, m.push_status),
			failureReason: m.failure_reason ?? m.push_failure,
			readMarked: m.read_marked_at !== null,
			clientId: m.client_id,
			cards: cardsOf(m.messages),
			at: iso(m.occurred_at)!
		})),
		handovers: handovers.map((h) => ({ id: h.id, from: h.from_name, to: h.to_name ?? h.to_store_name, note: h.note, at: iso(h.created_at)! })),
		compose
	};
}

function outboundState(state: string | null, pushStatus: string | null): string | null {
	if (!state) return null;
	if (state === 'queued' && pushStatus) return pushStatus === 'sent' ? 'sent' : pushStatus === 'failed' || pushStatus === 'cancelled' ? 'failed' : 'queued';
	return state;
}

function cardsOf(messages: unknown): Array<{ altText: string }> {
	const list = (typeof messages === 'string' ? JSON.parse(messages) : messages) as Array<{ type?: string; altText?: string }> | null;
	return (list ?? []).filter((m) => m.type === 'flex').map((m) => ({ altText: m.altText ?? '' }));
}

/** What the compose box says: free reply (with seconds left) or counted push, or why nothing can go. */
export async function composeState(ctx: ConversationContext, c: Conversation) {
	const now = ctx.now();
	const [windowSeconds, token] = await Promise.all([readSetting(ctx.db, REPLY_WINDOW_SECONDS), repo.latestOpenToken(ctx.db, c.id)]);
	const choice = chooseDelivery(
		token?.reply_token_at ? { at: new Date(token.reply_token_at), used: token.reply_token_used_at !== null } : null,
		now,
		windowSeconds
	);
	const blocked = await blockReason(ctx.db, c);
	const quota = await quotaStatus(ctx.db, now);
	const pushStop = choice.delivery === 'push' ? (quota.stopped ? 'quota_cap' : !c.customer_id ? 'not_member' : null) : null;
	return {
		delivery: choice.delivery,
		secondsLeft: choice.delivery === 'reply' ? choice.secondsLeft : null,
		/**
		 * When the free window closes (the tablet counts down without asking again): the exact
		 * instant the send path uses, not now + whole seconds left — that ran up to a second early,
		 * so a send the tablet announced as a push could still go out as a free reply.
		 */
		replyDeadline: choice.delivery === 'reply' && token?.reply_token_at ? new Date(new Date(token.reply_token_at).getTime() + windowSeconds * 1000).toISOString() : null,
		label: deliveryLabel(choice),
		blocked,
		pushStopped: pushStop,
		quota: { limit: quota.limit, used: quota.used, capShare: quota.capShare }
	};
}

async function blockReason(db: DbOrTrx, c: Conversation): Promise<'blocked' | 'merged' | null> {
	if (!c.customer_id) return null;
	const customer = await repo.customerFacts(db, c.customer_id);
	if (!customer) return null;
	if (customer.merged_into) return 'merged';
	if (customer.line_blocked_at || !customer.line_friend) return 'blocked';
	return null;
}

// ---- answering ----

export interface ReplyInput {
	clientId: string;
	text: string;
	templateKey?: string | null;
	productIds: number[];
}

/**
 * Sends a staff answer, once per client id (a double tap or a replay of the tablet's outbox
 * returns the first result). Free reply when a fresh token can be claimed; if LINE refuses the
 * token, or none is left, a push through the outbox — exactly once, since the message row is
 * only ever moved from 'sending' by this call.
 */
export async function reply(ctx: ConversationContext, staff: StaffPrincipal, conversationId: string, input: ReplyInput) {
	const c = await visibleConversation(ctx.db, staff, conversationId);
	const existing = await repo.findOutboundByClientId(ctx.db, input.clientId);
	if (existing) {
		if (existing.conversation_id !== c.id || existing.staff_id !== staff.id) throw conflict('id_in_use', 'This id belongs to another message');
		return { created: false, message: existing };
	}
	const blocked = await blockReason(ctx.db, c);
	if (blocked) throw conflict(`recipient_${blocked}`, 'This customer has blocked the account; nothing was sent');
	const text = input.text.trim();
	if (!text) throw badRequest('validation_failed', 'The message is empty', { text: 'required' });
	if ([...text].length > MAX_TEXT_LENGTH) throw badRequest('validation_failed', 'The message is too long', { text: `max ${MAX_TEXT_LENGTH}` });
	const { sender, senderRow, products } = await senderAndProducts(ctx.db, staff, input.productIds);
	const customer = c.customer_id ? await repo.customerFacts(ctx.db, c.customer_id) : null;
	const rendered = renderTemplate(text, {
		customerName: (customer && [customer.family_name, customer.given_name].filter(Boolean).join(' ')) || c.display_name || 'お客',
		staffName: senderRow.display_name,
		storeName: senderRow.store_name ?? ''
	});
	// Product links are tracked links owned by this staff member, exactly like a follow-up's.
	const links: NewTrackedLink[] = products.map((p) => ({
		code: mintLinkCode(),
		follow_up_id: null,
		staff_id: staff.id,
		store_id: staff.storeId,
		customer_id: c.customer_id,
		product_id: p.id,
		target_url: p.ec_url!
	}));
	const messages = buildLineMessages(rendered, sender, products.map((p, i) => productCard(p, trackedLinkUrl(ctx.publicBaseUrl, links[i].code))));
	const now = ctx.now();
	const id = await ctx.db.transaction().execute(async (trx) => {
		const inserted = await repo.insertOutbound(trx, { conversationId: c.id, clientId: input.clientId, staffId: staff.id, storeId: staff.storeId, text: rendered, messages, at: now });
		if (inserted !== null) await createLinks(trx, links);
		// a service reply: shown as the customer's last contact, never counted against the contact limits
		if (inserted !== null && c.customer_id) await recordConversationAnswer(trx, { customerId: c.customer_id, staffId: staff.id, storeId: staff.storeId, at: now });
		return inserted;
	});
	if (id === null) {
		// the same client id won a race with this call a moment ago
		const first = await repo.findOutboundByClientId(ctx.db, input.clientId);
		return { created: false, message: first! };
	}
	const outcome = await deliver(ctx, staff, c, id, rendered, messages, now);
	await repo.recordOutboundPreview(ctx.db, c.id, preview(rendered), now);
	await repo.notifyChange(ctx.db, { conversationId: c.id, staffId: c.assigned_staff_id, storeId: c.store_id, kind: 'sent' });
	return { created: true, message: { id, ...outcome } };
}

async function deliver(
	ctx: ConversationContext,
	staff: StaffPrincipal,
	c: Conversation,
	messageId: number,
	text: string,
	messages: unknown[],
	now: Date
): Promise<{ delivery: 'reply' | 'push' | null; state: string; failure_reason: string | null }> {
	const windowSeconds = await readSetting(ctx.db, REPLY_WINDOW_SECONDS);
	const token = await repo.claimReplyToken(ctx.db, c.id, windowSeconds, now);
	if (token) {
		const outcome = await replyWithToken(ctx.client, token, messages);
		if (outcome.kind === 'sent') {
			await repo.updateOutbound(ctx.db, messageId, { delivery: 'reply', state: 'sent' });
			return { delivery: 'reply', state: 'sent', failure_reason: null };
		}
		if (outcome.kind !== 'token_refused') {
			// Refused for another reason, or no answer: a push now might be a second copy.
			const reason = outcome.kind === 'unknown' ? `reply_unconfirmed: ${outcome.reason}` : outcome.reason;
			await repo.updateOutbound(ctx.db, messageId, { delivery: 'reply', state: 'failed', failureReason: reason });
			ctx.logger.warn({ conversationId: c.id, outcome: outcome.kind }, 'conversation reply not sent');
			return { delivery: 'reply', state: 'failed', failure_reason: reason };
		}
		// The token was refused (expired or used): the message did not go out, so push it — once.
	}
	return pushInstead(ctx, staff, c, messageId, text, messages, now);
}

async function pushInstead(ctx: ConversationContext, staff: StaffPrincipal, c: Conversation, messageId: number, text: string, messages: unknown[], now: Date) {
	const refuse = async (reason: string) => {
		await repo.updateOutbound(ctx.db, messageId, { delivery: 'push', state: 'refused', failureReason: reason });
		return { delivery: 'push' as const, state: 'refused', failure_reason: reason };
	};
	if (!c.customer_id) return refuse('not_member');
	if ((await quotaStatus(ctx.db, now)).stopped) return refuse('quota_cap');
	const followUpId = randomUUID();
	await ctx.db.transaction().execute(async (trx) => {
		await queueConversationPush(trx, { id: followUpId, customerId: c.customer_id!, staffId: staff.id, storeId: staff.storeId, body: text, messages });
		await repo.updateOutbound(trx, messageId, { delivery: 'push', state: 'queued', followUpId });
	});
	ctx.wakeOutbox();
	return { delivery: 'push' as const, state: 'queued', failure_reason: null };
}

// ---- closing and handing over ----

export async function setStatus(db: Db, staff: StaffPrincipal, id: string, status: 'open' | 'done') {
	const c = await visibleConversation(db, staff, id);
	await repo.setStatus(db, c.id, status);
	await repo.notifyChange(db, { conversationId: c.id, staffId: c.assigned_staff_id, storeId: c.store_id, kind: 'status' });
	return { id: c.id, status };
}

export async function handOver(db: Db, staff: StaffPrincipal, id: string, to: { staffId?: string | null; storeId?: string | null; note: string }) {
	const c = await visibleConversation(db, staff, id);
	let target: { staffId: string | null; storeId: string | null };
	if (to.staffId) {
		const s = await repo.staffFacts(db, to.staffId);
		if (!s || !s.active) throw badRequest('unknown_staff', 'No such active staff member', { staffId: 'unknown' });
		target = { staffId: s.id, storeId: s.home_store_id };
	} else if (to.storeId) {
		target = { staffId: null, storeId: to.storeId };
	} else throw badRequest('validation_failed', 'Choose a staff member or a store', { staffId: 'required' });
	await db.transaction().execute(async (trx) => {
		await repo.reassign(trx, c.id, target.staffId, target.storeId);
		await repo.insertHandover(trx, { conversationId: c.id, fromStaffId: staff.id, toStaffId: target.staffId, toStoreId: target.storeId, note: to.note });
		await repo.notifyChange(trx, {
			conversationId: c.id,
			staffId: target.staffId,
			storeId: target.storeId,
			previousStaffId: c.assigned_staff_id,
			previousStoreId: c.store_id,
			kind: 'handover'
		});
	});
	return { id: c.id, assignedStaffId: target.staffId, storeId: target.storeId };
}

// ---- quota ----

export async function quotaStatus(db: DbOrTrx, now: Date) {
	const since = monthStartJst(now);
	const [snapshot, ownPushes, capShare] = await Promise.all([repo.latestQuotaSnapshot(db, since), pushesSince(db, since), readSetting(db, PUSH_CAP_SHARE)]);
	// LINE's own count lags a little; our pushes since are a floor for it.
	const used = Math.max(snapshot?.total_usage ?? 0, ownPushes);
	const limit = snapshot?.plan_limit ?? null;
	return { limit, used, capShare, stopped: pushesStopped({ limit, used }, capShare), checkedAt: snapshot ? iso(snapshot.taken_at) : null };
}

/** Polls LINE's quota and consumption (the quota worker). */
export async function pollQuota(db: DbOrTrx, client: ConversationApiClient): Promise<void> {
	const q = await readQuota(client);
	await repo.insertQuotaSnapshot(db, { planType: q.planType, limit: q.limit, totalUsage: q.totalUsage });
}

/** The manager view: usage vs plan, projection to month end, share of free replies, per store and staff. */
export async function quotaReport(db: Db, staff: StaffPrincipal, now: Date) {
	const status = await quotaStatus(db, now);
	const rows = await repo.answerCounts(db, monthStartJst(now));
	const visible = staff.role === 'admin' ? rows : rows.filter((r) => r.store_id === staff.storeId);
	const free = visible.reduce((s, r) => s + r.free_replies, 0);
	const pushes = visible.reduce((s, r) => s + r.pushes, 0);
	return {
		plan: { limit: status.limit, used: status.used, capShare: status.capShare, stopped: status.stopped, checkedAt: status.checkedAt },
		projection: projectMonthEnd(status.used, now),
		answers: { freeReplies: free, pushes, freeShare: free + pushes === 0 ? null : free / (free + pushes) },
		byStaff: visible.map((r) => ({ storeId: r.store_id, storeName: r.store_name, staffId: r.staff_id, staffName: r.staff_name, freeReplies: r.free_replies, pushes: r.pushes }))
	};
}

export type { DeliveryChoice };

const iso = (d: Date | string | null | undefined) => (d == null ? null : new Date(d).toISOString());

export { eraseConversationsOf } from './conversations.repository.ts';
/** Merge support: the owning repository's "reassign customer" function (server/modules/identity/merge.service.ts). */
export { reassignConversations } from './conversations.repository.ts';
