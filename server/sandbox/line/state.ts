/**
 * What the LINE sandbox remembers, in memory (it is a stand-in, not a store): who exists, what
 * each user received, how pushes went (for tests and the outbox benchmark) and injected faults.
 */

export interface SandboxProfile {
	userId: string;
	displayName: string;
	pictureUrl?: string;
}

export interface InboxEntry {
	/** LINE's sent message id. */
	id: string;
	receivedAt: string;
	retryKey: string | null;
	requestId: string;
	/** The message object exactly as pushed (text, flex, template…). */
	message: Record<string, unknown>;
	/** Who wrote it: the official account (push or reply) or the user (sent as a webhook). Absent = bot push. */
	from?: 'bot' | 'user';
	delivery?: 'push' | 'reply';
	/** A user's message the account has marked read (LINE shows 既読). */
	readAt?: string;
}

export interface ReplyTokenState {
	userId: string;
	issuedAt: number;
	used: boolean;
}

export interface QuotaPlan {
	type: 'limited' | 'none';
	value: number;
}

export interface PushStats {
	/** Push requests answered 200 (each counts its messages once). */
	accepted: number;
	messagesAccepted: number;
	/** Repeats of an accepted X-Line-Retry-Key answered 409. */
	conflicts: number;
	/** Injected 429 / 500 answers. */
	rateLimited: number;
	serverErrors: number;
	rejected: number;
	/** Accepted requests per retry key: a value above 1 would mean a double send. */
	acceptedByRetryKey: Record<string, number>;
	/** Reply API: accepted requests, and tokens refused (unknown, used or expired). */
	replies: number;
	repliesRefused: number;
	readMarks: number;
}

export interface Faults {
	/** Probability (0–1) that a push is answered 429 / 500. */
	rate429: number;
	rate500: number;
	/** The next N pushes are answered 429 / 500 (deterministic, for tests). */
	next429: number;
	next500: number;
}

export class LineSandboxState {
	profiles = new Map<string, SandboxProfile>();
	inboxes = new Map<string, InboxEntry[]>();
	/** Retry key → the request id that accepted it. */
	acceptedRetryKeys = new Map<string, string>();
	stats: PushStats = emptyStats();
	faults: Faults = { rate429: 0, rate500: 0, next429: 0, next500: 0 };
	replyTokens = new Map<string, ReplyTokenState>();
	/** markAsReadToken → the user message it marks (and everything before it). */
	readTokens = new Map<string, { userId: string; entryId: string }>();
	/** LINE keeps a reply token about a minute. */
	replyTokenTtlMs = 60_000;
	plan: QuotaPlan = { type: 'limited', value: 200 };
	/** Messages pushed this month before the sandbox started (to demo the cap). */
	extraUsage = 0;
	private seq = 0;

	nextId(): string {
		this.seq += 1;
		return `${Date.now()}${String(this.seq).padStart(6, '0')}`;
	}

	rememberProfile(profile: SandboxProfile): void {
		this.profiles.set(profile.userId, profile);
	}

	deliver(userId: string, entry: InboxEntry): void {
		const list = this.inboxes.get(userId) ?? [];
		list.push(entry);
		this.inboxes.set(userId, list);
	}

	/** Decides whether the next push gets an injected fault. */
	drawFault(): 429 | 500 | null {
		if (this.faults.next429 > 0) {
			this.faults.next429 -= 1;
			return 429;
		}
		if (this.faults.next500 > 0) {
			this.faults.next500 -= 1;
			return 500;
		}
		const r = Math.random();
		if (r < this.faults.rate429) return 429;
		if (r < this.faults.rate429 + this.faults.rate500) return 500;
		return null;
	}

	/** Pushed messages count against the plan; replies are free. */
	totalUsage(): number {
		return this.stats.messagesAccepted + this.extraUsage;
	}

	reset(): void {
		this.replyTokens.clear();
		this.readTokens.clear();
		this.replyTokenTtlMs = 60_000;
		this.plan = { type: 'limited', value: 200 };
		this.extraUsage = 0;
		this.inboxes.clear();
		this.acceptedRetryKeys.clear();
		this.stats = emptyStats();
		this.faults = { rate429: 0, rate500: 0, next429: 0, next500: 0 };
	}
}

function emptyStats(): PushStats {
	return { accepted: 0, messagesAccepted: 0, conflicts: 0, rateLimited: 0, serverErrors: 0, rejected: 0, acceptedByRetryKey: {}, replies: 0, repliesRefused: 0, readMarks: 0 };
}
