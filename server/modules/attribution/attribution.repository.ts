/** Kysely queries for attribution: the order's facts, candidate links and clicks, the upsert. */
import { sql } from 'kysely';
import type { DbOrTrx } from '../../db/index.ts';
import type { AttributionDecision, ClickFacts, RefLink } from './rules.ts';

/**
 * The order's facts for attribution and, in the same statement, the customer's newest clicks
 * inside [ordered_at − window, ordered_at] (the last-touch candidates; the rules pick among
 * them). One round trip instead of two: this runs for every order webhook.
 */
export async function findOrderForAttribution(db: DbOrTrx, platform: string, ecOrderId: string, windowDays: number) {
	const row = await db
		.selectFrom('ec_orders as o')
		.select((eb) => [
			'o.ordered_at',
			'o.customer_id',
			'o.status',
			'o.total_yen',
			'o.ref_code',
			'o.landing_site',
			'o.note_attributes',
			eb
				.selectFrom('ec_refunds as r')
				.select(sql<number>`coalesce(sum(r.amount_yen), 0)::int`.as('s'))
				.whereRef('r.platform', '=', 'o.platform')
				.whereRef('r.ec_order_id', '=', 'o.ec_order_id')
				.as('refunded_yen'),
			// exact seconds, not calendar days: the window must not stretch across a DST change
			sql<RecentClickJson[]>`(
				select coalesce(json_agg(c order by c.clicked_at desc, c.click_id desc), '[]'::json) from (
					select k.click_id, k.code, k.clicked_at, t.staff_id, t.store_id, t.follow_up_id
					from link_clicks k join tracked_links t on t.code = k.code
					where k.customer_id = o.customer_id
						and k.clicked_at >= o.ordered_at - make_interval(secs => ${windowDays * 86_400})
						and k.clicked_at <= o.ordered_at
					order by k.clicked_at desc, k.click_id desc
					limit 5
				) c
			)`.as('recent_clicks')
		])
		.where('o.platform', '=', platform)
		.where('o.ec_order_id', '=', ecOrderId)
		.executeTakeFirst();
	if (!row) return undefined;
	const { recent_clicks, ...order } = row;
	return { ...order, recentClicks: parseClicks(recent_clicks) };
}

interface RecentClickJson {
	click_id: string;
	code: string;
	clicked_at: string;
	staff_id: string;
	store_id: string;
	follow_up_id: string | null;
}

function parseClicks(value: RecentClickJson[] | string | null): ClickFacts[] {
	const list: RecentClickJson[] = typeof value === 'string' ? JSON.parse(value) : (value ?? []);
	return list.map((r) => ({
		clickId: r.click_id,
		code: r.code,
		clickedAt: new Date(r.clicked_at),
		staffId: r.staff_id,
		storeId: r.store_id,
		followUpId: r.follow_up_id
	}));
}

/** Links for the given codes, each with its latest click at or before the order. */
export async function findRefLinks(db: DbOrTrx, codes: string[], orderedAt: Date): Promise<RefLink[]> {
	if (codes.length === 0) return [];
	const rows = await db
		.selectFrom('tracked_links as t')
		.select((eb) => [
			't.code',
			't.staff_id',
			't.store_id',
			't.follow_up_id',
			eb
				.selectFrom('link_clicks as k')
				.select('k.click_id')
				.whereRef('k.code', '=', 't.code')
				.where('k.clicked_at', '<=', orderedAt)
				.orderBy('k.clicked_at', 'desc')
				.orderBy('k.click_id', 'desc')
				.limit(1)
				.as('click_id')
		])
		.where('t.code', 'in', codes)
		.execute();
	const byCode = new Map(rows.map((r) => [r.code, r]));
	return codes.flatMap((code) => {
		const r = byCode.get(code);
		return r ? [{ code, staffId: r.staff_id, storeId: r.store_id, followUpId: r.follow_up_id, clickId: r.click_id ?? null }] : [];
	});
}

export async function upsertAttribution(
	db: DbOrTrx,
	key: { platform: string; ecOrderId: string },
	customerId: string | null,
	orderedAt: Date,
	d: AttributionDecision
): Promise<void> {
	const values = {
		staff_id: d.staffId,
		store_id: d.storeId,
		customer_id: customerId,
		rule: d.rule,
		link_code: d.linkCode,
		click_id: d.clickId,
		follow_up_id: d.followUpId,
		status: d.status,
		ordered_at: orderedAt,
		gross_yen: d.grossYen,
		refunded_yen: d.refundedYen
	};
	await db
		.insertInto('attributions')
		.values({ platform: key.platform, ec_order_id: key.ecOrderId, ...values })
		.onConflict((oc) => oc.columns(['platform', 'ec_order_id']).doUpdateSet({ ...values, updated_at: sql<Date>`now()` }))
		.execute();
}

export async function deleteAttribution(db: DbOrTrx, key: { platform: string; ecOrderId: string }): Promise<void> {
	await db.deleteFrom('attributions').where('platform', '=', key.platform).where('ec_order_id', '=', key.ecOrderId).execute();
}

export async function findAttribution(db: DbOrTrx, platform: string, ecOrderId: string) {
	return db
		.selectFrom('attributions')
		.selectAll()
		.where('platform', '=', platform)
		.where('ec_order_id', '=', ecOrderId)
		.executeTakeFirst();
}
