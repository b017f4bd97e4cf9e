/** Kysely queries for tracked_links and link_clicks; no rules here. */
import type { DbOrTrx } from '../../db/index.ts';

export interface NewTrackedLink {
	code: string;
	follow_up_id: string | null;
	staff_id: string;
	store_id: string;
	customer_id: string | null;
	product_id: number | null;
	target_url: string;
}

export async function insertLinks(db: DbOrTrx, links: NewTrackedLink[]): Promise<void> {
	if (links.length === 0) return;
	await db.insertInto('tracked_links').values(links).execute();
}

export async function findLinkTarget(db: DbOrTrx, code: string) {
	return db
		.selectFrom('tracked_links')
		.select(['code', 'target_url', 'customer_id'])
		.where('code', '=', code)
		.executeTakeFirst();
}

export interface NewClick {
	click_id: string;
	code: string;
	customer_id: string | null;
	clicked_at: Date;
	user_agent: string | null;
}

/** One multi-row insert per flush; a replayed click id is ignored. */
export async function insertClicks(db: DbOrTrx, clicks: NewClick[]): Promise<void> {
	if (clicks.length === 0) return;
	await db
		.insertInto('link_clicks')
		.values(clicks)
		.onConflict((oc) => oc.column('click_id').doNothing())
		.execute();
}
