/**
 * /api/client-book/* — 担当顧客: the book page, claiming, assigning, handing a book over,
 * deactivating a staff member (with the book decision), the ownership audit and the setting.
 */
import { Hono } from 'hono';
import * as v from 'valibot';
import type { AppDeps, AppEnv } from '../../http/context.ts';
import { validate } from '../../http/validate.ts';
import { readSetting, writeSetting } from '../settings/settings.service.ts';
import { MANAGERS, requireStaff } from '../staff/auth.middleware.ts';
import { CUSTOMER_STATES } from '../customers/state.ts';
import { listBook, PAGE_MAX } from './book.service.ts';
import { FIRST_CONTACT_OWNER } from './clientbook.settings.ts';
import * as service from './clientbook.service.ts';

const JstDate = v.pipe(v.string(), v.regex(/^\d{4}-\d{2}-\d{2}$/, 'Use YYYY-MM-DD'));
const Int = (min: number, max: number) => v.pipe(v.string(), v.regex(/^\d{1,12}$/, 'A whole number'), v.transform(Number), v.minValue(min), v.maxValue(max));
const Uuid = (what: string) => v.pipe(v.string(), v.uuid(`Not a ${what} id`));
const Note = v.optional(v.nullable(v.pipe(v.string(), v.trim(), v.maxLength(500, 'At most 500 characters'))));
const CustomerIds = v.pipe(v.array(Uuid('customer')), v.minLength(1, 'Choose at least one customer'), v.maxLength(service.MAX_CUSTOMERS_PER_CALL));

const BookQuery = v.object({
	scope: v.optional(v.picklist(['mine', 'store', 'proposed', 'staff']), 'mine'),
	staffId: v.optional(Uuid('staff')),
	state: v.optional(
		v.pipe(
			v.string(),
			v.transform((s) => s.split(',').filter(Boolean)),
			v.array(v.picklist(CUSTOMER_STATES, 'Unknown state'))
		)
	),
	lastPurchaseFrom: v.optional(JstDate),
	lastPurchaseTo: v.optional(JstDate),
	ltvMin: v.optional(Int(0, 1_000_000_000)),
	ltvMax: v.optional(Int(0, 1_000_000_000)),
	birthdayMonth: v.optional(Int(1, 12)),
	line: v.optional(v.picklist(['reachable', 'unreachable'])),
	sort: v.optional(v.picklist(['last_contact', 'ltv', 'last_purchase']), 'last_purchase'),
	dir: v.optional(v.picklist(['asc', 'desc']), 'desc'),
	cursor: v.optional(v.pipe(v.string(), v.maxLength(200))),
	limit: v.optional(Int(1, PAGE_MAX), String(PAGE_MAX))
});

const ClaimBody = v.object({ customerIds: CustomerIds, note: Note });
const AssignBody = v.object({ customerIds: CustomerIds, toStaffId: v.nullable(Uuid('staff')), note: Note });
const Shares = v.array(
	v.object({
		staffId: Uuid('staff'),
		percent: v.pipe(v.number(), v.integer('Whole percent'), v.minValue(1, 'At least 1%'), v.maxValue(100, 'At most 100%'))
	})
);
const Target = v.union([v.object({ storeBook: v.literal(true) }), v.object({ shares: v.pipe(Shares, v.maxLength(50)) })]);
const HandoverBody = v.object({
	fromStaffId: Uuid('staff'),
	customerIds: v.optional(CustomerIds),
	to: Target,
	note: Note
});
const DeactivateBody = v.object({ handover: v.optional(Target), note: Note });
const StaffParam = v.object({ id: Uuid('staff') });
const CustomerParam = v.object({ customerId: Uuid('customer') });
const ChangesQuery = v.object({
	customerId: v.optional(Uuid('customer')),
	staffId: v.optional(Uuid('staff')),
	beforeId: v.optional(Int(1, Number.MAX_SAFE_INTEGER)),
	limit: v.optional(Int(1, 500), '100')
});
const SettingsBody = v.object({ firstContactOwner: v.picklist(['propose', 'assign', 'off']) });

export function clientBookRoutes(deps: AppDeps) {
	return new Hono<AppEnv>()
		.get('/', requireStaff(deps), validate('query', BookQuery), async (c) => {
			c.header('cache-control', 'no-store');
			const q = c.req.valid('query');
			return c.json(await listBook(deps, c.get('staff'), { ...q, state: q.state as never }));
		})
		.post('/claim', requireStaff(deps), validate('json', ClaimBody), async (c) => {
			const { customerIds, note } = c.req.valid('json');
			return c.json(await service.claim(deps.db, c.get('staff'), customerIds, note ?? null));
		})
		.delete('/proposals/:customerId', requireStaff(deps), validate('param', CustomerParam), async (c) => {
			await service.dismissProposal(deps.db, c.get('staff'), c.req.valid('param').customerId);
			return c.body(null, 204);
		})
		.post('/assign', requireStaff(deps, MANAGERS), validate('json', AssignBody), async (c) =>
			c.json(await service.assign(deps.db, c.get('staff'), c.req.valid('json')))
		)
		.post('/handover', requireStaff(deps, MANAGERS), validate('json', HandoverBody), async (c) =>
			c.json(await service.handover(deps.db, c.get('staff'), c.req.valid('json')))
		)
		.post('/staff/:id/deactivate', requireStaff(deps, MANAGERS), validate('param', StaffParam), validate('json', DeactivateBody), async (c) =>
			c.json(await service.deactivateStaff(deps.db, c.get('staff'), c.req.valid('param').id, c.req.valid('json')))
		)
		.get('/staff', requireStaff(deps, MANAGERS), async (c) => c.json(await service.staffBooks(deps.db, c.get('staff'))))
		.get('/changes', requireStaff(deps, MANAGERS), validate('query', ChangesQuery), async (c) => {
			c.header('cache-control', 'no-store');
			const q = c.req.valid('query');
			return c.json(await service.ownerChanges(deps.db, c.get('staff'), { ...q, limit: q.limit }));
		})
		.get('/settings', requireStaff(deps), async (c) => c.json({ firstContactOwner: await readSetting(deps.db, FIRST_CONTACT_OWNER) }))
		.put('/settings', requireStaff(deps, MANAGERS), validate('json', SettingsBody), async (c) => {
			const value = await writeSetting(deps.db, FIRST_CONTACT_OWNER, c.req.valid('json').firstContactOwner, c.get('staff').id);
			return c.json({ firstContactOwner: value });
		});
}
