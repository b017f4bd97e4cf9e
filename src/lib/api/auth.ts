/**
 * Tablet-side calls for issue 13's auth endpoints: whether enrollment needs a one-time code,
 * issuing one (managers/admins), and PIN change / reset. All calls of this feature live here.
 */
import { api, getJson } from './client.ts';
import { credentials, setSession } from './credentials.svelte.ts';

export function enrollmentRequirements(): Promise<{ codeRequired: boolean }> {
	return getJson<{ codeRequired: boolean }>('/api/devices/enrollment', 'none');
}

export async function issueEnrollmentCode(storeId: string): Promise<{ code: string; storeId: string; expiresAt: string }> {
	const { data } = await api<{ code: string; storeId: string; expiresAt: string }>('/api/devices/enrollment-codes', {
		method: 'POST',
		body: { storeId }
	});
	return data;
}

/** Changes the signed-in person's PIN; their other sessions end, this tablet keeps a fresh one. */
export async function changePin(currentPin: string, newPin: string): Promise<void> {
	const { data } = await api<{ token: string; expiresAt: string }>('/api/staff/me/pin', { method: 'POST', body: { currentPin, newPin } });
	if (credentials.session) setSession({ ...credentials.session, token: data.token, expiresAt: data.expiresAt });
}

/** A manager (own store) or admin sets a new PIN for someone; that person's sessions end. */
export async function resetPin(staffId: string, newPin: string): Promise<void> {
	await api(`/api/staff/${encodeURIComponent(staffId)}/pin/reset`, { method: 'POST', body: { newPin } });
}
