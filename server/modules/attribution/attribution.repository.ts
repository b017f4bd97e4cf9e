/** Kysely queries for attribution: the order's facts, candidate links and clicks, the upsert. */
import { sql } from 'kysely';
import type { DbOrTrx } from '../../db/index.ts';
import type { AttributionDecision, ClickFacts, RefLink } from './rules.ts';

export async function findOrderForAttribution(db: DbOrTrx, platform: string, ecOrderId: string) {
	return db
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
				.as('refunded_yen')
		])
		.where('o.platform', '=', platform)
		.where('o.ec_order_id', '=', ecOrderId)
		.executeTakeFirst();
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

/** The customer's newest clicks inside [since, until] (the rules pick among them). */
export async function findRecentClicks(db: DbOrTrx, customerId: string, since: Date, until: Date): Promise<ClickFacts[]> {
	const rows = await db
		.selectFrom('link_clicks as k')
		.innerJoin('tracked_links as t', 't.code', 'k.code')
		.select(['k.click_id', 'k.code', 'k.clicked_at', 't.staff_id', 't.store_id', 't.follow_up_id'])
		.where('k.customer_id', '=', customerId)
		.where('k.clicked_at', '>=', since)
		.where('k.clicked_at', '<=', until)
		.orderBy('k.clicked_at', 'desc')
		.orderBy('k.click_id', 'desc')
		.limit(5)
		.execute();
	return rows.map((r) => ({
		clickId: r.click_id,
		code: r.code,
		clickedAt: new Date(r.clicked_at),
		staffId: r.staff_id,
		storeId: r.store_id,
		followUpId: r.follow_up_id
	}));
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
