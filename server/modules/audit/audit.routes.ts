/**
 * /api/audit: the tablet reports profile views it showed from its offline cache, so the
 * privacy trail also covers openings made without a network.
 */
import { Hono } from 'hono';
import * as v from 'valibot';
import type { AppDeps, AppEnv } from '../../http/context.ts';
import { validate } from '../../http/validate.ts';
import { requireStaff } from '../staff/auth.middleware.ts';
import { listSecurityEvents, recordOfflineProfileViews } from './audit.service.ts';

/** A cached copy expires well within this; anything older is a broken clock or a forged entry. */
const MAX_AGE_MS = 30 * 86_400_000;
/** Tablet clocks drift a little; more than this ahead is not a real view time. */
const MAX_FUTURE_MS = 5 * 60_000;

const ViewedAt = v.pipe(
	v.string(),
	v.isoTimestamp('ISO timestamp'),
	v.check((s) => Date.parse(s) <= Date.now() + MAX_FUTURE_MS, 'In the future'),
	v.check((s) => Date.parse(s) >= Date.now() - MAX_AGE_MS, 'Older than 30 days')
);

const ProfileViewsBody = v.object({
	views: v.pipe(
		v.array(
			v.object({
				id: v.pipe(v.string(), v.uuid('Not a UUID')),
				customerId: v.pipe(v.string(), v.uuid('Not a customer id')),
				via: v.picklist(['scan', 'search', 'member_no', 'recent']),
				viewedAt: ViewedAt
			})
		),
		v.minLength(1, 'At least one view'),
		v.maxLength(100, 'At most 100 views')
	)
});

const SecurityQuery = v.object({
	action: v.optional(v.pipe(v.string(), v.regex(/^security\.[a-z_]{1,40}$/, 'Not a security action'))),
	beforeId: v.optional(v.pipe(v.string(), v.regex(/^\d{1,15}$/, 'Not an id'), v.transform(Number))),
	limit: v.optional(v.pipe(v.string(), v.regex(/^\d{1,3}$/, 'Not a number'), v.transform(Number), v.minValue(1), v.maxValue(200)), '50')
});

export function auditRoutes(deps: AppDeps) {
	return new Hono<AppEnv>()
		.post('/profile-views', requireStaff(deps), validate('json', ProfileViewsBody), async (c) =>
			c.json(await recordOfflineProfileViews(deps.db, c.get('staff')!, c.req.valid('json').views))
		)
		// lockouts, PIN changes/resets and enrollment codes: admins only
		.get('/security', requireStaff(deps, ['admin']), validate('query', SecurityQuery), async (c) => {
			c.header('cache-control', 'no-store');
			return c.json(await listSecurityEvents(deps.db, c.req.valid('query')));
		});
}
