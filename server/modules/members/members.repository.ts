/** Kysely queries for the member card and LINE linking. */
import { sql } from 'kysely';
import type { DbOrTrx, Trx } from '../../db/index.ts';
import type { Customer } from '../../db/types.ts';

const MEMBER_COLUMNS = [
	'id',
	'member_no',
	'family_name',
	'given_name',
	'family_kana',
	'given_kana',
	'birthday',
	'birth_month_day',
	'phone',
	'home_store_id',
	'line_user_id',
	'line_friend',
	'line_blocked_at',
	'consent_terms_at',
	'merged_into'
] as const;

/** A member as the card and linking read it: the customer row's own columns. */
export type MemberRow = Pick<Customer, (typeof MEMBER_COLUMNS)[number]>;

export async function findMemberByLineUser(db: DbOrTrx, lineUserId: string): Promise<MemberRow | undefined> {
	return db.selectFrom('customers').select(MEMBER_COLUMNS).where('line_user_id', '=', lineUserId).executeTakeFirst();
}

export async function findMemberById(db: DbOrTrx, id: string): Promise<MemberRow | undefined> {
	return db.selectFrom('customers').select(MEMBER_COLUMNS).where('id', '=', id).executeTakeFirst();
}

/** Row-locks the member being linked so two LINE accounts cannot claim it at once. */
export async function findMemberByNoForUpdate(trx: Trx, memberNo: string): Promise<MemberRow | undefined> {
	return trx.selectFrom('customers').select(MEMBER_COLUMNS).where('member_no', '=', memberNo).forUpdate().executeTakeFirst();
}

export interface CardPurchase {
	channel: 'store' | 'ec';
	at: Date;
	total_yen: number;
	kind: string;
	store_name: string | null;
	staff_name: string | null;
	items: string[];
}

/**
 * The latest purchases from the store (POS receipts) and EC together, each with the store and
 * the staff member who served it (the cashier on a receipt; the attributed staff on an order).
 * Each side is limited before the union so both use their (customer_id, time) index.
 */
export async function recentPurchases(db: DbOrTrx, customerId: string, limit: number): Promise<CardPurchase[]> {
	const rows = await sql<CardPurchase>`
		select * from (
			(select 'store' as channel, sp.purchased_at as at, sp.total_yen, sp.kind,
				s.name as store_name, st.display_name as staff_name,
				array(select coalesce(p.name, l.sku) from store_purchase_lines l
					left join products p on p.id = l.product_id
					where l.purchase_id = sp.id order by l.line_no limit 3) as items
			from store_purchases sp
			join stores s on s.id = sp.store_id
			left join staff st on st.id = sp.staff_id
			where sp.customer_id = ${customerId}
			order by sp.purchased_at desc limit ${limit})
			union all
			(select 'ec' as channel, o.ordered_at as at, o.total_yen, o.status as kind,
				s.name as store_name, st.display_name as staff_name,
				array(select ol.name from ec_order_lines ol where ol.order_id = o.id order by ol.line_no limit 3) as items
			from ec_orders o
			left join attributions a on a.platform = o.platform and a.ec_order_id = o.ec_order_id and a.status = 'active'
			left join staff st on st.id = a.staff_id
			left join stores s on s.id = a.store_id
			where o.customer_id = ${customerId}
			order by o.ordered_at desc limit ${limit})
		) p
		order by at desc
		limit ${limit}`.execute(db);
	return rows.rows;
}

/** The stores a member can pick as their home store. */
export async function listStores(db: DbOrTrx): Promise<Array<{ id: string; name: string }>> {
	return db.selectFrom('stores').select(['id', 'name']).orderBy('id').execute();
}
