/**
 * Device credentials and staff session tokens.
 * Device token = `<deviceId>.<secret>`; the secret is 32 random bytes, so a plain SHA-256 is
 * enough to store it (no dictionary to guess from). Session token = JWT HS256 (jose).
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { Role } from '../../db/types.ts';
import { isUuid } from '../../shared/ids.ts';


export function newDeviceSecret(): { secret: string; hash: string } {
	const secret = randomBytes(32).toString('base64url');
	return { secret, hash: hashDeviceSecret(secret) };
}

export function hashDeviceSecret(secret: string): string {
	return createHash('sha256').update(secret).digest('hex');
}

export function deviceSecretMatches(secret: string, storedHash: string): boolean {
	const a = Buffer.from(hashDeviceSecret(secret), 'hex');
	const b = Buffer.from(storedHash, 'hex');
	return a.length === b.length && timingSafeEqual(a, b);
}

/** Parses `<uuid>.<secret>`; null when malformed. */
export function parseDeviceToken(token: string): { deviceId: string; secret: string } | null {
	const dot = token.indexOf('.');
	if (dot < 0) return null;
	const deviceId = token.slice(0, dot);
	const secret = token.slice(dot + 1);
	if (!isUuid(deviceId) || secret.length < 16) return null;
	return { deviceId, secret };
}

export { isUuid };

export const SESSION_TTL_SECONDS = 12 * 60 * 60;

export interface SessionClaims {
	sub: string;
	role: Role;
	did: string;
	sid: string;
	jti: string;
	exp: number;
	/** the staff member's session generation at issue; a PIN change/reset bumps it (0 when absent) */
	gen: number;
}

const key = (secret: string) => new TextEncoder().encode(secret);

export async function signSession(
	secret: string,
	claims: { staffId: string; role: Role; deviceId: string; storeId: string; generation?: number },
	nowSeconds = Math.floor(Date.now() / 1000),
	ttlSeconds = SESSION_TTL_SECONDS
): Promise<{ token: string; expiresAt: Date }> {
	const exp = nowSeconds + ttlSeconds;
	const token = await new SignJWT({ role: claims.role, did: claims.deviceId, sid: claims.storeId, gen: claims.generation ?? 0 })
		.setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
		.setSubject(claims.staffId)
		.setJti(randomUUID())
		.setIssuedAt(nowSeconds)
		.setExpirationTime(exp)
		.sign(key(secret));
	return { token, expiresAt: new Date(exp * 1000) };
}

export type SessionCheck = { ok: true; claims: SessionClaims } | { ok: false; reason: 'expired' | 'invalid' };

export async function verifySession(secret: string, token: string): Promise<SessionCheck> {
	try {
		const { payload } = await jwtVerify(token, key(secret), { algorithms: ['HS256'] });
		const { sub, role, did, sid, jti, exp, gen = 0 } = payload as Partial<SessionClaims>;
		if (!sub || !role || !did || !sid || !jti || !exp || !isUuid(sub) || !isUuid(did) || !isUuid(jti)) {
			return { ok: false, reason: 'invalid' };
		}
		if (!Number.isInteger(gen)) return { ok: false, reason: 'invalid' };
		return { ok: true, claims: { sub, role, did, sid, jti, exp, gen } };
	} catch (err) {
		return { ok: false, reason: err instanceof joseErrors.JWTExpired ? 'expired' : 'invalid' };
	}
}
