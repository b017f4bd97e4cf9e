/** Kysely queries for tracked_links and link_clicks; no rules here. */
import { reassignCustomerRows, type ReassignOptions } from '../../shared/reassign-customer.ts';
import { sql } from 'kysely';
import type { DbOrTrx } from '../../db/index.ts';
import type { NewTrackedLink } from '../../db/types.ts';

export type { NewTrackedLink };

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

/**
 * One insert per flush, as one array per column (`unnest`): five parameters however many
 * clicks. A VALUES list of 500 clicks has 2,500 parameters to compile and serialise on the
 * event loop that is serving redirects (a few ms per flush, felt in the redirect's p99).
 * A replayed click id is ignored.
 */
export async function insertClicks(db: DbOrTrx, clicks: NewClick[]): Promise<void> {
	if (clicks.length === 0) return;
	await sql`
		insert into link_clicks (click_id, code, customer_id, clicked_at, user_agent)
		select * from unnest(
			${clicks.map((c) => c.click_id)}::text[], ${clicks.map((c) => c.code)}::text[], ${clicks.map((c) => c.customer_id)}::uuid[],
			${clicks.map((c) => c.clicked_at.toISOString())}::timestamptz[], ${clicks.map((c) => c.user_agent)}::text[]
		)
		on conflict (click_id) do nothing`.execute(db);
}

/** Erasure: clicks stay (the funnel counts them) without the browser's user agent. */
export async function eraseClicksOf(db: DbOrTrx, customerId: string): Promise<void> {
	await db.updateTable('link_clicks').set({ user_agent: null }).where('customer_id', '=', customerId).execute();
}

/** Merge (and its undo): moves a customer's tracked links to another customer; returns the moved ids. */
export function reassignTrackedLinks(trx: DbOrTrx, from: string, to: string, options?: ReassignOptions): Promise<string[]> {
	return reassignCustomerRows(trx, 'tracked_links', 'code', from, to, options);
}

/** Merge (and its undo): moves a customer's link clicks to another customer; returns the moved ids. */
export function reassignLinkClicks(trx: DbOrTrx, from: string, to: string, options?: ReassignOptions): Promise<string[]> {
	return reassignCustomerRows(trx, 'link_clicks', 'id', from, to, options);
}
