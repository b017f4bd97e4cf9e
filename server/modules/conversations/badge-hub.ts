/**
 * The open badge streams of one process, answered together. Each change (from any process, via
 * LISTEN/NOTIFY) marks the streams it concerns; after a short debounce one query computes the
 * badges of every marked stream. A stream asking on its own would make a busy inbox cost one
 * query per message per watcher (the assignee and the store's managers, at least); together
 * it is one per debounce window, however many messages and streams.
 */
import type { DbOrTrx } from '../../db/index.ts';
import type { StaffPrincipal } from '../../http/context.ts';
import { concerns, unreadBadges, type UnreadBadge } from './conversations.service.ts';
import type { ConversationChange, ConversationEvents } from './events.ts';

export type BadgeListener = (badge: UnreadBadge, conversationIds: string[]) => void;

export interface BadgeHub {
	/** Calls `listener` with the new badge whenever a change concerns `staff`; returns the unsubscribe. */
	watch(staff: StaffPrincipal, listener: BadgeListener): () => void;
	readonly watchers: number;
}

interface Watcher {
	staff: StaffPrincipal;
	listener: BadgeListener;
}

export function createBadgeHub(db: DbOrTrx, events: ConversationEvents, debounceMs: number, onError: (err: unknown) => void): BadgeHub {
	const watchers = new Set<Watcher>();
	let pending = new Map<Watcher, string[]>();
	let timer: NodeJS.Timeout | undefined;
	let unsubscribe: (() => void) | undefined;

	const flush = async () => {
		timer = undefined;
		const batch = [...pending].filter(([w]) => watchers.has(w));
		pending = new Map();
		if (batch.length === 0) return;
		const badges = await unreadBadges(db, batch.map(([w]) => w.staff));
		batch.forEach(([w, ids], i) => {
			if (watchers.has(w)) w.listener(badges[i], ids);
		});
	};
	const onChange = (change: ConversationChange) => {
		for (const w of watchers) {
			if (!concerns(w.staff, change)) continue;
			const ids = pending.get(w);
			if (ids) {
				if (!ids.includes(change.conversationId)) ids.push(change.conversationId);
			} else pending.set(w, [change.conversationId]);
		}
		if (pending.size > 0) timer ??= setTimeout(() => void flush().catch(onError), debounceMs);
	};

	return {
		watch(staff, listener) {
			const w: Watcher = { staff, listener };
			watchers.add(w);
			unsubscribe ??= events.subscribe(onChange);
			return () => {
				watchers.delete(w);
				pending.delete(w);
				if (watchers.size === 0 && unsubscribe) {
					unsubscribe();
					unsubscribe = undefined;
					clearTimeout(timer);
					timer = undefined;
					pending = new Map();
				}
			};
		},
		get watchers() {
			return watchers.size;
		}
	};
}
