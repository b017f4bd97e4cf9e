/**
 * Every client call of two-way LINE conversations (/api/conversations/*), in one file so the
 * typed client can take them over in one place. The badge stream is read with fetch (an
 * EventSource cannot send the session's Authorization header).
 */
import { api, ApiError, call } from './client.ts';
import { credentials } from './credentials.svelte.ts';

export type ConversationTab = 'mine' | 'store' | 'unassigned';

export interface ConversationSummary {
	id: string;
	customerId: string | null;
	name: string;
	memberNo: string | null;
	isMember: boolean;
	assignedStaffId: string | null;
	assignedStaffName: string | null;
	storeId: string | null;
	status: 'open' | 'done';
	unread: number;
	lastMessageAt: string | null;
	preview: string;
}

export interface ConversationMessage {
	id: number;
	direction: 'in' | 'out';
	kind: string;
	text: string;
	staffName: string | null;
	delivery: 'reply' | 'push' | null;
	state: string | null;
	failureReason: string | null;
	readMarked: boolean;
	clientId: string | null;
	cards: Array<{ altText: string }>;
	at: string;
}

export interface ComposeState {
	delivery: 'reply' | 'push';
	secondsLeft: number | null;
	replyDeadline: string | null;
	label: string;
	blocked: 'blocked' | 'merged' | null;
	pushStopped: 'quota_cap' | 'not_member' | null;
	quota: { limit: number | null; used: number; capShare: number };
}

export interface ConversationDetail {
	id: string;
	customerId: string | null;
	name: string;
	memberNo: string | null;
	status: 'open' | 'done';
	assignedStaffId: string | null;
	storeId: string | null;
	mine: boolean;
	messages: ConversationMessage[];
	handovers: Array<{ id: number; from: string; to: string | null; note: string; at: string }>;
	compose: ComposeState;
}

export interface ReplyBody {
	clientId: string;
	text: string;
	templateKey?: string | null;
	productIds: number[];
}

export interface SentReply {
	id: number;
	delivery: 'reply' | 'push' | null;
	state: string;
	failure_reason: string | null;
}

export interface Badge {
	unread: number;
	conversations: number;
}

export interface QuotaReport {
	plan: { limit: number | null; used: number; capShare: number; stopped: boolean; checkedAt: string | null };
	projection: number;
	answers: { freeReplies: number; pushes: number; freeShare: number | null };
	byStaff: Array<{ storeId: string | null; storeName: string | null; staffId: string | null; staffName: string | null; freeReplies: number; pushes: number }>;
}

export interface StaffOption {
	id: string;
	displayName: string;
}

/** A page of a tab (100, unread first, newest first) and the cursor of the next one, if any. */
export async function listConversations(tab: ConversationTab, cursor?: string): Promise<{ conversations: ConversationSummary[]; nextCursor: string | null }> {
	const res = await call((o) => api.conversations.$get({ query: { tab, ...(cursor ? { cursor } : {}) } }, o));
	return res as unknown as { conversations: ConversationSummary[]; nextCursor: string | null };
}

export function fetchBadge(): Promise<Badge> {
	return call((o) => api.conversations.unread.$get({}, o)) as Promise<Badge>;
}

export async function openConversation(id: string): Promise<ConversationDetail> {
	return ((await call((o) => api.conversations[':id'].$get({ param: { id } }, o))) as unknown as { conversation: ConversationDetail }).conversation;
}

export async function conversationOfCustomer(customerId: string): Promise<{ id: string; visible: boolean } | null> {
	const res = await call((o) => api.conversations['by-customer'][':customerId'].$get({ param: { customerId } }, o));
	return (res as unknown as { conversation: { id: string; visible: boolean } | null }).conversation;
}

/** Sends (or re-sends: the server keeps one message per client id) a staff answer. */
export async function sendReply(conversationId: string, body: ReplyBody, auth?: { bearer: string }): Promise<SentReply> {
	const res = await call((o) => api.conversations[':id'].replies.$post({ param: { id: conversationId }, json: body }, o), { ...(auth ? { auth } : {}), timeoutMs: 20_000 });
	return (res as unknown as { message: SentReply }).message;
}

export async function setConversationStatus(id: string, status: 'open' | 'done'): Promise<void> {
	await call((o) => api.conversations[':id'].status.$put({ param: { id }, json: { status } }, o));
}

export async function handOver(id: string, to: { staffId?: string; storeId?: string; note: string }): Promise<void> {
	await call((o) => api.conversations[':id'].handover.$post({ param: { id }, json: to }, o));
}

export function fetchQuota(): Promise<QuotaReport> {
	return call((o) => api.conversations.quota.$get({}, o)) as unknown as Promise<QuotaReport>;
}

export async function saveConversationSettings(settings: Partial<{ replyWindowSeconds: number; markAsRead: boolean; pushCapShare: number; routingWindowDays: number }>): Promise<void> {
	await call((o) => api.conversations.settings.$put({ json: settings }, o));
}

export async function listTemplates(): Promise<Array<{ key: string; title: string; body: string }>> {
	const res = await call((o) => api.followups.templates.$get({}, o));
	return (res as unknown as { templates: Array<{ key: string; title: string; body: string }> }).templates;
}

export async function searchProducts(q: string): Promise<Array<{ id: number; sku: string; name: string; priceYen: number }>> {
	const res = await call((o) => api.products.search.$get({ query: { q } }, o));
	return (res as unknown as { results: Array<{ id: number; sku: string; name: string; priceYen: number }> }).results;
}

export async function listStoreStaff(): Promise<StaffOption[]> {
	const device = await call((o) => api.devices.me.$get({}, o), { auth: 'device' });
	return device.staff.map((s) => ({ id: s.id, displayName: s.displayName }));
}

/**
 * Opens the badge's event stream and calls `onBadge` with each count; resolves when the stream
 * ends (server closed it, network lost, `signal` aborted). Throws ApiError when it could not open.
 */
export async function streamBadge(onBadge: (badge: Badge & { conversationIds: string[] }) => void, signal: AbortSignal): Promise<void> {
	const token = credentials.session?.token;
	if (!token) throw new ApiError(401, 'unauthorized', 'not signed in');
	let res: Response;
	try {
		res = await fetch('/api/conversations/events', { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, signal, cache: 'no-store' });
	} catch {
		throw new ApiError(null, 'offline', 'network error');
	}
	if (!res.ok || !res.body) throw new ApiError(res.status, `http_${res.status}`, 'event stream refused');
	const reader = res.body.getReader();
	const decoder = new TextDecoder();
	let buffer = '';
	try {
		for (;;) {
			const { value, done } = await reader.read();
			if (done) return;
			buffer += decoder.decode(value, { stream: true });
			let end: number;
			while ((end = buffer.indexOf('\n\n')) >= 0) {
				const block = buffer.slice(0, end);
				buffer = buffer.slice(end + 2);
				const event = /^event: (.*)$/m.exec(block)?.[1];
				const data = /^data: (.*)$/m.exec(block)?.[1];
				if (event === 'unread' && data) onBadge(JSON.parse(data) as Badge & { conversationIds: string[] });
			}
		}
	} catch {
		// aborted or the connection dropped: the caller reconnects
	} finally {
		reader.releaseLock();
	}
}
