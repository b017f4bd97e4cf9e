/**
 * An in-memory hand-off from the scan screen to the profile screen: the cached profile found
 * for a scanned QR is rendered at once instead of being read from IndexedDB a second time.
 */
import type { Profile } from '../api/types.ts';

let pending: { profile: Profile; cachedAt: number } | null = null;

export function handOff(profile: Profile, cachedAt: number): void {
	pending = { profile, cachedAt };
}

export function takeHandOff(customerId: string): { profile: Profile; cachedAt: number } | null {
	const p = pending;
	pending = null;
	return p && p.profile.customer.id === customerId ? p : null;
}
