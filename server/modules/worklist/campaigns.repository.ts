/** SQL of manager campaigns: the campaign rows, the segment's customers, and their items. */
import { sql } from 'kysely';
import type { DbOrTrx } from '../../db/index.ts';
import { textArray } from '../../db/pg-array.ts';
import { ELIGIBLE_SQL } from './rules.ts';

export interface SegmentRow {
	id: string;
	home_store_id: string;
	owner_staff_id: string | null;
	store_n: number;
	ec_n: number;
	ltv: number;
	first_at: Date | null;
	last_at: Date | null;
}

/** Every contactable customer of these store books with their purchase summary (the segment filter runs on it). */
export async function segmentBase(db: DbOrTrx, storeIds: string[]): Promise<SegmentRow[]> {
	const rows = await sql<SegmentRow>`
		with scope as (
			select c.id, c.home_store_id, os.id as owner_staff_id
			from customers c left join staff os on os.id = c.owner_staff_id and os.active
			where c.home_store_id = any(${textArray(storeIds)}::text[]) and ${sql.raw(ELIGIBLE_SQL)}
		), s as (
			select p.customer_id, count(*) filter (where p.kind = 'sale')::int as n, coalesce(sum(p.total_yen), 0)::bigint as yen,
				min(p.purchased_at) filter (where p.kind = 'sale') as first, max(p.purchased_at) filter (where p.kind = 'sale') as last
			from store_purchases p join scope on scope.id = p.customer_id group by p.customer_id
		), e as (
			select o.customer_id, count(*)::int as n, coalesce(sum(o.total_yen), 0)::bigint as yen, min(o.ordered_at) as first, max(o.ordered_at) as last
			from ec_orders o join scope on scope.id = o.customer_id where o.status <> 'cancelled' group by o.customer_id
		)
		select scope.id, scope.home_store_id, scope.owner_staff_id, coalesce(s.n, 0) as store_n, coalesce(e.n, 0) as ec_n,
			(coalesce(s.yen, 0) + coalesce(e.yen, 0))::float8 as ltv, least(s.first, e.first) as first_at, greatest(s.last, e.last) as last_at
		from scope left join s on s.customer_id = scope.id left join e on e.customer_id = scope.id`.execute(db);
	return rows.rows.map((r) => ({ ...r, store_n: Number(r.store_n), ec_n: Number(r.ec_n), ltv: Number(r.ltv) }));
}

export async function insertCampaign(
	db: DbOrTrx,
	row: { store_id: string | null; name: string; template_key: string | null; message: string; segment: Record<string, unknown>; starts_on: string; due_on: string; created_by: string }
) {
	return db
		.insertInto('worklist_campaigns')
		.values({ ...row, segment: JSON.stringify(row.segment) })
		.returningAll()
		.executeTakeFirstOrThrow();
}

export async function setCampaignItems(db: DbOrTrx, id: string, items: number): Promise<void> {
	await db.updateTable('worklist_campaigns').set({ items }).where('id', '=', id).execute();
}

export async function findCampaign(db: DbOrTrx, id: string) {
	return db.selectFrom('worklist_campaigns').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listCampaigns(db: DbOrTrx, storeId: string | null) {
	const rows = await sql<{
		id: string; store_id: string | null; name: string; template_key: string | null; message: string; segment: Record<string, unknown>;
		starts_on: string; due_on: string; items: number; created_at: Date; archived_at: Date | null; created_by_name: string;
		open: number; done: number; dismissed: number;
	}>`
		select k.id, k.store_id, k.name, k.template_key, k.message, k.segment, to_char(k.starts_on, 'YYYY-MM-DD') as starts_on,
			to_char(k.due_on, 'YYYY-MM-DD') as due_on, k.items, k.created_at, k.archived_at, s.display_name as created_by_name,
			count(w.id) filter (where w.state in ('open', 'snoozed'))::int as open,
			count(w.id) filter (where w.state = 'done')::int as done,
			count(w.id) filter (where w.state = 'dismissed')::int as dismissed
		from worklist_campaigns k join staff s on s.id = k.created_by left join worklist_items w on w.campaign_id = k.id
		${storeId ? sql`where k.store_id = ${storeId}` : sql``}
		group by k.id, s.display_name
		order by k.created_at desc
		limit 200`.execute(db);
	return rows.rows;
}

export async function updateCampaign(db: DbOrTrx, id: string, patch: { name?: string; template_key?: string | null; message?: string; due_on?: string }) {
	await db.updateTable('worklist_campaigns').set({ ...patch, updated_at: new Date() }).where('id', '=', id).execute();
	if (patch.due_on) {
		await db.updateTable('worklist_items').set({ due_on: patch.due_on }).where('campaign_id', '=', id).where('state', 'in', ['open', 'snoozed']).execute();
	}
	if (patch.name) {
		await sql`update worklist_items set facts = jsonb_set(facts, '{campaign}', to_jsonb(${patch.name}::text)) where campaign_id = ${id}`.execute(db);
	}
}

/** Archiving withdraws the campaign's open items (dismissed, reason 'campaign_archived'); done ones stay for the outcomes. */
export async function archiveCampaign(db: DbOrTrx, id: string, staffId: string, at: Date): Promise<void> {
	await db.updateTable('worklist_campaigns').set({ archived_at: at, updated_at: at }).where('id', '=', id).execute();
	await db
		.updateTable('worklist_items')
		.set({ state: 'dismissed', dismiss_reason: 'campaign_archived', state_changed_by: staffId, state_changed_at: at })
		.where('campaign_id', '=', id)
		.where('state', 'in', ['open', 'snoozed'])
		.execute();
}
