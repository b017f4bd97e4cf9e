/**
 * The unread badge, live: one event stream per tablet session, reconnecting on its own with
 * backoff; while it is down (network change, proxy cut) the count is polled instead, and the
 * stream is tried again as soon as the tablet is back online or visible.
 */
import { fetchBadge, streamBadge } from '$lib/api/conversations.ts';
import { credentials } from '$lib/api/credentials.svelte.ts';

export const badge = $state({
	unread: 0,
	conversations: 0,
	/** true while the event stream is open (false = polling) */
	live: false,
	/** bumps on every change the server announced, with the conversations it concerned */
	version: 0,
	changed: [] as string[]
});

const POLL_MS = 15_000;
const MAX_BACKOFF_MS = 30_000;

let controller: AbortController | null = null;
let pollTimer: ReturnType<typeof setInterval> | undefined;
let retryTimer: ReturnType<typeof setTimeout> | undefined;
let failures = 0;
let running = false;

function apply(next: { unread: number; conversations: number }, changed: string[] = []) {
	badge.unread = next.unread;
	badge.conversations = next.conversations;
	if (changed.length > 0) {
		badge.changed = changed;
		badge.version++;
	}
}

async function poll() {
	if (!credentials.session) return;
	try {
		apply(await fetchBadge());
	} catch {
		// offline: keep the last count
	}
}

function startPolling() {
	if (pollTimer) return;
	void poll();
	pollTimer = setInterval(() => void poll(), POLL_MS);
}

function stopPolling() {
	clearInterval(pollTimer);
	pollTimer = undefined;
}

async function connect() {
	clearTimeout(retryTimer);
	if (!running || !credentials.session) return;
	controller?.abort();
	const mine = (controller = new AbortController());
	try {
		const opened = streamBadge((b) => {
			if (!badge.live) {
				badge.live = true;
				failures = 0;
				stopPolling();
			}
			apply(b, b.conversationIds);
		}, mine.signal);
		await opened;
	} catch {
		// refused or unreachable: poll meanwhile
	}
	if (controller !== mine || !running) return;
	badge.live = false;
	startPolling();
	failures++;
	retryTimer = setTimeout(() => void connect(), Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(failures, 5)));
}

const reconnectNow = () => {
	failures = 0;
	void connect();
};
const onVisible = () => {
	if (document.visibilityState === 'visible' && !badge.live) reconnectNow();
};

/** Starts the badge for the signed-in staff member (idempotent). */
export function startBadge(): void {
	if (running || typeof window === 'undefined') return;
	running = true;
	window.addEventListener('online', reconnectNow);
	document.addEventListener('visibilitychange', onVisible);
	void connect();
}

/** Stops it (sign-out / lock): no stream, no polling, count cleared. */
export function stopBadge(): void {
	running = false;
	controller?.abort();
	controller = null;
	clearTimeout(retryTimer);
	stopPolling();
	badge.live = false;
	badge.unread = 0;
	badge.conversations = 0;
	if (typeof window !== 'undefined') {
		window.removeEventListener('online', reconnectNow);
		document.removeEventListener('visibilitychange', onVisible);
	}
}

/** After a reply or opening a conversation: refresh the count without waiting for the stream. */
export function refreshBadge(): void {
	void poll();
}
