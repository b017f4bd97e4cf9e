/**
 * Member QR tokens, shared by the server and the staff tablet (browser-safe: jose only).
 *
 * The QR carries a compact JWS (EdDSA / Ed25519) with header {alg:'EdDSA', kid, typ:'tsunagu-mqr'}
 * and claims {iss:'tsunagu', mno: member number, cid: customer id, iat, exp, jti}. The tablet
 * verifies it offline with the brand's public key; the server verifies it online.
 */
import { compactVerify, decodeProtectedHeader, importJWK, type JWK } from 'jose';

export const MEMBER_QR_TYP = 'tsunagu-mqr';
export const MEMBER_QR_ISSUER = 'tsunagu';
/** A screenshot stops working after this: the card rotates the code every 30 s. */
export const MEMBER_QR_TTL_SECONDS = 5 * 60;
export const MEMBER_QR_ROTATE_SECONDS = 30;
/** Tolerance for tablet and phone clocks that disagree. */
const CLOCK_SKEW_SECONDS = 30;

export interface MemberQrClaims {
	iss: string;
	mno: string;
	cid: string;
	iat: number;
	exp: number;
	jti: string;
}

export type MemberQrFailure = 'malformed' | 'unknown_key' | 'bad_signature' | 'expired' | 'not_yet_valid' | 'wrong_issuer';

export type MemberQrResult =
	| { ok: true; claims: MemberQrClaims }
	| { ok: false; reason: MemberQrFailure };

/** Public keys by kid; the server publishes them at GET /api/member-qr/keys. */
export type MemberQrKeySet = Array<JWK & { kid: string }>;

export async function verifyMemberQr(token: string, keys: MemberQrKeySet, nowMs = Date.now()): Promise<MemberQrResult> {
	let kid: string | undefined;
	try {
		const header = decodeProtectedHeader(token.trim());
		if (header.alg !== 'EdDSA' || header.typ !== MEMBER_QR_TYP) return { ok: false, reason: 'malformed' };
		kid = header.kid;
	} catch {
		return { ok: false, reason: 'malformed' };
	}
	const jwk = keys.find((k) => k.kid === kid);
	if (!jwk) return { ok: false, reason: 'unknown_key' };
	let claims: MemberQrClaims;
	try {
		const key = await importJWK(jwk, 'EdDSA');
		const { payload } = await compactVerify(token.trim(), key);
		claims = JSON.parse(new TextDecoder().decode(payload)) as MemberQrClaims;
	} catch {
		return { ok: false, reason: 'bad_signature' };
	}
	if (typeof claims.mno !== 'string' || typeof claims.exp !== 'number' || typeof claims.iat !== 'number') {
		return { ok: false, reason: 'malformed' };
	}
	if (claims.iss !== MEMBER_QR_ISSUER) return { ok: false, reason: 'wrong_issuer' };
	const now = Math.floor(nowMs / 1000);
	if (claims.exp <= now - CLOCK_SKEW_SECONDS) return { ok: false, reason: 'expired' };
	if (claims.iat > now + CLOCK_SKEW_SECONDS) return { ok: false, reason: 'not_yet_valid' };
	return { ok: true, claims };
}
