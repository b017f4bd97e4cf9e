/** /api/stores, /api/devices/*, /api/sessions/* — the tablet's enrollment and sign-in. */
import { Hono } from 'hono';
import * as v from 'valibot';
import type { AppDeps, AppEnv } from '../../http/context.ts';
import { validate } from '../../http/validate.ts';
import { authenticateSession, MANAGERS, requireDevice, requireStaff } from './auth.middleware.ts';
import { PIN_PATTERN } from './pin.ts';
import * as service from './staff.service.ts';

const Pin = v.pipe(v.string(), v.regex(PIN_PATTERN, 'PIN must be 4 to 8 digits'));

const EnrollBody = v.object({
	storeId: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
	deviceName: v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(80)),
	staffCode: v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(32)),
	pin: Pin
});

const SessionBody = v.object({
	staffId: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
	pin: Pin
});

export function staffRoutes(deps: AppDeps) {
	return new Hono<AppEnv>()
		.get('/stores', async (c) => c.json(await service.listStores(deps.db)))
		.post('/devices/enroll', validate('json', EnrollBody), async (c) =>
			c.json(await service.enrollDevice(deps.db, c.req.valid('json')), 201)
		)
		.get('/devices/me', requireDevice(deps), async (c) => c.json(await service.deviceMe(deps.db, c.get('device'))))
		.post('/devices/me/revoke', requireStaff(deps, MANAGERS), async (c) => {
			await service.revokeCurrentDevice(deps.db, c.get('staff').deviceId);
			return c.body(null, 204);
		})
		.post('/sessions', requireDevice(deps), validate('json', SessionBody), async (c) =>
			c.json(await service.signIn(deps.db, deps.config, c.get('device'), c.req.valid('json')), 201)
		)
		.delete('/sessions/current', async (c) => {
			const { claims } = await authenticateSession(deps, c.req.header('authorization'));
			await service.signOut(deps.db, claims);
			return c.body(null, 204);
		});
}
