/**
 * What this tablet sent recently (customer, rendered text, products), so the same follow-up is
 * not sent twice by a second tap or a re-typed draft without the staff member confirming.
 * Kept in sessionStorage: the guard is about the last few minutes on this tablet, not history.
 */
export interface SentFingerprint {
	customerId: string;
	text: string;
	productIds: number[];
}

/** How long an identical message needs a confirmation. */
export const DUPLICATE_WINDOW_MS = 10 * 60_000;
const KEY = 'tsunagu.recentSends';

const keyOf = (f: SentFingerprint) => JSON.stringify([f.customerId, f.text.trim(), [...f.productIds].sort((a, b) => a - b)]);

function load(now: number): Record<string, number> {
	try {
		const all = JSON.parse(sessionStorage.getItem(KEY) ?? '{}') as Record<string, number>;
		return Object.fromEntries(Object.entries(all).filter(([, at]) => now - at < DUPLICATE_WINDOW_MS));
	} catch {
		return {};
	}
}

/** Minutes since the same message was sent (at least 1), or null when it was not sent lately. */
export function recentlySent(f: SentFingerprint, now = Date.now()): number | null {
	const at = load(now)[keyOf(f)];
	return at === undefined ? null : Math.max(1, Math.round((now - at) / 60_000));
}

export function rememberSent(f: SentFingerprint, now = Date.now()): void {
	sessionStorage.setItem(KEY, JSON.stringify({ ...load(now), [keyOf(f)]: now }));
}
