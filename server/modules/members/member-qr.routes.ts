/**
 * /api/member-qr/* — the public keys tablets keep for offline verification, and online
 * verification for signed-in staff.
 */
import { Hono } from 'hono';
import * as v from 'valibot';
import type { AppDeps, AppEnv } from '../../http/context.ts';
import { validate } from '../../http/validate.ts';
import { requireStaff } from '../staff/auth.middleware.ts';
import * as members from './members.service.ts';

const VerifyBody = v.object({ token: v.pipe(v.string(), v.minLength(1), v.maxLength(2048)) });

export function memberQrRoutes(deps: AppDeps) {
	return new Hono<AppEnv>()
		.get('/keys', async (c) => {
			// Public keys: cacheable; a rotated key is published beside the old one before use.
			c.header('cache-control', 'public, max-age=3600');
			return c.json(await members.memberQrPublicKeys(deps));
		})
		.post('/verify', requireStaff(deps), validate('json', VerifyBody), async (c) => {
			return c.json(await members.verifyMemberToken(deps, c.req.valid('json').token));
		});
}
