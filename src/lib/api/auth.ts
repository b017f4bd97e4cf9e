/**
 * Tablet-side calls for issue 13's auth endpoints: whether enrollment needs a one-time code,
 * issuing one (managers/admins), and PIN change / reset. All calls of this feature live here.
 */
import { api, call } from './client.ts';
import { credentials, setSession } from './credentials.svelte.ts';

export function enrollmentRequirements(): Promise<{ codeRequired: boolean }> {
	return call((o) => api.devices.enrollment.$get({}, o), { auth: 'none' });
}

export async function issueEnrollmentCode(storeId: string): Promise<{ code: string; storeId: string; expiresAt: string }> {
	return call((o) => api.devices['enrollment-codes'].$post({ json: { storeId } }, o));
}

/** Changes the signed-in person's PIN; their other sessions end, this tablet keeps a fresh one. */
export async function changePin(currentPin: string, newPin: string): Promise<void> {
	const data = await call((o) => api.staff.me.pin.$post({ json: { currentPin, newPin } }, o));
	if (credentials.session) setSession({ ...credentials.session, token: data.token, expiresAt: data.expiresAt });
}

/** A manager (own store) or admin sets a new PIN for someone; that person's sessions end. */
export async function resetPin(staffId: string, newPin: string): Promise<void> {
	await call((o) => api.staff[':id'].pin.reset.$post({ param: { id: staffId }, json: { newPin } }, o));
}
