/**
 * The scan → profile path, shared by the camera, the test hook and the fallbacks: verify the
 * member QR offline, find the cached profile by member number and open it at once; only when
 * the tablet has no copy does it ask the server (or show "not on this tablet" when offline).
 */
import { goto } from '$app/navigation';
import { verifyMemberQr, type MemberQrFailure } from '../../../server/shared/member-qr.ts';
import { api, ApiError, call } from '../api/client.ts';
import type { ProfileVia } from '../api/types.ts';
import { handOff } from './handoff.ts';
import { cachedKeys, cachedProfileByMemberNo, refreshKeys } from './profiles.ts';

export type DecodeResult = { ok: true; memberNo: string } | { ok: false; reason: MemberQrFailure | 'no_keys' };

export async function memberNoFromQr(token: string): Promise<DecodeResult> {
	let keys = await cachedKeys();
	if (keys.length === 0 && navigator.onLine) keys = await refreshKeys().catch(() => []);
	if (keys.length === 0) return { ok: false, reason: 'no_keys' };
	let result = await verifyMemberQr(token, keys);
	// A key rotated since the tablet last fetched the set: fetch once more when online.
	if (!result.ok && result.reason === 'unknown_key' && navigator.onLine) {
		keys = await refreshKeys().catch(() => keys);
		result = await verifyMemberQr(token, keys);
	}
	return result.ok ? { ok: true, memberNo: result.claims.mno } : { ok: false, reason: result.reason };
}

/** Opens the member's profile; throws ApiError('customer_not_found') when the server has no such member. */
export async function openMember(memberNo: string, via: ProfileVia): Promise<void> {
	const cached = await cachedProfileByMemberNo(memberNo);
	if (cached) {
		handOff(cached.profile, cached.cachedAt);
		await goto(`/staff/customers/${encodeURIComponent(cached.id)}?via=${via}`);
		return;
	}
	try {
		const { id } = await call((o) => api.customers['by-member'][':memberNo'].$get({ param: { memberNo } }, o));
		await goto(`/staff/customers/${encodeURIComponent(id)}?via=${via}`);
	} catch (err) {
		if (err instanceof ApiError && err.offline) {
			await goto(`/staff/members/${encodeURIComponent(memberNo)}?via=${via}`);
			return;
		}
		throw err;
	}
}
