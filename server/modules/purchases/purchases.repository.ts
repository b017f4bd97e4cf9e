/**
 * Store purchases (store_purchases, store_purchase_lines): set-based writes of the POS import —
 * each function loads a whole batch with one statement, passing columns as arrays and reading
 * them back with `unnest` (the same SQL on PostgreSQL and PGlite; no per-row round trips) — and
 * the staging tables of its COPY path. Every write is idempotent: re-running a batch changes nothing.
 */
import { sql, type Kysely } from 'kysely';
import type { DbOrTrx, Trx } from '../../db/index.ts';
import { canSkipFkTriggers } from '../../db/bulk.ts';
import { intArray, textArray, uuidArray } from '../../db/pg-array.ts';
import type { Database } from '../../db/types.ts';
import { reassignCustomerRows, type ReassignOptions } from '../../shared/reassign-customer.ts';

// ── batch writer ────────────────────────────────────────────────────────────────────────────

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

// ── POS by COPY (PostgreSQL) ────────────────────────────────────────────────────────────────
// A chunk of the file is copied straight into store_purchases and store_purchase_lines when
// none of its receipts is stored yet (copy.writer.ts); otherwise it is copied into the staging
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
 * customers and identities — with their foreign-key triggers off (db/bulk.ts canSkipFkTriggers).
 */
export function canSkipPurchaseFkTriggers(db: Kysely<Database>): Promise<boolean> {
	return canSkipFkTriggers(db, ['store_purchases', 'store_purchase_lines', 'customers', 'customer_identities']);
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
	// as text: the COPY that uses them wants text, and bigints stay exact. The sequence is looked
	// up once (an InitPlan): named inside nextval() it was looked up and cast per row, 12× slower
	const { rows } = await sql<{ ids: string }>`
		select string_agg(id::text, ',' order by id) as ids
		from (select nextval((select pg_get_serial_sequence('store_purchases', 'id')::regclass)) as id
			from generate_series(1, ${count}::int)) as s`.execute(trx);
	return rows[0].ids.split(',');
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
