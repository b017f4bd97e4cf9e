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

	reset(): void {
		this.inboxes.clear();
		this.acceptedRetryKeys.clear();
		this.stats = emptyStats();
		this.faults = { rate429: 0, rate500: 0, next429: 0, next500: 0 };
	}
}

function emptyStats(): PushStats {
	return { accepted: 0, messagesAccepted: 0, conflicts: 0, rateLimited: 0, serverErrors: 0, rejected: 0, acceptedByRetryKey: {} };
}
