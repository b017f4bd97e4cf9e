/** /api/stores, /api/devices/*, /api/sessions/* — the tablet's enrollment and sign-in. */
import { Hono } from 'hono';
import * as v from 'valibot';
import { clientAddress } from '../../http/client-address.ts';
import type { AppDeps, AppEnv } from '../../http/context.ts';
import { validate } from '../../http/validate.ts';
import { rateLimit } from '../ratelimit/rate-limit.middleware.ts';
import type { LimitPolicy } from '../ratelimit/rate-limit.service.ts';
import { authenticateSession, MANAGERS, requireDevice, requireStaff } from './auth.middleware.ts';
import { PIN_PATTERN } from './pin.ts';
import * as service from './staff.service.ts';

const Pin = v.pipe(v.string(), v.regex(PIN_PATTERN, 'PIN must be 4 to 8 digits'));

const EnrollBody = v.object({
	storeId: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
	deviceName: v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(80)),
	staffCode: v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(32)),
	pin: Pin,
	enrollmentCode: v.optional(v.pipe(v.string(), v.maxLength(40)))
});

const SessionBody = v.object({
	staffId: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
	pin: Pin
});

const EnrollmentCodeBody = v.object({ storeId: v.pipe(v.string(), v.minLength(1), v.maxLength(64)) });
const ChangePinBody = v.object({ currentPin: Pin, newPin: Pin });
const ResetPinBody = v.object({ newPin: Pin });
const StaffParam = v.object({ id: v.pipe(v.string(), v.uuid('Not a staff id')) });

/**
 * Sign-in attempts per tablet: the PIN throttle per person already stops guessing one PIN;
 * this stops one enrolled tablet from cycling through every person's five tries.
 */
const SIGN_IN_PER_DEVICE: LimitPolicy = { name: 'signin.device', capacity: 30, refillPerSecond: 0.2 };

export function staffRoutes(deps: AppDeps) {
	return new Hono<AppEnv>()
		.get('/stores', async (c) => c.json(await service.listStores(deps.db)))
		.post('/devices/enroll', validate('json', EnrollBody), async (c) =>
			c.json(
				await service.enrollDevice(deps.db, deps.config, c.req.valid('json'), clientAddress(c, deps.config.trustProxy)),
				201
			)
		)
		.get('/devices/enrollment', (c) => c.json({ codeRequired: deps.config.enrollmentCodeRequired }))
		.post('/devices/enrollment-codes', requireStaff(deps, MANAGERS), validate('json', EnrollmentCodeBody), async (c) => {
			c.header('cache-control', 'no-store');
			const staff = c.get('staff');
			return c.json(await service.issueEnrollmentCode(deps.db, staff, c.req.valid('json').storeId), 201);
		})
		.get('/devices/me', requireDevice(deps), async (c) => c.json(await service.deviceMe(deps.db, c.get('device'))))
		.post('/devices/me/revoke', requireStaff(deps, MANAGERS), async (c) => {
			await service.revokeCurrentDevice(deps.db, c.get('staff').deviceId);
			return c.body(null, 204);
		})
		.post(
			'/sessions',
			requireDevice(deps),
			rateLimit(deps, SIGN_IN_PER_DEVICE, (c) => c.get('device').id),
			validate('json', SessionBody),
			async (c) => c.json(await service.signIn(deps.db, deps.config, c.get('device'), c.req.valid('json')), 201)
		)
		.post('/staff/me/pin', requireStaff(deps), validate('json', ChangePinBody), async (c) => {
			c.header('cache-control', 'no-store');
			return c.json(await service.changeOwnPin(deps.db, deps.config, c.get('staff'), c.req.valid('json')));
		})
		.post('/staff/:id/pin/reset', requireStaff(deps, MANAGERS), validate('param', StaffParam), validate('json', ResetPinBody), async (c) => {
			await service.resetStaffPin(deps.db, c.get('staff'), c.req.valid('param').id, c.req.valid('json').newPin);
			return c.body(null, 204);
		})
		.delete('/sessions/current', async (c) => {
			const { claims } = await authenticateSession(deps, c.req.header('authorization'));
			await service.signOut(deps.db, claims);
			return c.body(null, 204);
		});
}
