/** Tablet-side calls of the device and session endpoints. */
import type {
	CreateSessionResponse,
	DeviceMeResponse,
	EnrollDeviceRequest,
	EnrollDeviceResponse,
	StoresResponse
} from '../../../server/shared/staff-api.ts';
import { api, getJson } from './client.ts';
import { clearDevice, clearSession, setDevice, setSession } from './credentials.svelte.ts';

export function listStores(): Promise<StoresResponse> {
	return getJson<StoresResponse>('/api/stores', 'none');
}

export async function enrollDevice(body: EnrollDeviceRequest): Promise<EnrollDeviceResponse> {
	const { data } = await api<EnrollDeviceResponse>('/api/devices/enroll', { method: 'POST', body, auth: 'none' });
	setDevice(data.deviceToken, data.device);
	return data;
}

export function deviceMe(): Promise<DeviceMeResponse> {
	return getJson<DeviceMeResponse>('/api/devices/me', 'device');
}

export async function signIn(staffId: string, pin: string): Promise<CreateSessionResponse> {
	const { data } = await api<CreateSessionResponse>('/api/sessions', { method: 'POST', body: { staffId, pin }, auth: 'device' });
	setSession(data);
	return data;
}

/** Lock / sign out: the server forgets the session when reachable; the tablet forgets it always. */
export async function signOut(): Promise<void> {
	await api('/api/sessions/current', { method: 'DELETE', timeoutMs: 3_000 }).catch(() => undefined);
	clearSession();
}

/** Un-enroll with a manager's fresh session token, then forget the device. */
export async function revokeDevice(managerToken: string): Promise<void> {
	await api('/api/devices/me/revoke', { method: 'POST', auth: { bearer: managerToken } });
	clearDevice();
}
