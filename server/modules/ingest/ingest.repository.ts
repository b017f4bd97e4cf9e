/**
 * Set-based writes of the CSV import: each function loads a whole batch with one statement,
 * passing columns as arrays and reading them back with `unnest` (the same SQL on PostgreSQL and
 * PGlite; no per-row round trips). Every write is idempotent: re-running a batch changes nothing.
 */
import { reassignCustomerRows, type ReassignOptions } from '../../shared/reassign-customer.ts';
import { sql, type Kysely } from 'kysely';
import type { DbOrTrx, Trx } from '../../db/index.ts';
import type { Database, Product } from '../../db/types.ts';
import { boolArray, intArray, textArray, uuidArray } from './pg-array.ts';

// ── lookups ─────────────────────────────────────────────────────────────────────────────────

export async function listStoreIds(db: DbOrTrx): Promise<string[]> {
	return (await db.selectFrom('stores').select('id').execute()).map((r) => r.id);
}

export async function listStaffCodes(db: DbOrTrx): Promise<Array<{ staff_code: string; id: string }>> {
	return db.selectFrom('staff').select(['staff_code', 'id']).execute();
}

/**
 * Fresh planner statistics for tables a big import is growing: without them the planner still
 * believes the tables are as small as when the import began and picks whole-table scans.
 */
export async function analyzeTables(db: DbOrTrx, tables: string[]): Promise<void> {
	for (const table of tables) await sql`analyze ${sql.table(table)}`.execute(db);
}

// ── import runs ─────────────────────────────────────────────────────────────────────────────

export async function startImportRun(db: DbOrTrx, kind: string, fileName: string): Promise<number> {
	const row = await db.insertInto('import_runs').values({ kind, file_name: fileName }).returning('id').executeTakeFirstOrThrow();
	return row.id;
}

export async function finishImportRun(db: DbOrTrx, id: number, rowsOk: number, rowsBad: number): Promise<void> {
	await db
		.updateTable('import_runs')
		.set({ finished_at: new Date(), rows_ok: rowsOk, rows_bad: rowsBad })
		.where('id', '=', id)
		.execute();
}

// ── POS ─────────────────────────────────────────────────────────────────────────────────────

export interface ReceiptInsert {
	pos_txn_id: string;
	store_id: string;
	customer_id: string | null;
	staff_id: string | null;
	purchased_at: string;
	total_yen: number;
	kind: 'sale' | 'return';
}

/** New receipts, returned with their ids; receipts already stored are left as they are. */
export async function insertReceipts(trx: Trx, rows: ReceiptInsert[]): Promise<Array<{ id: number; pos_txn_id: string }>> {
	if (rows.length === 0) return [];
	const col = <K extends keyof ReceiptInsert>(k: K) => rows.map((r) => r[k]);
	const result = await sql<{ id: number; pos_txn_id: string }>`
		insert into store_purchases (pos_txn_id, store_id, customer_id, staff_id, purchased_at, total_yen, kind, source)
		select txn, store, customer, staff, at, total, kind, 'csv'
		from unnest(
			${textArray(col('pos_txn_id'))}::text[], ${textArray(col('store_id'))}::text[], ${textArray(col('customer_id'))}::uuid[], ${textArray(col('staff_id'))}::uuid[],
			${textArray(col('purchased_at'))}::timestamptz[], ${intArray(col('total_yen'))}::int[], ${textArray(col('kind'))}::text[]
		) as u(txn, store, customer, staff, at, total, kind)
		on conflict (pos_txn_id) do nothing
		returning id, pos_txn_id`.execute(trx);
	return result.rows;
}

export async function findReceiptIds(db: DbOrTrx, posTxnIds: string[]): Promise<Array<{ id: number; pos_txn_id: string }>> {
	if (posTxnIds.length === 0) return [];
	const result = await sql<{ id: number; pos_txn_id: string }>`
		select r.id, r.pos_txn_id from unnest(${textArray(posTxnIds)}::text[]) as u(txn)
		cross join lateral (select id, pos_txn_id from store_purchases where pos_txn_id = u.txn limit 1) as r`.execute(db);
	return result.rows;
}

export interface ReceiptLineInsert {
	purchase_id: number;
	line_no: number;
	sku: string;
	quantity: number;
	unit_price_yen: number;
	amount_yen: number;
}

/**
 * Lines with their product (by SKU); lines already present are skipped. Also returns which of
 * `watchIds` (receipts stored before this batch) received new lines: their totals need a refresh.
 */
export async function insertReceiptLines(
	db: DbOrTrx,
	rows: ReceiptLineInsert[],
	watchIds: number[]
): Promise<{ inserted: number; unknownSku: number; touched: number[] }> {
	if (rows.length === 0) return { inserted: 0, unknownSku: 0, touched: [] };
	const col = <K extends keyof ReceiptLineInsert>(k: K) => rows.map((r) => r[k]);
	const result = await sql<{ inserted: number; unknown_sku: number; touched: number[] | null }>`
		with ins as (
			insert into store_purchase_lines (purchase_id, line_no, product_id, sku, quantity, unit_price_yen, amount_yen)
			select u.purchase_id, u.line_no, (select pr.id from products pr where pr.sku = u.sku) as product_id, u.sku,
				u.quantity, u.unit_price, u.amount
			from unnest(
				${intArray(col('purchase_id'))}::bigint[], ${intArray(col('line_no'))}::int[], ${textArray(col('sku'))}::text[], ${intArray(col('quantity'))}::int[],
				${intArray(col('unit_price_yen'))}::int[], ${intArray(col('amount_yen'))}::int[]
			) as u(purchase_id, line_no, sku, quantity, unit_price, amount)
			on conflict (purchase_id, line_no) do nothing
			returning purchase_id, product_id
		)
		select count(*)::int as inserted, count(*) filter (where product_id is null)::int as unknown_sku,
			array_agg(distinct purchase_id) filter (where purchase_id = any(${intArray(watchIds)}::bigint[])) as touched
		from ins`.execute(db);
	const r = result.rows[0];
	return { inserted: r.inserted, unknownSku: r.unknown_sku, touched: (r.touched ?? []).map(Number) };
}

/**
 * Receipt totals are the sum of their lines; a receipt of only negative quantities is a return
 * (exchanges with both stay sales, net). Rows already right are not touched.
 */
export async function refreshReceiptTotals(db: DbOrTrx, purchaseIds: number[]): Promise<void> {
	if (purchaseIds.length === 0) return;
	await sql`
		update store_purchases p set total_yen = s.total, kind = s.kind
		from (
			select purchase_id, sum(amount_yen)::int as total,
				case when bool_and(quantity < 0) then 'return' else 'sale' end as kind
			from store_purchase_lines
			where purchase_id = any(${intArray(purchaseIds)}::bigint[])
			group by purchase_id
		) as s
		where p.id = s.purchase_id and (p.total_yen <> s.total or p.kind <> s.kind)`.execute(db);
}

// ── customers ───────────────────────────────────────────────────────────────────────────────

export interface CustomerProfileUpdate {
	id: string;
	family_name: string | null;
	given_name: string | null;
	family_kana: string | null;
	given_kana: string | null;
	birthday: string | null;
	email: string | null;
	phone: string | null;
	home_store_id: string | null;
	consent_messages: boolean | null;
}

/**
 * Master data from the file wins over what is stored, cell by cell: an empty cell keeps the
 * stored value. Rows whose values are already the same are not touched (re-imports are no-ops).
 */
export async function updateCustomerProfiles(trx: Trx, rows: CustomerProfileUpdate[]): Promise<number> {
	if (rows.length === 0) return 0;
	const col = <K extends keyof CustomerProfileUpdate>(k: K) => rows.map((r) => r[k]);
	const result = await sql<{ n: number }>`
		with u as (
			select * from unnest(
				${textArray(col('id'))}::uuid[], ${textArray(col('family_name'))}::text[], ${textArray(col('given_name'))}::text[], ${textArray(col('family_kana'))}::text[],
				${textArray(col('given_kana'))}::text[], ${textArray(col('birthday'))}::date[], ${textArray(col('email'))}::text[], ${textArray(col('phone'))}::text[],
				${textArray(col('home_store_id'))}::text[], ${boolArray(col('consent_messages'))}::boolean[]
			) as u(id, family_name, given_name, family_kana, given_kana, birthday, email, phone, home_store_id, consent_messages)
		), next as (
			select c.id,
				coalesce(u.family_name, c.family_name) as family_name, coalesce(u.given_name, c.given_name) as given_name,
				coalesce(u.family_kana, c.family_kana) as family_kana, coalesce(u.given_kana, c.given_kana) as given_kana,
				coalesce(u.birthday, c.birthday) as birthday, coalesce(u.email, c.email) as email,
				coalesce(u.phone, c.phone) as phone, coalesce(u.home_store_id, c.home_store_id) as home_store_id,
				coalesce(u.consent_messages, c.consent_messages) as consent_messages
			from u join customers c on c.id = u.id
		), up as (
			update customers c set family_name = n.family_name, given_name = n.given_name, family_kana = n.family_kana,
				given_kana = n.given_kana, birthday = n.birthday, email = n.email, phone = n.phone,
				home_store_id = n.home_store_id, consent_messages = n.consent_messages,
				consent_messages_at = case when n.consent_messages and not c.consent_messages then now() else c.consent_messages_at end,
				updated_at = now()
			from next n
			where c.id = n.id and (c.family_name, c.given_name, c.family_kana, c.given_kana, c.birthday, c.email, c.phone,
					c.home_store_id, c.consent_messages)
				is distinct from (n.family_name, n.given_name, n.family_kana, n.given_kana, n.birthday, n.email, n.phone,
					n.home_store_id, n.consent_messages)
			returning 1
		)
		select count(*)::int as n from up`.execute(trx);
	return result.rows[0].n;
}

/** Imported member numbers may be ahead of the sequence: move it past them so new ones never collide. */
export async function advanceMemberNoSequence(trx: Trx, memberNos: string[]): Promise<void> {
	const numeric = memberNos.filter((m) => /^\d{1,15}$/.test(m)).map(Number);
	if (numeric.length === 0) return;
	const max = Math.max(...numeric);
	await sql`select setval('member_no_seq', ${max}::bigint) where ${max}::bigint >= (select last_value from member_no_seq)`.execute(trx);
}

// ── products ────────────────────────────────────────────────────────────────────────────────

/** A product row as a CSV supplies it: the table's own columns, so the two cannot drift apart. */
export type ProductUpsert = Pick<
	Product,
	'sku' | 'jan' | 'name' | 'category' | 'price_yen' | 'ec_product_id' | 'ec_url' | 'image_url'
>;

/** Products keyed by SKU; changed rows are updated, identical ones left alone. */
export async function upsertProducts(trx: Trx, rows: ProductUpsert[]): Promise<{ inserted: number; updated: number }> {
	if (rows.length === 0) return { inserted: 0, updated: 0 };
	const col = <K extends keyof ProductUpsert>(k: K) => rows.map((r) => r[k]);
	const result = await sql<{ inserted: number; updated: number }>`
		with up as (
			insert into products (sku, jan, name, category, price_yen, ec_product_id, ec_url, image_url)
			select * from unnest(
				${textArray(col('sku'))}::text[], ${textArray(col('jan'))}::text[], ${textArray(col('name'))}::text[], ${textArray(col('category'))}::text[],
				${intArray(col('price_yen'))}::int[], ${textArray(col('ec_product_id'))}::text[], ${textArray(col('ec_url'))}::text[], ${textArray(col('image_url'))}::text[]
			)
			on conflict (sku) do update set jan = excluded.jan, name = excluded.name, category = excluded.category,
				price_yen = excluded.price_yen, ec_product_id = excluded.ec_product_id, ec_url = excluded.ec_url,
				image_url = excluded.image_url, updated_at = now()
			where (products.jan, products.name, products.category, products.price_yen, products.ec_product_id,
					products.ec_url, products.image_url)
				is distinct from (excluded.jan, excluded.name, excluded.category, excluded.price_yen,
					excluded.ec_product_id, excluded.ec_url, excluded.image_url)
			returning (xmax = 0) as inserted
		)
		select count(*) filter (where inserted)::int as inserted, count(*) filter (where not inserted)::int as updated
		from up`.execute(trx);
	return result.rows[0];
}

// ── POS by COPY (PostgreSQL) ────────────────────────────────────────────────────────────────
// A chunk of the file is copied straight into store_purchases and store_purchase_lines when
// none of its receipts is stored yet (pos-copy.ts); otherwise it is copied into the staging
// tables below and written with set-based inserts that skip what is stored. The staging
// tables are TEMP: private to the connection, never WAL-logged, gone when it closes (even
// after a crash). `rid` numbers a chunk's receipts in the order the file first shows them.

/** Creates the session's staging tables (empty). */
export async function createPosStaging(db: DbOrTrx): Promise<void> {
	await dropPosStaging(db);
	await sql`
		create temp table pos_stage_line (
			rid integer not null, line integer not null, line_no integer not null, sku text not null,
			quantity integer not null, unit_price integer not null, amount integer not null
		)`.execute(db);
	await sql`
		create temp table pos_stage_receipt (
			rid integer not null, txn text not null, store_id text not null, purchased_at timestamptz not null,
			customer_id uuid, staff_id uuid, total integer not null, kind text not null
		)`.execute(db);
	await sql`create temp table pos_stage_id (rid integer not null, id bigint not null, is_new boolean not null)`.execute(db);
	await sql`create temp table pos_stage_touched (purchase_id bigint not null)`.execute(db);
}

export async function dropPosStaging(db: DbOrTrx): Promise<void> {
	await sql`drop table if exists pos_stage_line, pos_stage_receipt, pos_stage_id, pos_stage_touched`.execute(db);
}

/** Empties the staging tables for the next chunk (inside the chunk's transaction). */
export async function clearPosStaging(trx: Trx): Promise<void> {
	await sql`truncate pos_stage_line, pos_stage_receipt, pos_stage_id, pos_stage_touched`.execute(trx);
}

/**
 * Whether this session may write the tables of a POS import — purchases, their lines, new
 * customers and identities — with their foreign-key triggers off (`session_replication_role =
 * replica`): only when it is allowed (superuser, or granted SET on the parameter) and every
 * trigger of their own fires in replica mode as well (ENABLE ALWAYS, or disabled anyway):
 * replica mode must skip the FK checks and nothing else.
 */
export async function canSkipPurchaseFkTriggers(db: Kysely<Database>): Promise<boolean> {
	const { rows } = await sql<{ n: number }>`
		select count(*)::int as n from pg_trigger
		where tgrelid in ('store_purchases'::regclass, 'store_purchase_lines'::regclass, 'customers'::regclass, 'customer_identities'::regclass)
			and not tgisinternal and tgenabled not in ('A', 'D')`.execute(db);
	if (rows[0].n > 0) return false;
	try {
		await db.transaction().execute((trx) => sql`set local session_replication_role = replica`.execute(trx));
		return true;
	} catch {
		return false;
	}
}

/**
 * Memory for the sorts and hashes, no wait for the WAL flush at commit, no JIT (this
 * transaction only); with `skipFkTriggers`, no per-row foreign-key checks: the caller
 * verifies and locks the referenced rows set-based instead (lockStagedReferences).
 */
export async function tuneBulkTransaction(trx: Trx, options: { skipFkTriggers?: boolean } = {}): Promise<void> {
	// one round trip (set_config(…, true) is SET LOCAL); row estimates of CTE chains run high:
	// JIT would compile for ~0.2 s per statement for nothing
	await sql`
		select set_config('work_mem', '256MB', true), set_config('maintenance_work_mem', '256MB', true),
			set_config('synchronous_commit', 'off', true), set_config('jit', 'off', true)
			${options.skipFkTriggers ? sql`, set_config('session_replication_role', 'replica', true)` : sql``}`.execute(trx);
}

/** Referenced rows a chunk found missing (deleted while the import ran). */
export interface MissingReferences {
	stores: number;
	staff: number;
	customers: number;
	products: number;
}

/**
 * What the foreign keys of the purchase tables would check per row, once per chunk: every
 * store, staff member, customer and product the chunk's rows point at exists, and is locked
 * FOR KEY SHARE until commit (as the FK check would lock it) so nobody can delete it
 * meanwhile. Stores, staff and products are listed once each; customers may repeat.
 * Returns how many are missing.
 */
export async function lockReferences(
	trx: Trx,
	refs: { stores: string[]; staff: string[]; customers: string[]; products: number[] }
): Promise<MissingReferences> {
	const customers = uuidArray(refs.customers);
	const { rows } = await sql<MissingReferences>`
		with s as (select id from stores where id = any(${textArray(refs.stores)}::text[]) for key share),
		st as (select id from staff where id = any(${uuidArray(refs.staff)}::uuid[]) for key share),
		c as (select id from customers where id = any(${customers}::uuid[]) for key share),
		p as (select id from products where id = any(${intArray(refs.products)}::bigint[]) for key share)
		select
			${refs.stores.length}::int - (select count(*) from s)::int as stores,
			${refs.staff.length}::int - (select count(*) from st)::int as staff,
			-- several tuples of the file may have resolved to one customer: count each once
			(select count(distinct u) from unnest(${customers}::uuid[]) as u)::int - (select count(*) from c)::int as customers,
			${refs.products.length}::int - (select count(*) from p)::int as products`.execute(trx);
	return rows[0];
}

/**
 * lockReferences for a chunk in the staging tables. Lines point at products by SKU as the
 * insert finds them (an unknown SKU is no error), so products are locked but never missing.
 */
export async function lockStagedReferences(trx: Trx): Promise<MissingReferences> {
	const { rows } = await sql<MissingReferences>`
		with s as (select id from stores where id in (select store_id from pos_stage_receipt) for key share),
		st as (select id from staff where id in (select staff_id from pos_stage_receipt) for key share),
		c as (select id from customers where id in (select customer_id from pos_stage_receipt) for key share),
		p as (select id from products where sku in (select sku from pos_stage_line) for key share)
		select
			(select count(distinct store_id) from pos_stage_receipt)::int - (select count(*) from s)::int as stores,
			(select count(distinct staff_id) from pos_stage_receipt)::int - (select count(*) from st)::int as staff,
			(select count(distinct customer_id) from pos_stage_receipt)::int - (select count(*) from c)::int as customers,
			-- read only so the CTE runs: PostgreSQL skips an unreferenced SELECT CTE, and its lock with it
			(select count(*) from p)::int * 0 as products`.execute(trx);
	return rows[0];
}

/**
 * `count` ids for new receipts from store_purchases' own identity sequence, ascending: rows
 * copied with them never collide with rows inserted meanwhile by anyone else.
 */
export async function reserveReceiptIds(trx: Trx, count: number): Promise<string[]> {
	if (count === 0) return [];
	// as text: the COPY that uses them wants text, and bigints stay exact
	const { rows } = await sql<{ ids: string }>`
		select string_agg(id::text, ',' order by id) as ids
		from (select nextval(pg_get_serial_sequence('store_purchases', 'id')) as id from generate_series(1, ${count}::int)) as s`.execute(trx);
	return rows[0].ids.split(',');
}

/** Product ids by SKU, for an import that resolves its lines' products itself. */
export async function listProductIdsBySku(db: DbOrTrx): Promise<Array<{ id: number; sku: string }>> {
	return db.selectFrom('products').select(['id', 'sku']).execute();
}

/**
 * The chunk's receipts (store, time, staff, customer of their first line in the file; totals
 * summed while reading) into store_purchases, in file order; receipts already stored are left
 * as they are. The new ones' ids go to pos_stage_id. Returns how many were new.
 */
export async function insertStagedReceipts(trx: Trx): Promise<number> {
	const { rows } = await sql<{ n: number }>`
		with ins as (
			insert into store_purchases (pos_txn_id, store_id, customer_id, staff_id, purchased_at, total_yen, kind, source)
			select txn, store_id, customer_id, staff_id, purchased_at, total, kind, 'csv'
			from pos_stage_receipt order by rid
			on conflict (pos_txn_id) do nothing
			returning id, pos_txn_id
		),
		kept as (
			insert into pos_stage_id (rid, id, is_new)
			select r.rid, ins.id, true from ins join pos_stage_receipt r on r.txn = ins.pos_txn_id
			returning 1
		)
		select count(*)::int as n from kept`.execute(trx);
	return rows[0].n;
}

/** Ids of the chunk's receipts that were stored before (locked as the lines' FK would lock them). */
export async function mapExistingStagedReceipts(trx: Trx): Promise<void> {
	await sql`
		with e as (
			select r.rid, p.id from pos_stage_receipt r
			join store_purchases p on p.pos_txn_id = r.txn
			where not exists (select 1 from pos_stage_id i where i.rid = r.rid)
			for key share of p
		)
		insert into pos_stage_id (rid, id, is_new) select rid, id, false from e`.execute(trx);
}

/**
 * The chunk's lines onto their receipts (and products by SKU). `mayConflict`: some receipts
 * were stored before or a line repeats within the chunk, so lines already present are skipped
 * (the first of a repeated line wins: file order) and the receipts that received lines are
 * noted in pos_stage_touched (all of them when `touchAll`, else only those stored before).
 * Otherwise every line is new by construction: a plain insert.
 */
export async function insertStagedLines(
	trx: Trx,
	options: { mayConflict: boolean; touchAll: boolean }
): Promise<{ inserted: number; unknownSku: number }> {
	const insert = sql`
		insert into store_purchase_lines (purchase_id, line_no, product_id, sku, quantity, unit_price_yen, amount_yen)
		select i.id, l.line_no, pr.id, l.sku, l.quantity, l.unit_price, l.amount
		from pos_stage_line l
		join pos_stage_id i on i.rid = l.rid
		left join products pr on pr.sku = l.sku`;
	const result = options.mayConflict
		? await sql<{ inserted: number; unknown_sku: number }>`
			with ins as (
				${insert}
				order by l.line
				on conflict (purchase_id, line_no) do nothing
				returning purchase_id, product_id
			),
			touched as (
				insert into pos_stage_touched (purchase_id)
				select distinct ins.purchase_id from ins
				where ${sql.lit(options.touchAll)} or ins.purchase_id in (select id from pos_stage_id where not is_new)
			)
			select count(*)::int as inserted, count(*) filter (where product_id is null)::int as unknown_sku from ins`.execute(trx)
		: await sql<{ inserted: number; unknown_sku: number }>`
			with ins as (${insert} returning product_id)
			select count(*)::int as inserted, count(*) filter (where product_id is null)::int as unknown_sku from ins`.execute(trx);
	return { inserted: result.rows[0].inserted, unknownSku: result.rows[0].unknown_sku };
}

/** Totals of the receipts in pos_stage_touched, from their stored lines; rows already right are not touched. */
export async function refreshTouchedReceiptTotals(trx: Trx): Promise<void> {
	await sql`
		update store_purchases p set total_yen = s.total, kind = s.kind
		from (
			select l.purchase_id, sum(l.amount_yen)::int as total,
				case when bool_and(l.quantity < 0) then 'return' else 'sale' end as kind
			from store_purchase_lines l
			where l.purchase_id in (select purchase_id from pos_stage_touched)
			group by l.purchase_id
		) as s
		where p.id = s.purchase_id and (p.total_yen <> s.total or p.kind <> s.kind)`.execute(trx);
}

/** The highest store_purchases id so far (0 when none): an import's receipts come after it. */
export async function lastStorePurchaseId(db: DbOrTrx): Promise<number> {
	const { rows } = await sql<{ id: string | null }>`select max(id)::text as id from store_purchases`.execute(db);
	return Number(rows[0].id ?? 0);
}

/** Merge (and its undo): moves a customer's store receipts (store_purchases) to another customer; returns the moved ids. */
export function reassignStorePurchases(trx: DbOrTrx, from: string, to: string, options?: ReassignOptions): Promise<string[]> {
	return reassignCustomerRows(trx, 'store_purchases', 'id', from, to, options);
}
