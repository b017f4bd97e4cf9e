/**
 * Staff authentication for every module: `requireStaff(deps, roles?)` checks the bearer
 * session (signature, expiry, signed-out), that the tablet is still enrolled and the staff
 * member still active — with their current role, so a demotion applies at once — then sets
 * `c.get('staff')`. `requireDevice` does the same for `Authorization: Device <token>`.
 */
import { createMiddleware } from 'hono/factory';
import type { AppDeps, AppEnv, StaffPrincipal } from '../../http/context.ts';
import { forbidden, unauthorized } from '../../errors.ts';
import type { Role } from '../../db/types.ts';
import * as repo from './staff.repository.ts';
import { authenticateDevice, type AuthenticatedDevice } from './staff.service.ts';
import { verifySession, type SessionClaims } from './tokens.ts';

export function bearerToken(authorization: string | undefined): string | null {
	const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
	return match ? match[1] : null;
}

/** Verifies a session token against the database; throws 401 session_expired / unauthorized / device_revoked. */
export async function authenticateSession(
	deps: AppDeps,
	authorization: string | undefined
): Promise<{ principal: StaffPrincipal; claims: SessionClaims }> {
	const token = bearerToken(authorization);
	if (!token) throw unauthorized('unauthorized', 'Sign in first');
	const check = await verifySession(deps.config.sessionSecret, token);
	if (!check.ok) {
		throw check.reason === 'expired'
			? unauthorized('session_expired', 'The session has expired; sign in again')
			: unauthorized('unauthorized', 'Invalid session');
	}
	const { claims } = check;
	const state = await repo.sessionState(deps.db, claims.sub, claims.did, claims.jti);
	if (!state || !state.active || state.signed_out) throw unauthorized('unauthorized', 'Invalid session');
	// a PIN change or reset since this session was issued ends it
	if (state.session_generation !== claims.gen) throw unauthorized('session_revoked', 'The PIN was changed; sign in again');
	if (state.revoked_at) throw unauthorized('device_revoked', 'This tablet was un-enrolled');
	return {
		principal: {
			id: claims.sub,
			role: state.role,
			storeId: state.store_id,
			deviceId: claims.did,
			displayName: state.display_name
		},
		claims
	};
}

export function requireStaff(deps: AppDeps, roles?: readonly Role[]) {
	return createMiddleware<AppEnv & { Variables: { staff: StaffPrincipal } }>(async (c, next) => {
		const { principal } = await authenticateSession(deps, c.req.header('authorization'));
		if (roles && !roles.includes(principal.role)) {
			throw forbidden('forbidden', `This needs the ${roles.join(' or ')} role`);
		}
		c.set('staff', principal);
		await next();
	});
}

export function requireDevice(deps: AppDeps) {
	return createMiddleware<AppEnv & { Variables: { device: AuthenticatedDevice } }>(async (c, next) => {
		c.set('device', await authenticateDevice(deps.db, c.req.header('authorization')));
		await next();
	});
}

export const MANAGERS: readonly Role[] = ['manager', 'admin'];
