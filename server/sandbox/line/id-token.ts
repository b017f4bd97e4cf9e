/**
 * ID tokens as LINE Login issues them for a LIFF app: a JWT signed HS256 with the LINE Login
 * channel's secret, iss https://access.line.me, aud = channel id. The sandbox is the only
 * holder of its signing secret, so a token it did not issue fails verification.
 */
import { SignJWT, jwtVerify, errors as joseErrors, decodeJwt } from 'jose';

export const LINE_ISSUER = 'https://access.line.me';
const SANDBOX_LOGIN_SECRET = new TextEncoder().encode('line-sandbox-login-channel-secret-demo-only');

export interface IssueIdTokenInput {
	sub: string;
	aud: string;
	name?: string;
	picture?: string;
	/** Seconds of validity; negative issues an already expired token (tests). */
	expiresIn?: number;
	secret?: Uint8Array;
}

export async function issueIdToken(input: IssueIdTokenInput): Promise<string> {
	const now = Math.floor(Date.now() / 1000);
	const expiresIn = input.expiresIn ?? 3600;
	return new SignJWT({ amr: ['linesso'], name: input.name, picture: input.picture })
		.setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
		.setIssuer(LINE_ISSUER)
		.setSubject(input.sub)
		.setAudience(input.aud)
		.setIssuedAt(Math.min(now, now + expiresIn - 60))
		.setExpirationTime(now + expiresIn)
		.sign(input.secret ?? SANDBOX_LOGIN_SECRET);
}

export type VerifyOutcome =
	| { ok: true; body: Record<string, unknown> }
	| { ok: false; description: string };

/** The checks of POST /oauth2/v2.1/verify, answering LINE's own error descriptions. */
export async function verifyIssuedIdToken(idToken: string, clientId: string): Promise<VerifyOutcome> {
	let claims: Record<string, unknown>;
	try {
		const verified = await jwtVerify(idToken, SANDBOX_LOGIN_SECRET, { algorithms: ['HS256'], clockTolerance: 0, currentDate: new Date(0) });
		claims = verified.payload as Record<string, unknown>;
	} catch (err) {
		// Signature first: an unsigned or forged token is just invalid, whatever its claims say.
		if (!(err instanceof joseErrors.JWTClaimValidationFailed || err instanceof joseErrors.JWTExpired)) {
			return { ok: false, description: 'Invalid IdToken.' };
		}
		claims = decodeJwt(idToken) as Record<string, unknown>;
	}
	if (claims.iss !== LINE_ISSUER) return { ok: false, description: 'Invalid IdToken Issuer.' };
	if (typeof claims.exp !== 'number' || claims.exp <= Math.floor(Date.now() / 1000)) {
		return { ok: false, description: 'IdToken expired.' };
	}
	if (claims.aud !== clientId) return { ok: false, description: 'Invalid IdToken Audience.' };
	if (typeof claims.sub !== 'string') return { ok: false, description: 'Invalid IdToken Subject Identifier.' };
	return { ok: true, body: claims };
}
