/**
 * /api/contact — the contact-limit policy (read by staff, changed by managers) and the
 * managers' list of limit overrides. The check itself runs inside POST /api/followups.
 */
import { Hono } from 'hono';
import * as v from 'valibot';
import type { AppDeps, AppEnv } from '../../http/context.ts';
import { validate } from '../../http/validate.ts';
import { MANAGERS, requireStaff } from '../staff/auth.middleware.ts';
import * as service from './contact.service.ts';

const SettingsBody = v.object({
	maxPer7Days: v.optional(v.unknown()),
	maxPer30Days: v.optional(v.unknown()),
	quietHours: v.optional(v.unknown())
});
const OverridesQuery = v.object({
	limit: v.optional(v.pipe(v.string(), v.regex(/^\d{1,3}$/, 'A number up to 999'), v.transform(Number), v.minValue(1), v.maxValue(500)), '100')
});

export function contactRoutes(deps: AppDeps) {
	return new Hono<AppEnv>()
		.get('/settings', requireStaff(deps), async (c) => c.json({ settings: await service.contactPolicy(deps.db) }))
		.put('/settings', requireStaff(deps, MANAGERS), validate('json', SettingsBody), async (c) =>
			c.json({ settings: await service.writeContactPolicy(deps.db, c.get('staff'), c.req.valid('json')) })
		)
		.get('/overrides', requireStaff(deps, MANAGERS), validate('query', OverridesQuery), async (c) =>
			c.json({ overrides: await service.listOverrides(deps.db, c.get('staff'), Number(c.req.valid('query').limit)) })
		);
}
