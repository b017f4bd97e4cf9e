/** Staff, devices and session revocations: Kysely only. */
import { sql } from 'kysely';
import type { DbOrTrx } from '../../db/index.ts';
import type { Role } from '../../db/types.ts';

export async function listStores(db: DbOrTrx) {
	return db.selectFrom('stores').select(['id', 'name', 'name_en']).orderBy('id').execute();
}

export async function findStore(db: DbOrTrx, storeId: string) {
	return db.selectFrom('stores').select(['id', 'name', 'name_en']).where('id', '=', storeId).executeTakeFirst();
}

const STAFF_COLUMNS = [
	'id',
	'staff_code',
	'display_name',
	'role',
	'home_store_id',
	'pin_hash',
	'active',
	'failed_pin_attempts',
	'pin_locked_until',
	'session_generation'
] as const;

/** Staff codes are matched case-insensitively (`s001` is `S001`); the exact spelling wins a tie. */
export async function findStaffByCode(db: DbOrTrx, staffCode: string) {
	return db
		.selectFrom('staff')
		.select(STAFF_COLUMNS)
		.where(sql`lower(staff_code)`, '=', staffCode.toLowerCase())
		.orderBy(sql`staff_code = ${staffCode}`, 'desc')
		.limit(1)
		.executeTakeFirst();
}

export async function findStaffById(db: DbOrTrx, staffId: string) {
	return db.selectFrom('staff').select(STAFF_COLUMNS).where('id', '=', staffId).executeTakeFirst();
}

/**
 * Claims one PIN attempt atomically unless the staff member is locked: concurrent guesses each
 * get their own attempt number, so parallel requests cannot slip past the limit.
 * Returns undefined while locked.
 */
export async function claimPinAttempt(db: DbOrTrx, staffId: string) {
	return db
		.updateTable('staff')
		.set({ failed_pin_attempts: sql`failed_pin_attempts + 1` })
		.where('id', '=', staffId)
		.where((eb) => eb.or([eb('pin_locked_until', 'is', null), eb('pin_locked_until', '<=', sql<Date>`now()`)]))
		.returning(['failed_pin_attempts'])
		.executeTakeFirst();
}

/** Locks the staff member for `seconds` and starts a fresh count for after the lock. */
export async function lockPin(db: DbOrTrx, staffId: string, seconds: number) {
	const row = await db
		.updateTable('staff')
		.set({
			failed_pin_attempts: 0,
			pin_locked_until: sql`now() + make_interval(secs => ${seconds})`
		})
		.where('id', '=', staffId)
		.returning(['pin_locked_until'])
		.executeTakeFirstOrThrow();
	return row.pin_locked_until;
}

export async function resetPinAttempts(db: DbOrTrx, staffId: string) {
	await db.updateTable('staff').set({ failed_pin_attempts: 0, pin_locked_until: null }).where('id', '=', staffId).execute();
}

/**
 * Sets a new PIN hash, clears the throttle, and bumps the session generation so that every
 * session issued before is refused from the next request on. Returns the new generation.
 */
export async function replacePin(db: DbOrTrx, staffId: string, pinHash: string): Promise<number> {
	const row = await db
		.updateTable('staff')
		.set({
			pin_hash: pinHash,
			failed_pin_attempts: 0,
			pin_locked_until: null,
			session_generation: sql`session_generation + 1`
		})
		.where('id', '=', staffId)
		.returning('session_generation')
		.executeTakeFirstOrThrow();
	return row.session_generation;
}

export async function insertEnrollmentCode(
	db: DbOrTrx,
	values: { code_hash: string; store_id: string; issued_by: string; expires_at: Date }
) {
	await db.insertInto('enrollment_codes').values(values).execute();
}

/** Uses a one-time enrollment code for this store: at most one caller ever gets true. */
export async function consumeEnrollmentCode(db: DbOrTrx, codeHash: string, storeId: string, deviceId: string): Promise<boolean> {
	const used = await db
		.updateTable('enrollment_codes')
		.set({ used_at: sql`now()`, used_by_device: deviceId })
		.where('code_hash', '=', codeHash)
		.where('store_id', '=', storeId)
		.where('used_at', 'is', null)
		.where('expires_at', '>', sql<Date>`now()`)
		.returning('code_hash')
		.executeTakeFirst();
	return used !== undefined;
}

/** Whether the code is usable for the store right now (the use itself is consumeEnrollmentCode). */
export async function enrollmentCodeUsable(db: DbOrTrx, codeHash: string, storeId: string): Promise<boolean> {
	const row = await db
		.selectFrom('enrollment_codes')
		.select('code_hash')
		.where('code_hash', '=', codeHash)
		.where('store_id', '=', storeId)
		.where('used_at', 'is', null)
		.where('expires_at', '>', sql<Date>`now()`)
		.executeTakeFirst();
	return row !== undefined;
}

export async function insertDevice(
	db: DbOrTrx,
	values: { store_id: string; name: string; secret_hash: string; enrolled_by: string }
) {
	return db.insertInto('devices').values(values).returning(['id', 'name', 'store_id']).executeTakeFirstOrThrow();
}

export async function findDevice(db: DbOrTrx, deviceId: string) {
	return db
		.selectFrom('devices')
		.innerJoin('stores', 'stores.id', 'devices.store_id')
		.select([
			'devices.id',
			'devices.name',
			'devices.store_id',
			'devices.secret_hash',
			'devices.revoked_at',
			'stores.name as store_name'
		])
		.where('devices.id', '=', deviceId)
		.executeTakeFirst();
}

export async function touchDevice(db: DbOrTrx, deviceId: string) {
	await db.updateTable('devices').set({ last_seen_at: sql`now()` }).where('id', '=', deviceId).execute();
}

export async function revokeDevice(db: DbOrTrx, deviceId: string) {
	await db
		.updateTable('devices')
		.set({ revoked_at: sql`now()` })
		.where('id', '=', deviceId)
		.where('revoked_at', 'is', null)
		.execute();
}

const ROLE_ORDER = sql<number>`case staff.role when 'staff' then 0 when 'manager' then 1 else 2 end`;

/** Who can sign in on a store's tablet: its own staff, then managers, then admins. */
export async function listSignInStaff(db: DbOrTrx, storeId: string) {
	return db
		.selectFrom('staff')
		.select(['id', 'display_name', 'role', 'staff_code'])
		.where('active', '=', true)
		.where((eb) => eb.or([eb('home_store_id', '=', storeId), eb('role', '=', 'admin')]))
		.orderBy(ROLE_ORDER)
		.orderBy('staff_code')
		.execute();
}

/** Everything requireStaff re-checks per request, in one round trip. */
export async function sessionState(db: DbOrTrx, staffId: string, deviceId: string, jti: string) {
	return db
		.selectFrom('staff')
		.innerJoin('devices', (join) => join.on('devices.id', '=', deviceId))
		.select((eb) => [
			'staff.role',
			'staff.display_name',
			'staff.active',
			'staff.session_generation',
			'devices.revoked_at',
			'devices.store_id',
			eb
				.exists(eb.selectFrom('staff_session_revocations').select('jti').where('jti', '=', jti))
				.as('signed_out')
		])
		.where('staff.id', '=', staffId)
		.executeTakeFirst();
}

export async function revokeSession(db: DbOrTrx, jti: string, expiresAt: Date) {
	await db
		.insertInto('staff_session_revocations')
		.values({ jti, expires_at: expiresAt })
		.onConflict((oc) => oc.column('jti').doNothing())
		.execute();
	// expired entries are useless: the token's own exp already rejects it
	await db.deleteFrom('staff_session_revocations').where('expires_at', '<', sql<Date>`now()`).execute();
}

export type StaffRow = NonNullable<Awaited<ReturnType<typeof findStaffById>>>;
export type { Role };

/** Staff of some stores (every store when `storeIds` is null), active or not, for the client book's manager screen. */
export async function listStaffOfStores(db: DbOrTrx, storeIds: string[] | null) {
	let q = db
		.selectFrom('staff')
		.select(['id', 'display_name', 'role', 'staff_code', 'home_store_id', 'active'])
		.orderBy('home_store_id')
		.orderBy(ROLE_ORDER)
		.orderBy('staff_code');
	if (storeIds) q = q.where('home_store_id', 'in', storeIds.length > 0 ? storeIds : ['']);
	return q.execute();
}

/** Marks a staff member inactive (locks the row first: a concurrent deactivation waits). */
export async function setStaffInactive(db: DbOrTrx, staffId: string): Promise<boolean> {
	const result = await db.updateTable('staff').set({ active: false }).where('id', '=', staffId).where('active', '=', true).executeTakeFirst();
	return Number(result.numUpdatedRows) > 0;
}

/** Several staff rows, locked FOR SHARE so none is deactivated while customers are given to them. */
export async function lockStaffRows(db: DbOrTrx, staffIds: string[]) {
	if (staffIds.length === 0) return [];
	return db
		.selectFrom('staff')
		.select(['id', 'display_name', 'role', 'home_store_id', 'active'])
		.where('id', 'in', staffIds)
		.orderBy('id')
		.forShare()
		.execute();
}
