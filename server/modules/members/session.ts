/**
 * The member session: after LINE verified the ID token once, the server issues its own short
 * token (HS256 with SESSION_SECRET, 1 h) so refreshing the card never calls LINE again. The
 * audience keeps it from being mistaken for a staff token signed with the same secret.
 */
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { unauthorized } from '../../errors.ts';

const AUDIENCE = 'tsunagu-member';
const ISSUER = 'tsunagu';
export const MEMBER_SESSION_SECONDS = 60 * 60;

export interface MemberSession {
	/** LINE user id. */
	lineUserId: string;
	/** Set once the member has consented and is linked. */
	customerId: string | null;
	/** LINE display name from the ID token (shown when the member record has no name). */
	displayName: string | null;
}

const keys = new Map<string, Uint8Array>();
function key(secret: string): Uint8Array {
	let k = keys.get(secret);
	if (!k) keys.set(secret, (k = new TextEncoder().encode(secret)));
	return k;
}

export async function issueMemberSession(secret: string, session: MemberSession): Promise<string> {
	return new SignJWT({ cid: session.customerId, name: session.displayName })
		.setProtectedHeader({ alg: 'HS256' })
		.setSubject(session.lineUserId)
		.setAudience(AUDIENCE)
		.setIssuer(ISSUER)
		.setIssuedAt()
		.setExpirationTime(`${MEMBER_SESSION_SECONDS}s`)
		.sign(key(secret));
}

/** Throws 401 `session_expired` or `session_invalid` (the page then logs in again). */
export async function readMemberSession(secret: string, token: string): Promise<MemberSession> {
	try {
		const { payload } = await jwtVerify(token, key(secret), { audience: AUDIENCE, issuer: ISSUER, algorithms: ['HS256'] });
		if (typeof payload.sub !== 'string') throw unauthorized('session_invalid', 'The member session is not valid');
		return {
			lineUserId: payload.sub,
			customerId: typeof payload.cid === 'string' ? payload.cid : null,
			displayName: typeof payload.name === 'string' ? payload.name : null
		};
	} catch (err) {
		if (err instanceof joseErrors.JWTExpired) throw unauthorized('session_expired', 'The member session has expired; log in again');
		throw unauthorized('session_invalid', 'The member session is not valid');
	}
}
