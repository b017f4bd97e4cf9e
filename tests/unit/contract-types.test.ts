/**
 * The SPA's wire types come from the server's routes (src/lib/api/types.ts over hc<AppType>).
 * These assertions are checked by `npm run check` (tsc over tests/): they fail there when a
 * response field the screens read is renamed on the server, and the @ts-expect-error lines fail
 * when the derived types decay to `any` (then a renamed field would pass unnoticed). At run time
 * they only prove the file loads.
 */
import { describe, expectTypeOf, it } from 'vitest';
import type { FollowUp, KpiReport, Profile, SalesOrdersReport, TimelineEntry, TodayList, WorklistItem } from '../../src/lib/api/types.ts';

describe('the SPA–server contract (types)', () => {
	it('profile, timeline and today list carry the fields the screens read', () => {
		expectTypeOf<Profile>().toHaveProperty('customer');
		expectTypeOf<Profile['customer']>().toHaveProperty('state');
		expectTypeOf<TimelineEntry>().toHaveProperty('kind');
		expectTypeOf<TodayList>().toHaveProperty('groups');
		expectTypeOf<WorklistItem>().toHaveProperty('reason');
		expectTypeOf<FollowUp>().toHaveProperty('status');
		// @ts-expect-error — a field no route sends: the types are the routes', not `any`
		expectTypeOf<Profile>().toHaveProperty('customerr');
		// @ts-expect-error — likewise for a list item
		expectTypeOf<WorklistItem>().toHaveProperty('reasn');
	});

	it('report money is integer yen as numbers and dates are ISO strings', () => {
		type Order = SalesOrdersReport['orders'][number];
		expectTypeOf<Order['orderedAt']>().toEqualTypeOf<string>();
		expectTypeOf<KpiReport>().not.toBeAny();
	});
});
