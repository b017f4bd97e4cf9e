/** Tablet-side calls of the device and session endpoints. */
import { api, call } from './client.ts';
import { clearDevice, clearSession, setDevice, setSession } from './credentials.svelte.ts';
import type { CreateSessionResponse, DeviceMeResponse, EnrollDeviceRequest, EnrollDeviceResponse, StoresResponse } from './types.ts';

export function listStores(): Promise<StoresResponse> {
	return call((o) => api.stores.$get({}, o), { auth: 'none' });
}

export async function enrollDevice(body: EnrollDeviceRequest): Promise<EnrollDeviceResponse> {
	const data = await call((o) => api.devices.enroll.$post({ json: body }, o), { auth: 'none' });
	setDevice(data.deviceToken, data.device);
	return data;
}

export function deviceMe(): Promise<DeviceMeResponse> {
	return call((o) => api.devices.me.$get({}, o), { auth: 'device' });
}

/** A session for this staff member without signing the tablet in (a manager confirming an action). */
export function sessionFor(staffId: string, pin: string): Promise<CreateSessionResponse> {
	return call((o) => api.sessions.$post({ json: { staffId, pin } }, o), { auth: 'device' });
}

export async function signIn(staffId: string, pin: string): Promise<CreateSessionResponse> {
	const data = await sessionFor(staffId, pin);
	setSession(data);
	return data;
}

/** Lock / sign out: the server forgets the session when reachable; the tablet forgets it always. */
export async function signOut(): Promise<void> {
	await call((o) => api.sessions.current.$delete({}, o), { timeoutMs: 3_000, auth: 'session' }).catch(() => undefined);
	clearSession();
}

/** Un-enroll with a manager's fresh session token, then forget the device. */
export async function revokeDevice(managerToken: string): Promise<void> {
	await call((o) => api.devices.me.revoke.$post({}, o), { auth: { bearer: managerToken } });
	clearDevice();
}
