/**
 * /api/followups — compose (context, preview, queue), status, and templates (managers edit).
 */
import { Hono } from 'hono';
import * as v from 'valibot';
import type { AppDeps, AppEnv } from '../../http/context.ts';
import { validate } from '../../http/validate.ts';
import { MANAGERS, requireStaff } from '../staff/auth.middleware.ts';
import * as service from './followups.service.ts';
import { notifyContact } from '../../shared/contact.ts';
import { MAX_PRODUCTS, MAX_TEXT_LENGTH } from '../../integrations/line/flex.ts';

const Uuid = v.pipe(v.string(), v.uuid('Must be a UUID'));
const ComposeBody = v.object({
	customerId: Uuid,
	templateKey: v.optional(v.nullable(v.pipe(v.string(), v.regex(/^[a-z0-9_]{1,40}$/, 'Not a template key')))),
	text: v.pipe(v.string(), v.maxLength(MAX_TEXT_LENGTH, `At most ${MAX_TEXT_LENGTH} characters`)),
	productIds: v.pipe(
		v.array(v.pipe(v.number(), v.integer(), v.minValue(1))),
		v.maxLength(MAX_PRODUCTS, `At most ${MAX_PRODUCTS} products`)
	)
});
const QueueBody = v.object({
	...ComposeBody.entries,
	id: v.optional(Uuid),
	/** A manager's override of the contact limit; the reason is checked in the service (400 override_reason_required). */
	override: v.optional(v.nullable(v.object({ reason: v.optional(v.nullable(v.pipe(v.string(), v.maxLength(500, 'At most 500 characters')))) })))
});
const TemplateBody = v.object({
	title: v.pipe(v.string(), v.trim(), v.minLength(1, 'Required'), v.maxLength(40, 'At most 40 characters')),
	body: v.pipe(v.string(), v.trim(), v.minLength(1, 'Required'), v.maxLength(2000, 'At most 2000 characters'))
});
const KeyParam = v.object({ key: v.pipe(v.string(), v.regex(/^[a-z0-9_]{1,40}$/, 'Not a template key')) });
const IdParam = v.object({ id: Uuid });
const CustomerParam = v.object({ customerId: Uuid });

export function followUpRoutes(deps: AppDeps) {
	const base = deps.config.publicBaseUrl;
	const now = () => (deps.now ? deps.now() : new Date());
	return new Hono<AppEnv>()
		.get('/templates', requireStaff(deps), async (c) => c.json({ templates: await service.listTemplates(deps.db) }))
		.put('/templates/:key', requireStaff(deps, MANAGERS), validate('param', KeyParam), validate('json', TemplateBody), async (c) => {
			const { title, body } = c.req.valid('json');
			const template = await service.saveTemplate(deps.db, c.get('staff'), c.req.valid('param').key, title, body);
			return c.json({ template });
		})
		.get('/compose/:customerId', requireStaff(deps), validate('param', CustomerParam), async (c) =>
			c.json(await service.composeContext(deps.db, c.get('staff'), c.req.valid('param').customerId, now()))
		)
		.post('/preview', requireStaff(deps), validate('json', ComposeBody), async (c) =>
			c.json(await service.preview(deps.db, c.get('staff'), c.req.valid('json'), base))
		)
		.post('/', requireStaff(deps), validate('json', QueueBody), async (c) => {
			const staff = c.get('staff')!;
			const result = await service.queueFollowUp(deps.db, staff, c.req.valid('json'), base, deps.wake.outbox, now());
			if (result.created) {
				const body = c.req.valid('json');
				await notifyContact(deps.contactHooks, deps.db, deps.logger, {
					kind: 'followup', customerId: body.customerId, staffId: staff.id, storeId: staff.storeId, sourceId: result.followUp.id, templateKey: body.templateKey ?? null
				});
			}
			return c.json({ followUp: result.followUp }, result.created ? 201 : 200);
		})
		.get('/:id', requireStaff(deps), validate('param', IdParam), async (c) =>
			c.json({ followUp: await service.getFollowUp(deps.db, c.get('staff'), c.req.valid('param').id) })
		);
}
