/**
 * Cached customer profiles: every profile the tablet opens, plus today's customers prefetched
 * after sign-in. Expired copies are never shown and are purged on start.
 */
import type { MemberQrKeySet } from '../../../server/shared/member-qr.ts';
import { api, call } from '../api/client.ts';
import type { Profile } from '../api/types.ts';
import { db, type CachedProfile } from './db.ts';
import { isExpired, lruVictims } from './policy.ts';

/** Fresh-from-the-server copies: fetchedAt is the server's clock, cachedAt the tablet's. */
export async function cacheProfile(profile: Profile, viewed: boolean, now = Date.now()): Promise<void> {
	const store = (await db()).transaction('profiles', 'readwrite').store;
	const previous = await store.get(profile.customer.id);
	await store.put({
		id: profile.customer.id,
		memberNo: profile.customer.memberNo,
		profile,
		cachedAt: now,
		viewedAt: viewed ? now : (previous?.viewedAt ?? 0)
	});
}

export async function cachedProfile(customerId: string, now = Date.now()): Promise<CachedProfile | null> {
	const entry = await (await db()).get('profiles', customerId);
	return entry && !isExpired(entry.cachedAt, now) ? entry : null;
}

export async function cachedProfileByMemberNo(memberNo: string, now = Date.now()): Promise<CachedProfile | null> {
	const entries = await (await db()).getAllFromIndex('profiles', 'memberNo', memberNo);
	return entries.find((e) => !isExpired(e.cachedAt, now)) ?? null;
}

export async function markViewed(customerId: string, now = Date.now()): Promise<void> {
	const database = await db();
	const entry = await database.get('profiles', customerId);
	if (entry) await database.put('profiles', { ...entry, viewedAt: now });
}

/** Recently viewed on this tablet, newest first (for the scan screen's "recent" list). */
export async function recentProfiles(limit = 8, now = Date.now()): Promise<CachedProfile[]> {
	const all = await (await db()).getAll('profiles');
	return all
		.filter((e) => e.viewedAt > 0 && !isExpired(e.cachedAt, now))
		.sort((a, b) => b.viewedAt - a.viewedAt)
		.slice(0, limit);
}

/** Drops expired copies and trims viewed ones to the LRU limit. Returns how many were dropped. */
export async function purgeProfiles(now = Date.now()): Promise<number> {
	const tx = (await db()).transaction('profiles', 'readwrite');
	const all = await tx.store.getAll();
	const expired = all.filter((e) => isExpired(e.cachedAt, now)).map((e) => e.id);
	const live = all.filter((e) => !expired.includes(e.id));
	const victims = lruVictims(live.map((e) => ({ key: e.id, viewedAt: e.viewedAt })));
	for (const id of [...expired, ...victims]) await tx.store.delete(id);
	await tx.done;
	return expired.length + victims.length;
}

/** After sign-in: today's customers of this store, so the floor works when the signal drops. */
export async function prefetchToday(): Promise<number> {
	const { customers } = await call((o) => api.customers.today.$get({}, o));
	for (const profile of customers) await cacheProfile(profile, false);
	return customers.length;
}

export async function cachedKeys(): Promise<MemberQrKeySet> {
	return (await (await db()).get('keys', 'member-qr'))?.keys ?? [];
}

/** The public keys that verify member QR codes offline; refreshed whenever online. */
export async function refreshKeys(): Promise<MemberQrKeySet> {
	const { keys } = await call((o) => api['member-qr'].keys.$get({}, o), { auth: 'none' });
	await (await db()).put('keys', { id: 'member-qr', keys, fetchedAt: Date.now() });
	return keys;
}

/** Sign-out of the device / un-enroll: no customer data may stay on the tablet. */
export async function clearPersonalData(): Promise<void> {
	const database = await db();
	const tx = database.transaction(['profiles', 'outbox', 'meta'], 'readwrite');
	await tx.objectStore('profiles').clear();
	// saved today's lists (names, reasons) are personal data as well
	for (const key of await tx.objectStore('meta').getAllKeys()) {
		if (String(key).startsWith('worklist:')) await tx.objectStore('meta').delete(key);
	}
	// Unsent records are personal data too; un-enrolling is only offered when nothing is unsent.
	await tx.objectStore('outbox').clear();
	await tx.done;
}
