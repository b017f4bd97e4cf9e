/** PUT /api/consultations/:id — idempotent create of a 接客記録 by its client-generated UUID. */
import { Hono } from 'hono';
import * as v from 'valibot';
import type { AppDeps, AppEnv } from '../../http/context.ts';
import { validate } from '../../http/validate.ts';
import { requireStaff } from '../staff/auth.middleware.ts';
import * as service from './consultations.service.ts';
import { notifyContact } from '../../shared/contact.ts';
import { writeSetting } from '../settings/settings.service.ts';

const Text = (max: number) => v.pipe(v.string(), v.trim(), v.maxLength(max, `At most ${max} characters`));

const Item = v.object({
	productId: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
	sku: v.optional(Text(64)),
	name: v.pipe(Text(200), v.minLength(1, 'Required')),
	size: v.optional(Text(20)),
	color: v.optional(Text(40)),
	outcome: v.picklist(['tried', 'bought', 'interested'], 'tried, bought or interested')
});

const YMD = v.pipe(
	v.string(),
	v.regex(/^\d{4}-\d{2}-\d{2}$/, 'YYYY-MM-DD'),
	v.check((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s), 'Not a date')
);

const Body = v.pipe(
	v.object({
		customerId: v.optional(v.pipe(v.string(), v.uuid('Not a customer id'))),
		memberNo: v.optional(v.pipe(v.string(), v.regex(/^[0-9A-Za-z-]{1,32}$/, 'Not a member number'))),
		occurredAt: v.pipe(v.string(), v.isoTimestamp('ISO timestamp with time zone')),
		items: v.pipe(v.array(Item), v.maxLength(30, 'At most 30 items')),
		sizes: v.pipe(
			v.record(v.pipe(v.string(), v.minLength(1), v.maxLength(40)), Text(20)),
			v.check((r) => Object.keys(r).length <= 20, 'At most 20 sizes')
		),
		notes: Text(2000),
		tags: v.pipe(v.array(v.pipe(Text(30), v.minLength(1))), v.maxLength(10, 'At most 10 tags')),
		nextAction: v.optional(Text(200)),
		nextActionDue: v.optional(YMD)
	}),
	v.forward(
		v.check((b) => Boolean(b.customerId || b.memberNo), 'customerId or memberNo is required'),
		['customerId']
	)
);

const Params = v.object({ id: v.pipe(v.string(), v.uuid('The id must be a UUID')) });

export function consultationRoutes(deps: AppDeps) {
	return new Hono<AppEnv>()
		.get('/size-lists', requireStaff(deps), async (c) => c.json({ lists: await service.sizeLists(deps.db) }))
		// the brand's lists, admins only; a bad shape is 400 invalid_setting (settings module)
		.put('/size-lists', requireStaff(deps, ['admin']), validate('json', v.object({ lists: v.unknown() })), async (c) => {
			const lists = await writeSetting(deps.db, service.SIZE_LISTS, c.req.valid('json').lists, c.get('staff')!.id);
			return c.json({ lists });
		})
		.put('/:id', requireStaff(deps), validate('param', Params), validate('json', Body), async (c) => {
		const staff = c.get('staff')!;
		const result = await service.putConsultation(deps.db, staff, c.req.valid('param').id, c.req.valid('json'), deps.consultationHooks);
		if (result.created) {
			await notifyContact(deps.contactHooks, deps.db, deps.logger, {
				kind: 'consultation', customerId: result.consultation.customerId, staffId: staff.id, storeId: staff.storeId, sourceId: result.consultation.id
			});
		}
		return c.json({ consultation: result.consultation }, result.created ? 201 : 200);
	});
}
