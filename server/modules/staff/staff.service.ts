/**
 * Tablet enrollment, staff sign-in with PIN throttle, sign-out and device revocation.
 * Every function starts with its access check; the routes only parse and call.
 */
import { createHash, randomInt } from 'node:crypto';
import type { Config } from '../../config.ts';
import type { Db, DbOrTrx, Trx } from '../../db/index.ts';
import { AppError, badRequest, forbidden, notFound, unauthorized, type FieldErrors } from '../../errors.ts';
import type { StaffPrincipal } from '../../http/context.ts';
import { recordSecurityEvent } from '../audit/audit.service.ts';
import * as limits from '../ratelimit/rate-limit.service.ts';
import type {
	CreateSessionResponse,
	DeviceMeResponse,
	EnrollDeviceRequest,
	EnrollDeviceResponse,
	StoresResponse
} from './staff.types.ts';
import { hashPin, verifyPin } from './pin.ts';
import * as repo from './staff.repository.ts';
import {
	deviceSecretMatches,
	isUuid,
	newDeviceSecret,
	parseDeviceToken,
	signSession,
	type SessionClaims
} from './tokens.ts';

export const PIN_MAX_FAILURES = 5;
export const PIN_LOCK_SECONDS = 5 * 60;

/** The staff member's home store (managers' scope comes from it, not from the tablet). */
export async function homeStoreOf(db: Db, staffId: string): Promise<string | null> {
	return (await repo.findStaffById(db, staffId))?.home_store_id ?? null;
}

export async function listStores(db: Db): Promise<StoresResponse> {
	const stores = await repo.listStores(db);
	return { stores: stores.map((s) => ({ id: s.id, name: s.name, nameEn: s.name_en })) };
}

/** The API's numbers travel as numbers in `fields` (the envelope type says strings; JSON does not care). */
const numericFields = (fields: Record<string, number>) => fields as unknown as FieldErrors;

function pinLocked(lockedUntil: Date | null): AppError {
	const retryAfterSeconds = Math.max(1, Math.ceil(((lockedUntil?.getTime() ?? Date.now()) - Date.now()) / 1000));
	return new AppError(
		429,
		'pin_locked',
		`Too many wrong PINs; try again in ${retryAfterSeconds} seconds (retryAfterSeconds=${retryAfterSeconds})`,
		numericFields({ retryAfterSeconds })
	);
}

type PinOutcome = { ok: true } | { ok: false; attemptsLeft: number };

/**
 * Checks a PIN under the throttle: an attempt is claimed atomically before the (slow) hash
 * check, a success resets the count, the fifth consecutive failure locks for five minutes.
 * Throws 429 pin_locked; returns the attempts left on a wrong PIN.
 */
async function checkPinThrottled(db: Db, staff: repo.StaffRow, pin: string, deviceId: string): Promise<PinOutcome> {
	const claim = await repo.claimPinAttempt(db, staff.id);
	if (!claim) {
		const current = await repo.findStaffById(db, staff.id);
		throw pinLocked(current?.pin_locked_until ?? null);
	}
	if (claim.failed_pin_attempts > PIN_MAX_FAILURES) {
		// parallel guesses beyond the limit: refuse without looking at the PIN
		throw pinLocked(await repo.lockPin(db, staff.id, PIN_LOCK_SECONDS));
	}
	const ok = staff.pin_hash ? await verifyPin(pin, staff.pin_hash) : false;
	if (ok) {
		await repo.resetPinAttempts(db, staff.id);
		return { ok: true };
	}
	if (claim.failed_pin_attempts >= PIN_MAX_FAILURES) {
		const until = await repo.lockPin(db, staff.id, PIN_LOCK_SECONDS);
		await recordSecurityEvent(db, {
			action: 'security.pin_locked',
			actorStaffId: staff.id,
			deviceId,
			details: { staffId: staff.id, lockedUntil: new Date(until!).toISOString() }
		});
		throw pinLocked(until);
	}
	return { ok: false, attemptsLeft: PIN_MAX_FAILURES - claim.failed_pin_attempts };
}

// ---------------------------------------------------------------- enrollment

/**
 * Enrollment is reachable by anyone on the internet, so its attempts are counted apart from
 * sign-in (a guesser must never lock a real person out of their tablet) and three ways, all
 * taken atomically before the PIN is looked at: per source address, per staff code as typed
 * (known and unknown codes alike, so the limit says nothing about which codes exist), and
 * brand-wide (an attacker rotating addresses). Each lockout doubles the next (to 24 h) and is
 * written to the audit log.
 */
export const ENROLL_PER_ADDRESS: limits.LimitPolicy = {
	name: 'enroll.address',
	capacity: 5,
	refillPerSecond: 5 / 900,
	lockout: { baseSeconds: 15 * 60, maxSeconds: 24 * 3600 }
};
export const ENROLL_PER_CODE: limits.LimitPolicy = {
	name: 'enroll.code',
	capacity: 5,
	refillPerSecond: 5 / 900,
	lockout: { baseSeconds: 15 * 60, maxSeconds: 24 * 3600 }
};
export const ENROLL_BRAND: limits.LimitPolicy = {
	name: 'enroll.brand',
	capacity: 20,
	refillPerSecond: 20 / 3600,
	lockout: { baseSeconds: 15 * 60, maxSeconds: 24 * 3600 }
};
const ENROLL_LIMITS = [
	{ policy: ENROLL_PER_ADDRESS, scope: 'address' },
	{ policy: ENROLL_PER_CODE, scope: 'staff_code' },
	{ policy: ENROLL_BRAND, scope: 'brand' }
] as const;

/** A hash no PIN matches, verified for unknown codes so that they cost the same time as known ones. */
let decoyHash: Promise<string> | undefined;
const decoyPinHash = () => (decoyHash ??= hashPin(String(randomInt(10_000_000, 99_999_999))));

function enrollmentLocked(retryAfterSeconds: number): AppError {
	return new AppError(
		429,
		'enrollment_locked',
		`Too many enrollment attempts; try again in ${retryAfterSeconds} seconds`,
		numericFields({ retryAfterSeconds })
	);
}

const invalidCredentials = () => unauthorized('invalid_credentials', 'Unknown staff code, wrong PIN or wrong enrollment code');

const enrollSubjects = (address: string, staffCode: string) => ({ address, staff_code: staffCode.toLowerCase(), brand: 'all' }) as const;

/**
 * Claims one attempt under the enrollment limits; audits a lockout that this attempt started.
 * A valid one-time code skips the brand-wide limit: it exists to slow PIN guessing from many
 * addresses, and must not let such guessing lock every store out of enrolling.
 */
async function claimEnrollAttempt(db: Db, address: string, staffCode: string, withValidCode: boolean): Promise<void> {
	const subjects = enrollSubjects(address, staffCode);
	const applicable = ENROLL_LIMITS.filter((l) => !(withValidCode && l.scope === 'brand'));
	const results = await Promise.all(applicable.map((l) => limits.take(db, l.policy, subjects[l.scope])));
	const started = applicable.flatMap((l, i) => (results[i].lockedNow ? [{ scope: l.scope, result: results[i] }] : []));
	for (const { scope, result } of started) {
		await recordSecurityEvent(db, {
			action: 'security.enroll_locked',
			details: {
				scope,
				address,
				...(scope === 'staff_code' ? { staffCode } : {}),
				lockedUntil: result.lockedUntil?.toISOString() ?? null,
				strike: result.strikes
			}
		});
	}
	const refused = results.filter((r) => !r.allowed);
	if (refused.length > 0) throw enrollmentLocked(Math.max(...refused.map((r) => r.retryAfterSeconds)));
}

/** A successful enrollment costs nothing: only failures use up the limits. */
async function refundEnrollAttempt(db: Db, address: string, staffCode: string, withValidCode: boolean): Promise<void> {
	const subjects = enrollSubjects(address, staffCode);
	const applicable = ENROLL_LIMITS.filter((l) => !(withValidCode && l.scope === 'brand'));
	await Promise.all(applicable.map((l) => limits.giveBack(db, l.policy, subjects[l.scope])));
}

export const ENROLLMENT_CODE_TTL_SECONDS = 30 * 60;
/** Crockford base32 without I, L, O, U: read aloud or typed from a screen without confusion. */
const CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CODE_LENGTH = 12; // 60 bits

/** `abcd-efgh-jkmn ` → `ABCDEFGHJKMN` (spaces, dashes and case do not matter). */
export function normalizeEnrollmentCode(code: string): string {
	return code.replace(/[\s-]/g, '').toUpperCase();
}

const hashEnrollmentCode = (code: string) => createHash('sha256').update(normalizeEnrollmentCode(code)).digest('hex');

/**
 * A one-time code for enrolling one tablet in a store, shown once to the manager (own store)
 * or admin (any store) who asked for it; only its hash is kept.
 */
export async function issueEnrollmentCode(
	db: Db,
	actor: { id: string; deviceId: string | null },
	storeId: string
): Promise<{ code: string; storeId: string; expiresAt: string }> {
	const me = await repo.findStaffById(db, actor.id);
	if (!me || !me.active) throw forbidden('forbidden', 'Not an active staff member');
	if (me.role !== 'admin' && !(me.role === 'manager' && me.home_store_id === storeId)) {
		throw forbidden('not_manager', 'Only a manager of this store or an admin can enroll a tablet');
	}
	if (!(await repo.findStore(db, storeId))) throw notFound('store_not_found', 'No such store');
	const raw = Array.from({ length: CODE_LENGTH }, () => CODE_ALPHABET[randomInt(CODE_ALPHABET.length)]).join('');
	const expiresAt = new Date(Date.now() + ENROLLMENT_CODE_TTL_SECONDS * 1000);
	await repo.insertEnrollmentCode(db, { code_hash: hashEnrollmentCode(raw), store_id: storeId, issued_by: me.id, expires_at: expiresAt });
	await recordSecurityEvent(db, {
		action: 'security.enrollment_code_issued',
		actorStaffId: me.id,
		deviceId: actor.deviceId,
		details: { storeId, expiresAt: expiresAt.toISOString() }
	});
	const code = `${raw.slice(0, 4)}-${raw.slice(4, 8)}-${raw.slice(8)}`;
	return { code, storeId, expiresAt: expiresAt.toISOString() };
}

/**
 * Enrolls a tablet: a manager of the store (or an admin) with their staff code and PIN, plus
 * a one-time enrollment code when the brand requires one. Every failure of the credentials
 * is the same 401 invalid_credentials, with no detail, after the same amount of work.
 */
export async function enrollDevice(
	db: Db,
	config: Pick<Config, 'enrollmentCodeRequired'>,
	input: EnrollDeviceRequest,
	address: string
): Promise<EnrollDeviceResponse> {
	const codeHash = input.enrollmentCode ? hashEnrollmentCode(input.enrollmentCode) : null;
	const codeOk = config.enrollmentCodeRequired && codeHash !== null && (await repo.enrollmentCodeUsable(db, codeHash, input.storeId));
	await claimEnrollAttempt(db, address, input.staffCode, codeOk);
	const store = await repo.findStore(db, input.storeId);
	if (!store) throw notFound('store_not_found', 'No such store');
	const found = await repo.findStaffByCode(db, input.staffCode);
	const staff = found?.active && found.pin_hash ? found : undefined;
	// the scrypt runs for unknown codes too: the answer time says nothing about which codes exist
	const pinOk = await verifyPin(input.pin, staff?.pin_hash ?? (await decoyPinHash()));
	if (!staff || !pinOk || (config.enrollmentCodeRequired && !codeOk)) throw invalidCredentials();
	const allowed = staff.role === 'admin' || (staff.role === 'manager' && staff.home_store_id === store.id);
	if (!allowed) throw forbidden('not_manager', 'Only a manager of this store or an admin can enroll a tablet');

	const { secret, hash } = newDeviceSecret();
	const device = await db.transaction().execute(async (trx) => {
		const inserted = await repo.insertDevice(trx, {
			store_id: store.id,
			name: input.deviceName,
			secret_hash: hash,
			enrolled_by: staff.id
		});
		// one code, one tablet: a second use racing this one finds it used and enrolls nothing
		if (config.enrollmentCodeRequired && !(await repo.consumeEnrollmentCode(trx, codeHash!, store.id, inserted.id))) {
			throw invalidCredentials();
		}
		return inserted;
	});
	await refundEnrollAttempt(db, address, input.staffCode, codeOk);
	return {
		device: { id: device.id, name: device.name, storeId: store.id, storeName: store.name },
		deviceToken: `${device.id}.${secret}`
	};
}

export interface AuthenticatedDevice {
	id: string;
	name: string;
	storeId: string;
	storeName: string;
}

/** Resolves `Authorization: Device <token>`; 401 invalid_device / device_revoked. */
export async function authenticateDevice(db: Db, authorization: string | undefined): Promise<AuthenticatedDevice> {
	const match = /^Device\s+(\S+)$/i.exec(authorization ?? '');
	const parsed = match ? parseDeviceToken(match[1]) : null;
	if (!parsed) throw unauthorized('invalid_device', 'This tablet is not enrolled');
	const device = await repo.findDevice(db, parsed.deviceId);
	if (!device || !deviceSecretMatches(parsed.secret, device.secret_hash)) {
		throw unauthorized('invalid_device', 'This tablet is not enrolled');
	}
	if (device.revoked_at) throw unauthorized('device_revoked', 'This tablet was un-enrolled');
	return { id: device.id, name: device.name, storeId: device.store_id, storeName: device.store_name };
}

export async function deviceMe(db: Db, device: AuthenticatedDevice): Promise<DeviceMeResponse> {
	const [staff] = await Promise.all([repo.listSignInStaff(db, device.storeId), repo.touchDevice(db, device.id)]);
	return {
		device,
		staff: staff.map((s) => ({ id: s.id, displayName: s.display_name, role: s.role, staffCode: s.staff_code }))
	};
}

export async function signIn(
	db: Db,
	config: Config,
	device: AuthenticatedDevice,
	input: { staffId: string; pin: string }
): Promise<CreateSessionResponse> {
	const staff = isUuid(input.staffId) ? await repo.findStaffById(db, input.staffId) : undefined;
	if (!staff || !staff.active) throw unauthorized('invalid_credentials', 'Unknown staff member');
	// a tablet signs in its own store's staff, and admins
	if (staff.role !== 'admin' && staff.home_store_id !== device.storeId) {
		throw forbidden('forbidden', 'This staff member does not belong to this store');
	}
	const pin = await checkPinThrottled(db, staff, input.pin, device.id);
	if (!pin.ok) {
		throw new AppError(
			401,
			'invalid_pin',
			`Wrong PIN; ${pin.attemptsLeft} attempts left`,
			numericFields({ attemptsLeft: pin.attemptsLeft })
		);
	}
	const { token, expiresAt } = await signSession(config.sessionSecret, {
		staffId: staff.id,
		role: staff.role,
		deviceId: device.id,
		storeId: device.storeId,
		generation: staff.session_generation
	});
	await repo.touchDevice(db, device.id);
	return {
		token,
		expiresAt: expiresAt.toISOString(),
		staff: {
			id: staff.id,
			displayName: staff.display_name,
			role: staff.role,
			storeId: device.storeId,
			staffCode: staff.staff_code
		}
	};
}

export async function signOut(db: Db, claims: SessionClaims): Promise<void> {
	await repo.revokeSession(db, claims.jti, new Date(claims.exp * 1000));
}

/** Un-enrolls the tablet the manager is signed in on; every session on it stops working. */
export async function revokeCurrentDevice(db: Db, deviceId: string): Promise<void> {
	await repo.revokeDevice(db, deviceId);
}

// ---------------------------------------------------------------- PIN change and reset

/**
 * The staff member changes their own PIN (the current one is checked under the sign-in
 * throttle). Every session of theirs ends, on every tablet; the caller gets a fresh session
 * for the tablet in hand so that changing a PIN does not sign them out.
 */
export async function changeOwnPin(
	db: Db,
	config: Config,
	actor: StaffPrincipal,
	input: { currentPin: string; newPin: string }
): Promise<{ token: string; expiresAt: string }> {
	const staff = await repo.findStaffById(db, actor.id);
	if (!staff || !staff.active) throw unauthorized('unauthorized', 'Invalid session');
	const check = await checkPinThrottled(db, staff, input.currentPin, actor.deviceId);
	if (!check.ok) {
		throw new AppError(401, 'invalid_pin', `Wrong PIN; ${check.attemptsLeft} attempts left`, numericFields({ attemptsLeft: check.attemptsLeft }));
	}
	if (input.newPin === input.currentPin) {
		throw badRequest('pin_unchanged', 'The new PIN must differ from the current one', { newPin: 'Same as the current PIN' });
	}
	const generation = await repo.replacePin(db, staff.id, await hashPin(input.newPin));
	await recordSecurityEvent(db, {
		action: 'security.pin_changed',
		actorStaffId: staff.id,
		deviceId: actor.deviceId,
		details: { staffId: staff.id }
	});
	const { token, expiresAt } = await signSession(config.sessionSecret, {
		staffId: staff.id,
		role: staff.role,
		deviceId: actor.deviceId,
		storeId: actor.storeId,
		generation
	});
	return { token, expiresAt: expiresAt.toISOString() };
}

/**
 * A manager resets the PIN of a staff member or manager of their own (home) store; an admin
 * anyone's. The person's sessions all end and their PIN lock is lifted. One's own PIN is
 * changed with changeOwnPin (which asks for the current one).
 */
export async function resetStaffPin(db: Db, actor: StaffPrincipal, staffId: string, newPin: string): Promise<void> {
	if (staffId === actor.id) throw badRequest('pin_reset_self', 'Change your own PIN with your current PIN');
	const [me, target] = await Promise.all([repo.findStaffById(db, actor.id), isUuid(staffId) ? repo.findStaffById(db, staffId) : undefined]);
	if (!target) throw notFound('staff_not_found', 'No such staff member');
	const mayReset =
		me?.role === 'admin' || (me?.role === 'manager' && target.role !== 'admin' && me.home_store_id !== null && target.home_store_id === me.home_store_id);
	if (!mayReset) throw forbidden('forbidden', 'Managers reset PINs of their own store only');
	await repo.replacePin(db, target.id, await hashPin(newPin));
	await recordSecurityEvent(db, {
		action: 'security.pin_reset',
		actorStaffId: actor.id,
		deviceId: actor.deviceId,
		details: { staffId: target.id }
	});
}

// ── for the client book (server/modules/clientbook) ─────────────────────────────────────────

/** Staff of the given stores (all stores when null), active ones first within a store. */
export async function staffOfStores(db: DbOrTrx, storeIds: string[] | null) {
	return repo.listStaffOfStores(db, storeIds);
}

/** Staff rows locked FOR SHARE for the caller's transaction (ownership targets). */
export async function lockStaffForAssignment(trx: Trx, staffIds: string[]) {
	return repo.lockStaffRows(trx, staffIds);
}

/**
 * Deactivates a staff member in the caller's transaction. The client book decides first what
 * happens to their customers (clientbook.service `deactivateStaff`); this only flips the flag.
 * Their sessions end at once: requireStaff re-checks `active` on every request.
 */
export async function deactivateStaffRow(trx: Trx, staffId: string): Promise<boolean> {
	return repo.setStaffInactive(trx, staffId);
}

/** One staff member's row (role, home store, active), or undefined. */
export async function findStaffMember(db: DbOrTrx, staffId: string) {
	return repo.findStaffById(db, staffId);
}
