/**
 * Tablet enrollment, staff sign-in with PIN throttle, sign-out and device revocation.
 * Every function starts with its access check; the routes only parse and call.
 */
import type { Config } from '../../config.ts';
import type { Db } from '../../db/index.ts';
import { AppError, forbidden, notFound, unauthorized, type FieldErrors } from '../../errors.ts';
import type {
	CreateSessionResponse,
	DeviceMeResponse,
	EnrollDeviceRequest,
	EnrollDeviceResponse,
	StoresResponse
} from './staff.types.ts';
import { verifyPin } from './pin.ts';
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
async function checkPinThrottled(db: Db, staff: repo.StaffRow, pin: string): Promise<PinOutcome> {
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
		throw pinLocked(await repo.lockPin(db, staff.id, PIN_LOCK_SECONDS));
	}
	return { ok: false, attemptsLeft: PIN_MAX_FAILURES - claim.failed_pin_attempts };
}

export async function enrollDevice(db: Db, input: EnrollDeviceRequest): Promise<EnrollDeviceResponse> {
	const store = await repo.findStore(db, input.storeId);
	if (!store) throw notFound('store_not_found', 'No such store');
	const staff = await repo.findStaffByCode(db, input.staffCode);
	if (!staff || !staff.active) throw unauthorized('invalid_credentials', 'Unknown staff code or wrong PIN');
	const pin = await checkPinThrottled(db, staff, input.pin);
	if (!pin.ok) {
		throw new AppError(401, 'invalid_credentials', 'Unknown staff code or wrong PIN', numericFields({ attemptsLeft: pin.attemptsLeft }));
	}
	const allowed = staff.role === 'admin' || (staff.role === 'manager' && staff.home_store_id === store.id);
	if (!allowed) throw forbidden('not_manager', 'Only a manager of this store or an admin can enroll a tablet');

	const { secret, hash } = newDeviceSecret();
	const device = await repo.insertDevice(db, {
		store_id: store.id,
		name: input.deviceName,
		secret_hash: hash,
		enrolled_by: staff.id
	});
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
	const pin = await checkPinThrottled(db, staff, input.pin);
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
		storeId: device.storeId
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
