/**
 * /api/customers for the staff tablet: search, member-number lookup, the unified profile
 * (audited), today's customers for the offline cache, the consultation history, and the
 * reading (kana) a customer gave staff in the store.
 */
import { Hono } from 'hono';
import * as v from 'valibot';
import type { AppDeps, AppEnv } from '../../http/context.ts';
import { validate } from '../../http/validate.ts';
import { customerConsultations } from '../consultations/consultations.service.ts';
import { requireStaff } from '../staff/auth.middleware.ts';
import * as service from './profile.service.ts';
import { listCustomerIds } from '../worklist/worklist.service.ts';

const SearchQuery = v.object({
	q: v.optional(v.pipe(v.string(), v.maxLength(100)), ''),
	offset: v.optional(v.pipe(v.string(), v.regex(/^\d{1,4}$/, 'A page offset (0–9999)'), v.transform(Number)), '0')
});
const MemberParam = v.object({ memberNo: v.pipe(v.string(), v.regex(/^[0-9A-Za-z-]{1,32}$/, 'Not a member number')) });
const IdParam = v.object({ id: v.pipe(v.string(), v.uuid('Not a customer id')) });
const KanaBody = v.object({
	familyKana: v.pipe(v.string(), v.maxLength(80)),
	givenKana: v.optional(v.nullable(v.pipe(v.string(), v.maxLength(80))))
});
const ProfileQuery = v.object({
	via: v.optional(v.picklist(['scan', 'search', 'member_no', 'recent']), 'search'),
	before: v.optional(v.pipe(v.string(), v.isoTimestamp('ISO timestamp')))
});

export function customerRoutes(deps: AppDeps) {
	return new Hono<AppEnv>()
		.use(requireStaff(deps))
		.get('/search', validate('query', SearchQuery), async (c) => {
			const { q, offset } = c.req.valid('query');
			c.header('cache-control', 'no-store');
			return c.json(await service.searchCustomers(deps, q, { offset }));
		})
		.get('/today', async (c) => {
			const staff = c.get('staff')!;
			const listIds = await listCustomerIds(deps.db, staff, deps.worklist.options);
			return c.json(await service.todaysCustomers(deps, staff, new Date(), listIds));
		})
		.get('/by-member/:memberNo', validate('param', MemberParam), async (c) =>
			c.json(await service.customerIdByMemberNo(deps, c.req.valid('param').memberNo))
		)
		.get('/:id/profile', validate('param', IdParam), validate('query', ProfileQuery), async (c) => {
			const { via, before } = c.req.valid('query');
			const profile = await service.getProfile(deps, c.get('staff')!, c.req.valid('param').id, {
				via,
				before: before ? new Date(before) : undefined
			});
			// personal data: the tablet keeps its own (expiring) copy; no shared caches
			c.header('cache-control', 'no-store');
			return c.json(profile);
		})
		// 「カナ未登録」: the reading the customer gave in the store (fills an empty one only)
		.put('/:id/kana', validate('param', IdParam), validate('json', KanaBody), async (c) => {
			return c.json(await service.recordKanaInStore(deps, c.req.valid('param').id, c.req.valid('json')));
		})
		.get('/:id/consultations', validate('param', IdParam), async (c) => {
			c.header('cache-control', 'no-store');
			return c.json(await customerConsultations(deps.db, c.get('staff')!, c.req.valid('param').id));
		});
}
