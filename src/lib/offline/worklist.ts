/**
 * Today's list on the tablet: fetched after sign-in and whenever the list screen opens, kept in
 * IndexedDB per staff member so it opens offline, with the changes still waiting in the outbox
 * applied on top (a done item stays done on screen before the server has heard of it).
 */
import { api, call } from '../api/client.ts';
import type { TodayList, WorklistItem } from '../api/types.ts';
import { credentials } from '../api/credentials.svelte.ts';
import { db, getMeta, setMeta } from './db.ts';
import { enqueueWorklistState } from './outbox.svelte.ts';

const key = (staffId: string) => `worklist:${staffId}`;

export interface CachedList {
	list: TodayList;
	savedAt: number;
}

export async function fetchWorklist(): Promise<TodayList> {
	const list = await call((o) => api.worklist.today.$get({}, o));
	const staffId = credentials.session?.staff.id;
	if (staffId) await setMeta(key(staffId), JSON.stringify({ list, savedAt: Date.now() } satisfies CachedList)).catch(() => undefined);
	return withPending(list);
}

export async function cachedWorklist(): Promise<CachedList | null> {
	const staffId = credentials.session?.staff.id;
	if (!staffId) return null;
	const raw = await getMeta(key(staffId)).catch(() => null);
	if (typeof raw !== 'string') return null;
	const saved = JSON.parse(raw) as CachedList;
	return { ...saved, list: await withPending(saved.list) };
}

/**
 * After sign-in: the list. Its customers' profiles come with the store's today's customers
 * (GET /api/customers/today puts the list's customers first), cached by prefetchToday.
 */
export async function prefetchWorklist(): Promise<number> {
	const list = await fetchWorklist();
	return list.groups.overdue.length + list.groups.today.length + list.groups.upcoming.length;
}

/** Moves items whose change is still in the outbox to the group the change puts them in. */
async function withPending(list: TodayList): Promise<TodayList> {
	const pending = (await (await db()).getAll('outbox')).filter((e) => e.worklistState && e.status !== 'synced');
	if (pending.length === 0) return list;
	const byItem = new Map(pending.sort((a, b) => a.createdAt - b.createdAt).map((e) => [e.worklistState!.itemId, e.worklistState!]));
	const all = [...list.groups.overdue, ...list.groups.today, ...list.groups.upcoming, ...list.groups.done];
	const groups: TodayList['groups'] = { overdue: [], today: [], upcoming: [], done: [] };
	for (const item of all) {
		const change = byItem.get(item.id);
		if (!change) groups[item.group].push(item);
		else if (change.state === 'done' || change.state === 'dismissed') groups.done.push({ ...item, state: change.state, group: 'done' });
		// snoozed: off today's list until its date
	}
	return { ...list, groups };
}

/** Done / snooze / dismiss from the list: through the outbox (works offline), applied once by its client id. */
export async function setItemState(item: WorklistItem, state: 'done' | 'snoozed' | 'dismissed', extra: { snoozedUntil?: string; reason?: 'not_relevant' | 'contacted_elsewhere' | 'customer_request' | 'no_stock' | 'other' } = {}): Promise<void> {
	await enqueueWorklistState({ itemId: item.id, state, ...extra }, item.customerName);
}
