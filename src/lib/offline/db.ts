/**
 * The tablet's IndexedDB: cached profiles (personal data, expiring), the member-QR public keys
 * and the consultation outbox. Everything offline lives here so nothing is lost on a reload
 * or when the tablet sleeps. Version 2 adds the profile views shown offline, waiting to be
 * written to the server's audit log.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { MemberQrKeySet } from '../../../server/shared/member-qr.ts';
import type { Profile, ProfileVia, PutConsultationRequest, WorklistDismissReason } from '../api/types.ts';
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

export type InStoreRecord =
	| { kind: 'kana'; customerId: string; familyKana: string; givenKana: string | null }
	| { kind: 'consent'; customerId: string; purpose: 'staff_messages' | 'purchase_linking'; granted: boolean };

export interface OutboxEntry extends OutboxState {
	/** client-generated UUID: the server's idempotency key */
	id: string;
	/** a consultation record (the default) … */
	request: PutConsultationRequest | null;
	/** … or a LINE answer typed offline (sent when back online; by then usually a push) */
	conversationReply?: { conversationId: string; text: string; templateKey: string | null; productIds: number[] };
	/** … or a change of a today's-list item (done / snoozed / dismissed); the id is its client id */
	worklistState?: { itemId: string; state: 'open' | 'done' | 'snoozed' | 'dismissed'; snoozedUntil?: string; reason?: WorklistDismissReason };
	/**
	 * … or what a customer told staff in the store: their reading (fills an empty one only) or a
	 * consent answer (ledger channel tablet, with the author's id; the id is its client id)
	 */
	inStore?: InStoreRecord;
	/** who wrote it: replays must go out under the author's own session */
	authorId: string;
	authorName: string;
	authToken: string;
	/** shown in the unsent list ("山田 花子" or the member number) */
	customerLabel: string;
	createdAt: number;
}

/** A profile shown from the cache while the server could not be reached (ids only). */
export interface PendingAuditView {
	/** client-generated UUID: the server's idempotency key */
	id: string;
	customerId: string;
	via: ProfileVia;
	viewedAt: string;
	/** who looked: the view is reported under that staff member's own session */
	staffId: string;
	authToken: string;
}

interface TsunaguDb extends DBSchema {
	profiles: { key: string; value: CachedProfile; indexes: { memberNo: string } };
	keys: { key: string; value: { id: string; keys: MemberQrKeySet; fetchedAt: number } };
	outbox: { key: string; value: OutboxEntry };
	meta: { key: string; value: { key: string; value: number | string | null } };
	auditViews: { key: string; value: PendingAuditView };
}

const DB_NAME = 'tsunagu-staff';
let dbPromise: Promise<IDBPDatabase<TsunaguDb>> | null = null;

export function db(): Promise<IDBPDatabase<TsunaguDb>> {
	dbPromise ??= openDB<TsunaguDb>(DB_NAME, 2, {
		// Each step only adds stores, so a tablet on version 1 keeps its cache and unsent records.
		upgrade(database, oldVersion) {
			if (oldVersion < 1) {
				const profiles = database.createObjectStore('profiles', { keyPath: 'id' });
				profiles.createIndex('memberNo', 'memberNo', { unique: false });
				database.createObjectStore('keys', { keyPath: 'id' });
				database.createObjectStore('outbox', { keyPath: 'id' });
				database.createObjectStore('meta', { keyPath: 'key' });
			}
			if (oldVersion < 2) database.createObjectStore('auditViews', { keyPath: 'id' });
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
