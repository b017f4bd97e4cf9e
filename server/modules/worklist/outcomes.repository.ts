/**
 * The outcomes of list items (a report query: reads follow-ups, consultations, clicks and
 * purchases beside the items). Items count in the period of their due date (JST).
 */
import { sql } from 'kysely';
import type { DbOrTrx } from '../../db/index.ts';

export interface OutcomeRow {
	staff_id: string | null;
	staff_name: string | null;
	store_id: string | null;
	store_name: string | null;
	reason: string | null;
	by: 'staff' | 'reason';
	items: number;
	done: number;
	dismissed: number;
	contacted: number;
	clicked: number;
	bought: number;
	uncontacted: number;
	uncontacted_bought: number;
}

export async function outcomeRows(db: DbOrTrx, from: string, to: string, storeId: string | null, windowDays: number): Promise<OutcomeRow[]> {
	const win = sql`(${windowDays}::int * interval '1 day')`;
	const rows = await sql<OutcomeRow>`
		with items as (
			select w.id, w.customer_id, w.staff_id, w.store_id, w.reason, w.state, w.created_at,
				least(
					(select min(f.created_at) from follow_ups f where f.customer_id = w.customer_id and f.status not in ('cancelled', 'failed')
						and f.created_at >= w.created_at and f.created_at < w.created_at + ${win}),
					(select min(k.occurred_at) from consultations k where k.customer_id = w.customer_id
						and k.occurred_at >= w.created_at and k.occurred_at < w.created_at + ${win})
				) as contacted_at
			from worklist_items w
			where w.due_on between ${from}::date and ${to}::date
				and (w.dismiss_reason is null or w.dismiss_reason <> 'campaign_archived')
				${storeId ? sql`and w.store_id = ${storeId}` : sql``}
		), measured as (
			select i.*,
				i.contacted_at is not null and exists (select 1 from link_clicks l where l.customer_id = i.customer_id
					and l.clicked_at >= i.contacted_at and l.clicked_at < i.contacted_at + ${win}) as clicked,
				exists (select 1 from store_purchases p where p.customer_id = i.customer_id and p.kind = 'sale'
						and p.purchased_at >= coalesce(i.contacted_at, i.created_at) and p.purchased_at < coalesce(i.contacted_at, i.created_at) + ${win})
					or exists (select 1 from ec_orders o where o.customer_id = i.customer_id and o.status <> 'cancelled'
						and o.ordered_at >= coalesce(i.contacted_at, i.created_at) and o.ordered_at < coalesce(i.contacted_at, i.created_at) + ${win}) as bought
			from items i
		)
		select m.staff_id, s.display_name as staff_name, case when grouping(m.store_id) = 0 then m.store_id end as store_id,
			case when grouping(m.store_id) = 0 then st.name end as store_name,
			m.reason, case when grouping(m.reason) = 0 then 'reason' else 'staff' end as by,
			count(*)::int as items,
			count(*) filter (where m.state = 'done')::int as done,
			count(*) filter (where m.state = 'dismissed')::int as dismissed,
			count(*) filter (where m.contacted_at is not null)::int as contacted,
			count(*) filter (where m.clicked)::int as clicked,
			count(*) filter (where m.contacted_at is not null and m.bought)::int as bought,
			count(*) filter (where m.contacted_at is null)::int as uncontacted,
			count(*) filter (where m.contacted_at is null and m.bought)::int as uncontacted_bought
		from measured m left join staff s on s.id = m.staff_id left join stores st on st.id = m.store_id
		group by grouping sets ((m.staff_id, s.display_name, m.store_id, st.name), (m.reason))
		order by by, staff_name nulls last, store_id, m.reason`.execute(db);
	return rows.rows;
}
