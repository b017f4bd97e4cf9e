/**
 * The tablet's two credentials. The device token (enrollment) lives in localStorage for as long
 * as the tablet is enrolled; the staff session lives there too so a reload or the tablet
 * sleeping does not sign staff out mid-consultation (auto-lock and the 12 h expiry end it).
 */
import type { CreateSessionResponse, DeviceInfo } from './types.ts';

export type { DeviceInfo };
export type SessionInfo = CreateSessionResponse;

const DEVICE_KEY = 'tsunagu.device';
const SESSION_KEY = 'tsunagu.session';

function read<T>(key: string): T | null {
	if (typeof localStorage === 'undefined') return null;
	try {
		const raw = localStorage.getItem(key);
		return raw ? (JSON.parse(raw) as T) : null;
	} catch {
		return null;
	}
}

function write(key: string, value: unknown): void {
	if (typeof localStorage === 'undefined') return;
	if (value === null) localStorage.removeItem(key);
	else localStorage.setItem(key, JSON.stringify(value));
}

const stored = read<{ token: string; device: DeviceInfo }>(DEVICE_KEY);

export const credentials = $state<{ deviceToken: string | null; device: DeviceInfo | null; session: SessionInfo | null }>({
	deviceToken: stored?.token ?? null,
	device: stored?.device ?? null,
	session: liveSession(read<SessionInfo>(SESSION_KEY))
});

function liveSession(s: SessionInfo | null): SessionInfo | null {
	return s && Date.parse(s.expiresAt) > Date.now() ? s : null;
}

export function setDevice(token: string, device: DeviceInfo): void {
	credentials.deviceToken = token;
	credentials.device = device;
	write(DEVICE_KEY, { token, device });
}

export function clearDevice(): void {
	credentials.deviceToken = null;
	credentials.device = null;
	write(DEVICE_KEY, null);
	clearSession();
}

export function setSession(session: SessionInfo): void {
	credentials.session = session;
	write(SESSION_KEY, session);
}

export function clearSession(): void {
	credentials.session = null;
	write(SESSION_KEY, null);
}

/** True when a session exists and has not expired (checked on every use). */
export function hasLiveSession(path?: string): boolean {
	if (credentials.session && !liveSession(credentials.session)) {
		if (path) sessionLost(path);
		else clearSession();
	}
	return credentials.session !== null;
}

const RETURN_KEY = 'tsunagu.returnTo';

/** Where a staff member was when the server ended their session, to go back after signing in. */
export interface SessionReturn {
	staffId: string;
	path: string;
}

/** The session was rejected (401) or ran out: forget it, remember the screen. The outbox is kept. */
export function sessionLost(path: string): void {
	const staffId = credentials.session?.staff.id;
	if (staffId && typeof sessionStorage !== 'undefined') sessionStorage.setItem(RETURN_KEY, JSON.stringify({ staffId, path }));
	clearSession();
}

/** The pending return, if any (kept until taken, so a wrong PIN does not lose it). */
export function pendingReturn(): SessionReturn | null {
	if (typeof sessionStorage === 'undefined') return null;
	try {
		return JSON.parse(sessionStorage.getItem(RETURN_KEY) ?? 'null') as SessionReturn | null;
	} catch {
		return null;
	}
}

/** After a sign-in: the screen to restore when the same person signed back in. */
export function takeReturn(staffId: string): string | null {
	const pending = pendingReturn();
	if (typeof sessionStorage !== 'undefined') sessionStorage.removeItem(RETURN_KEY);
	return pending && pending.staffId === staffId ? pending.path : null;
}
