/**
 * /api/privacy — the staff side of consent and APPI requests:
 * - managers and admins: the list of disclosure and erasure requests with due dates; one
 *   customer's consent history and who viewed them; filing a withdrawal asked for in the store;
 * - any signed-in staff member: recording the customer's consent answer given in the store
 *   (ledger channel `tablet`, with the staff member's id).
 */
import { Hono } from 'hono';
import * as v from 'valibot';
import type { AppDeps, AppEnv } from '../../http/context.ts';
import { validate } from '../../http/validate.ts';
import { MANAGERS, requireStaff } from '../staff/auth.middleware.ts';
import * as privacy from './privacy.service.ts';

const Uuid = v.pipe(v.string(), v.uuid('Must be a UUID'));
const CustomerParam = v.object({ customerId: Uuid });
const RequestsQuery = v.object({ status: v.optional(v.picklist(['pending', 'done', 'cancelled'])) });
const ConsentBody = v.object({
	purpose: v.picklist(['purchase_linking', 'staff_messages']),
	granted: v.boolean(),
	clientId: v.optional(Uuid)
});
const LeaveBody = v.object({ clientId: Uuid });

export function privacyRoutes(deps: AppDeps) {
	return new Hono<AppEnv>()
		.get('/requests', requireStaff(deps, MANAGERS), validate('query', RequestsQuery), async (c) => {
			c.header('cache-control', 'no-store');
			return c.json(await privacy.listRequests(deps.db, { status: c.req.valid('query').status }));
		})
		.get('/customers/:customerId', requireStaff(deps, MANAGERS), validate('param', CustomerParam), async (c) => {
			c.header('cache-control', 'no-store');
			return c.json(await privacy.customerPrivacy(deps.db, c.req.valid('param').customerId));
		})
		.post('/customers/:customerId/consent', requireStaff(deps), validate('param', CustomerParam), validate('json', ConsentBody), async (c) => {
			const body = c.req.valid('json');
			const consent = await privacy.recordConsentInStore(deps.db, c.get('staff')!, c.req.valid('param').customerId, body.purpose, body.granted, body.clientId ?? null);
			return c.json({ consent });
		})
		.post('/customers/:customerId/leave', requireStaff(deps, MANAGERS), validate('param', CustomerParam), validate('json', LeaveBody), async (c) => {
			const result = await privacy.leave(deps, c.req.valid('param').customerId, {
				channel: 'tablet',
				staffId: c.get('staff')!.id,
				clientId: c.req.valid('json').clientId
			});
			return c.json(result, result.applied ? 201 : 200);
		});
}
