/**
 * The tablet's IndexedDB: cached profiles (personal data, expiring), the member-QR public keys
 * and the consultation outbox. Everything offline lives here so nothing is lost on a reload
 * or when the tablet sleeps.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { MemberQrKeySet } from '../../../server/shared/member-qr.ts';
import type { Profile, PutConsultationRequest } from '../../../server/shared/staff-api.ts';
import type { OutboxState } from './policy.ts';

export interface CachedProfile {
	id: string;
	memberNo: string;
	profile: Profile;
	/** when the server produced this copy (expiry counts from here) */
	cachedAt: number;
	/** last opened on this tablet (LRU) */
	viewedAt: number;
}

export interface OutboxEntry extends OutboxState {
	/** client-generated UUID: the server's idempotency key */
	id: string;
	request: PutConsultationRequest;
	/** who wrote it: replays must go out under the author's own session */
	authorId: string;
	authorName: string;
	authToken: string;
	/** shown in the unsent list ("山田 花子" or the member number) */
	customerLabel: string;
	createdAt: number;
}

interface TsunaguDb extends DBSchema {
	profiles: { key: string; value: CachedProfile; indexes: { memberNo: string } };
	keys: { key: string; value: { id: string; keys: MemberQrKeySet; fetchedAt: number } };
	outbox: { key: string; value: OutboxEntry };
	meta: { key: string; value: { key: string; value: number | string | null } };
}

const DB_NAME = 'tsunagu-staff';
let dbPromise: Promise<IDBPDatabase<TsunaguDb>> | null = null;

export function db(): Promise<IDBPDatabase<TsunaguDb>> {
	dbPromise ??= openDB<TsunaguDb>(DB_NAME, 1, {
		upgrade(database) {
			const profiles = database.createObjectStore('profiles', { keyPath: 'id' });
			profiles.createIndex('memberNo', 'memberNo', { unique: false });
			database.createObjectStore('keys', { keyPath: 'id' });
			database.createObjectStore('outbox', { keyPath: 'id' });
			database.createObjectStore('meta', { keyPath: 'key' });
		}
	});
	return dbPromise;
}

export async function getMeta(key: string): Promise<number | string | null> {
	return (await (await db()).get('meta', key))?.value ?? null;
}

export async function setMeta(key: string, value: number | string | null): Promise<void> {
	await (await db()).put('meta', { key, value });
}
