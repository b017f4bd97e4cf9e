/**
 * /api/audit: the tablet reports profile views it showed from its offline cache, so the
 * privacy trail also covers openings made without a network.
 */
import { Hono } from 'hono';
import * as v from 'valibot';
import type { AppDeps, AppEnv } from '../../http/context.ts';
import { validate } from '../../http/validate.ts';
import { requireStaff } from '../staff/auth.middleware.ts';
import { recordOfflineProfileViews } from './audit.service.ts';

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

export function auditRoutes(deps: AppDeps) {
	return new Hono<AppEnv>()
		.use(requireStaff(deps))
		.post('/profile-views', validate('json', ProfileViewsBody), async (c) =>
			c.json(await recordOfflineProfileViews(deps.db, c.get('staff')!, c.req.valid('json').views))
		);
}
