/**
 * /api/webhooks/parked — deliveries the inbox gave up on (a payload that can never be applied
 * as it is), with the reason, for admins; and a retry once the cause is fixed (e.g. a product
 * or a code change deployed). Brand-wide data, so admins only.
 */
import { Hono } from 'hono';
import * as v from 'valibot';
import { notFound } from '../../errors.ts';
import type { AppDeps, AppEnv } from '../../http/context.ts';
import { validate } from '../../http/validate.ts';
import { requireStaff } from '../staff/auth.middleware.ts';
import { parkedWebhooks, retryParkedWebhook } from './inbox.service.ts';

const Id = v.pipe(v.string(), v.regex(/^\d{1,15}$/, 'Not an id'), v.transform(Number));
const ListQuery = v.object({
	limit: v.optional(v.pipe(v.string(), v.regex(/^\d{1,3}$/, '1–500'), v.transform(Number), v.minValue(1), v.maxValue(500)), '100'),
	before: v.optional(Id)
});

export function parkedWebhookRoutes(deps: AppDeps) {
	return new Hono<AppEnv>()
		.use(requireStaff(deps, ['admin']))
		.get('/parked', validate('query', ListQuery), async (c) => {
			const q = c.req.valid('query');
			return c.json(await parkedWebhooks(deps.db, q.limit, q.before));
		})
		.post('/parked/:id/retry', validate('param', v.object({ id: Id })), async (c) => {
			const { id } = c.req.valid('param');
			if (!(await retryParkedWebhook(deps.db, id, deps.wake.inbox))) throw notFound('webhook_not_found', 'No parked webhook with this id');
			c.get('log').info({ inboxId: id, by: c.get('staff')!.id }, 'parked webhook retried');
			return c.json({ ok: true as const, id });
		});
}
