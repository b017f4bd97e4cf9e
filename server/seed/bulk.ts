/**
 * The benchmark-size generator for PostgreSQL (`npm run seed -- --customers 1000000`): the
 * fixed brand and the featured members come from the in-memory generator, every other customer
 * and their history are generated inside PostgreSQL with set-based INSERT … SELECT over
 * generate_series. Randomness is hashint8extended(i, seed·1000 + k): deterministic, no state.
 * Histories are richer than the demo's (about 6 purchases and 18 lines per customer) so that
 * 1M customers give ~20M purchase lines; returns and co-purchase patterns are demo-only.
 */
import { sql } from 'kysely';
import type { Db, Trx } from '../db/index.ts';
import { hashPin } from '../modules/staff/pin.ts';
import { DEFAULT_DORMANT_DAYS } from '../modules/customers/state.ts';
import { DEMO_PIN, FEATURED_MEMBERS } from './fixtures.ts';
import { DEFAULT_SEED, generateDemoData } from './generate.ts';
import { FAMILY_NAMES, FEMALE_NAMES, MALE_NAMES } from './people.ts';
import { stateSummary, syncMemberNumbers, tableCounts, writeDemoData, type SeedReport } from './seed.ts';
import { syncIdentity } from './write.ts';

export const BULK_THRESHOLD = 50_000;
const BATCH = 100_000;

export interface BulkOptions {
	customers: number;
	seed?: number;
	anchorDate: string;
	publicBaseUrl: string;
	dormantDays?: number;
	onProgress?: (step: string) => void;
}

export async function seedBulk(db: Db, options: BulkOptions): Promise<SeedReport> {
	const seed = options.seed ?? DEFAULT_SEED;
	const progress = options.onProgress ?? (() => {});
	const q = sqlBuilder(seed, options.anchorDate);
	const base = generateDemoData({ anchorDate: options.anchorDate, seed, customers: FEATURED_MEMBERS.length, publicBaseUrl: options.publicBaseUrl });
	const pinHash = await hashPin(DEMO_PIN);
	const first = FEATURED_MEMBERS.length + 1;
	const last = options.customers;

	await db.transaction().execute(async (trx) => {
		progress('stores, staff, products, featured members');
		await writeDemoData(trx, base, pinHash);
		const nProducts = base.products.length;
		const storeBase = base.storePurchases.length;
		const ecBase = base.ecOrders.length;
		await createLookups(trx);
		// big set-based statements: no JIT start-up per statement, sorts and hashes in memory
		await sql`set local jit = off`.execute(trx);
		await sql`set local work_mem = '256MB'`.execute(trx);
		const deferred = await dropConstraintsAndIndexes(trx);
		progress(`planning ${(last - first + 1).toLocaleString()} customers`);
		await run(trx, q.plan(first, last));
		for (let lo = first; lo <= last; lo += BATCH) {
			const hi = Math.min(lo + BATCH - 1, last);
			await run(trx, q.customers(lo, hi));
			await run(trx, q.identities(lo, hi));
			await run(trx, q.storePurchases(lo, hi, storeBase, nProducts));
			await run(trx, q.ecOrders(lo, hi, ecBase, nProducts));
			progress(`customers ${hi.toLocaleString()} / ${last.toLocaleString()} with their purchases`);
		}
		progress('refunds, consultations, LINE events');
		await run(trx, q.refunds(ecBase));
		await run(trx, q.consultations(nProducts));
		await run(trx, q.lineEvents());
		progress(`re-creating ${deferred.length} foreign keys and indexes (validated in one pass each)`);
		for (const statement of deferred) await run(trx, statement);
		await syncIdentity(trx, 'store_purchases');
		await syncIdentity(trx, 'ec_orders');
		await syncMemberNumbers(trx);
		await trx.insertInto('demo_seed').values({ anchor_date: options.anchorDate, prng_seed: seed, customers: last, generator: 'sql' }).execute();
		progress('committing');
	});
	progress('analyze');
	await sql`analyze`.execute(db);
	progress('counting');
	return {
		anchorDate: options.anchorDate,
		seed,
		counts: await tableCounts(db),
		states: await stateSummary(db, new Date(), options.dormantDays ?? DEFAULT_DORMANT_DAYS)
	};
}

async function run(trx: Trx, statement: string): Promise<void> {
	await sql.raw(statement).execute(trx);
}

const BULK_TABLES = [
	'customers', 'customer_identities', 'store_purchases', 'store_purchase_lines', 'ec_orders', 'ec_order_lines',
	'ec_refunds', 'consultations', 'line_events'
];

/**
 * Row-by-row foreign-key triggers and secondary-index upkeep dominate inserting ~20M rows.
 * Drop the foreign keys and non-unique indexes of the tables being filled (read from the
 * catalogue, so later migrations are covered) and return the statements that re-create them:
 * ADD CONSTRAINT then checks every row in one join. All inside the seed's transaction.
 */
async function dropConstraintsAndIndexes(trx: Trx): Promise<string[]> {
	const fks = await sql<{ table: string; name: string; def: string }>`
		select c.conrelid::regclass::text as table, c.conname as name, pg_get_constraintdef(c.oid) as def
		from pg_constraint c
		where c.contype = 'f' and c.connamespace = 'public'::regnamespace and c.conrelid::regclass::text in (${sql.join(BULK_TABLES)})
		order by 1, 2`.execute(trx);
	const indexes = await sql<{ name: string; def: string }>`
		select i.indexrelid::regclass::text as name, pg_get_indexdef(i.indexrelid) as def
		from pg_index i
		where not i.indisunique and not i.indisprimary and i.indrelid::regclass::text in (${sql.join(BULK_TABLES)})
		order by 1`.execute(trx);
	for (const fk of fks.rows) await run(trx, `alter table ${fk.table} drop constraint "${fk.name}"`);
	for (const ix of indexes.rows) await run(trx, `drop index ${ix.name}`);
	return [
		...indexes.rows.map((ix) => ix.def),
		...fks.rows.map((fk) => `alter table ${fk.table} add constraint "${fk.name}" ${fk.def}`)
	];
}

/** Name and staff lookups as temp tables, joined by index from the generated rows. */
export async function createLookups(trx: Trx): Promise<void> {
	const names = [
		...FAMILY_NAMES.map((n, i) => ({ list: 'family', idx: i, kanji: n[0], kana: n[1], romaji: n[2] })),
		...FEMALE_NAMES.map((n, i) => ({ list: 'female', idx: i, kanji: n[0], kana: n[1], romaji: n[2] })),
		...MALE_NAMES.map((n, i) => ({ list: 'male', idx: i, kanji: n[0], kana: n[1], romaji: n[2] }))
	];
	await sql`create temp table bulk_names on commit drop as
		select * from jsonb_to_recordset(${JSON.stringify(names)}::jsonb) as r(list text, idx int, kanji text, kana text, romaji text)`.execute(trx);
	await sql`create temp table bulk_stores on commit drop as
		select * from (values (0, 'shibuya', 'SBY'), (1, 'shinjuku', 'SJK'), (2, 'yokohama', 'YKH')) as s(store_idx, id, code)`.execute(trx);
	await sql`create temp table bulk_staff on commit drop as
		select s.store_idx, (row_number() over (partition by s.store_idx order by st.staff_code) - 1)::int as n,
			count(*) over (partition by s.store_idx)::int as cnt, st.id as staff_id
		from staff st join bulk_stores s on s.id = st.home_store_id where st.role <> 'admin'`.execute(trx);
}

/** SQL text for each step; only integers and fixed strings are interpolated. */
export function sqlBuilder(seed: number, anchorDate: string) {
	if (!Number.isSafeInteger(seed) || !/^\d{4}-\d{2}-\d{2}$/.test(anchorDate)) throw new Error('bad seed or anchor date');
	const anchor = `'${anchorDate}T00:00:00+09:00'::timestamptz`;
	/** Non-negative pseudo-random bigint for (expression, salt). */
	const h = (expr: string, k: number) => `(hashint8extended((${expr})::bigint, ${seed * 1000 + k}) & 9223372036854775807)`;
	const u = (expr: string, k: number) => `((${h(expr, k)} % 1000000)::float8 / 1000000)`;
	const ri = (expr: string, k: number, n: number | string) => `((${h(expr, k)} % (${n}))::int)`;
	const nF = FEMALE_NAMES.length;
	const nM = MALE_NAMES.length;
	const nFam = FAMILY_NAMES.length;

	return {
		/** One row per customer with everything drawn for them. */
		plan: (lo: number, hi: number) => `
			create temp table bulk_c on commit drop as
			with g as (
				select i,
					case when ${u('i', 1)} < 0.22 then 'cross_channel' when ${u('i', 1)} < 0.44 then 'store_only'
						when ${u('i', 1)} < 0.57 then 'ec_only' when ${u('i', 1)} < 0.75 then 'first_purchase_only'
						when ${u('i', 1)} < 0.93 then 'dormant' else 'none' end as seg,
					${u('i', 2)} < 0.68 as female,
					${ri('i', 3, nFam)} as fam_idx,
					${u('i', 5)} as r_home, ${u('i', 6)} as r_home_null,
					${u('i', 20)} as r20, ${u('i', 21)} as r21
				from generate_series(${lo}, ${hi}) as i
			), s as (
				select g.*,
					case when seg = 'ec_only' and r_home_null < 0.5 then null
						when r_home < 0.4 then 0 when r_home < 0.75 then 1 else 2 end as home,
					case seg when 'cross_channel' then 2 + floor(r20 * 8)::int when 'store_only' then 3 + floor(r20 * 13)::int
						when 'first_purchase_only' then (r20 < 0.6)::int when 'dormant' then floor(r20 * 5)::int else 0 end as ns,
					case seg when 'cross_channel' then 1 + floor(r21 * 8)::int when 'ec_only' then 2 + floor(r21 * 10)::int
						when 'first_purchase_only' then (r20 >= 0.6)::int
						when 'dormant' then case when floor(r20 * 5) = 0 then 1 else 0 end + floor(r21 * 4)::int else 0 end as ne,
					case when seg = 'dormant' then 190 + ${ri('i', 22, 110)} else 1 + ${ri('i', 22, 170)} end as last_days,
					${ri('i', 4, `case when female then ${nF} else ${nM} end`)} as given_idx
				from g
			)
			select s.i, md5('kasane-customer-${seed}-' || s.i)::uuid as id, (1000000000 + s.i)::text as member_no, s.seg,
				s.home, s.ns, s.ne, s.last_days, f.kanji as family_name, f.kana as family_kana, gn.kanji as given_name, gn.kana as given_kana,
				case when s.ne > 0 or ${u('s.i', 10)} < 0.8 then gn.romaji || '.' || f.romaji || s.i || '@example.jp' end as email,
				case when ${u('s.i', 11)} < 0.85 then (array['090', '080', '070'])[1 + s.i % 3] || '-' ||
					substr(lpad(((s.i * 7919 + ${seed}) % 100000000)::text, 8, '0'), 1, 4) || '-' ||
					substr(lpad(((s.i * 7919 + ${seed}) % 100000000)::text, 8, '0'), 5, 4) end as phone,
				case when ${u('s.i', 12)} < 0.8 then make_date(1965 + ${ri('s.i', 13, 40)}, 1 + ${ri('s.i', 14, 12)}, 1 + ${ri('s.i', 15, 28)}) end as birthday,
				${u('s.i', 16)} < 0.7 as consent,
				${u('s.i', 7)} < case when s.seg = 'none' then 0.6 else 0.38 end as line,
				${u('s.i', 8)} < 0.06 as blocked,
				${u('s.i', 9)} < 0.93 as friend,
				${anchor} - (case when s.seg = 'none' then 1 + ${ri('s.i', 17, 120)} else 366 + ${ri('s.i', 17, 500)} end) * interval '1 day'
					+ (600 + ${ri('s.i', 18, 660)}) * interval '1 minute' as created,
				case when s.ne > 0 then '73' || lpad((1000000000 + s.i)::text, 17, '0') end as ec_id
			from s
			join bulk_names f on f.list = 'family' and f.idx = s.fam_idx
			join bulk_names gn on gn.list = case when s.female then 'female' else 'male' end and gn.idx = s.given_idx`,

		customers: (lo: number, hi: number) => `
			insert into customers (id, member_no, family_name, given_name, family_kana, given_kana, birthday, email, phone,
				home_store_id, consent_terms_at, consent_messages, consent_messages_at, line_user_id, line_friend, line_blocked_at,
				created_at, updated_at)
			select c.id, c.member_no, c.family_name, c.given_name, c.family_kana, c.given_kana, c.birthday, c.email, c.phone,
				st.id, c.created, c.consent, case when c.consent then c.created end,
				case when c.line then 'U' || lpad(c.member_no, 32, '0') end,
				c.line and not c.blocked and c.friend,
				case when c.line and c.blocked then ${anchor} - interval '3 days' end,
				c.created, c.created
			from bulk_c c left join bulk_stores st on st.store_idx = c.home
			where c.i between ${lo} and ${hi} order by c.i`,

		identities: (lo: number, hi: number) => `
			insert into customer_identities (customer_id, kind, value, created_at)
			select c.id, v.kind, v.value, c.created
			from bulk_c c cross join lateral (values
				('line', case when c.line then 'U' || lpad(c.member_no, 32, '0') end),
				('ec', c.ec_id),
				('pos', case when c.ns > 0 then 'POS-' || lpad(c.i::text, 8, '0') end),
				('email', c.email),
				('phone', replace(c.phone, '-', ''))
			) as v(kind, value)
			where c.i between ${lo} and ${hi} and v.value is not null
			order by c.i
			on conflict (kind, value) do nothing`,

		storePurchases: (lo: number, hi: number, idBase: number, nProducts: number) => `
			with p as materialized (
				select c.i, c.id as customer_id, k, ${idBase} + c.i * 16 + k as pid,
					case when k = 1 then c.last_days else c.last_days + ${ri('c.i * 16 + k', 23, '366 - c.last_days')} end as days,
					case when c.home is not null and ${u('c.i * 16 + k', 24)} < 0.85 then c.home else ${ri('c.i * 16 + k', 25, 3)} end as store_idx,
					660 + ${ri('c.i * 16 + k', 26, 570)} as minute,
					1 + ${ri('c.i * 16 + k', 27, 5)} as nlines
				from bulk_c c cross join lateral generate_series(1, c.ns) as k
				where c.i between ${lo} and ${hi}
			), l as materialized (
				select p.pid, n as line_no, pr.id as product_id, pr.sku, qn.qty, pr.price_yen, qn.qty * pr.price_yen as amount
				from p cross join lateral generate_series(1, p.nlines) as n
				join products pr on pr.id = 1 + floor(${nProducts} * power(${u('p.pid * 8 + n', 28)}, 1.8))::int
				cross join lateral (select case when pr.price_yen < 5000 and ${u('p.pid * 8 + n', 29)} < 0.1 then 2 else 1 end as qty) as qn
			), t as (
				select pid, sum(amount)::int as total from l group by pid
			), ins as (
				insert into store_purchases (id, pos_txn_id, store_id, customer_id, staff_id, purchased_at, total_yen, kind, source, created_at)
				overriding system value
				select p.pid, st.code || '-' || lpad(p.pid::text, 10, '0'), st.id, p.customer_id, sf.staff_id,
					${anchor} - p.days * interval '1 day' + p.minute * interval '1 minute', t.total, 'sale', 'seed',
					${anchor} - p.days * interval '1 day' + p.minute * interval '1 minute'
				from p join t using (pid) join bulk_stores st on st.store_idx = p.store_idx
				join bulk_staff sf on sf.store_idx = p.store_idx and sf.n = ${ri('p.pid', 30, 'sf.cnt')}
				order by p.pid
			)
			insert into store_purchase_lines (purchase_id, line_no, product_id, sku, quantity, unit_price_yen, amount_yen)
			select pid, line_no, product_id, sku, qty, price_yen, amount from l order by pid, line_no`,

		ecOrders: (lo: number, hi: number, idBase: number, nProducts: number) => `
			with p as materialized (
				select c.i, c.id as customer_id, c.ec_id, k, ${idBase} + c.i * 16 + k as pid,
					case when k = 1 and c.ns = 0 then c.last_days
						when k = 1 and c.seg <> 'dormant' and ${u('c.i * 16 + k', 40)} < 0.5 then 1 + ${ri('c.i * 16 + k', 41, 'c.last_days')}
						else c.last_days + ${ri('c.i * 16 + k', 42, '366 - c.last_days')} end as days,
					${ri('c.i * 16 + k', 43, 1440)} as minute,
					1 + ${ri('c.i * 16 + k', 44, 5)} as nlines,
					${u('c.i * 16 + k', 45)} < 0.03 as cancelled,
					${u('c.i * 16 + k', 46)} < 0.03 as refunded
				from bulk_c c cross join lateral generate_series(1, c.ne) as k
				where c.i between ${lo} and ${hi}
			), l as materialized (
				select p.pid, n as line_no, pr.id as product_id, pr.sku, pr.name, qn.qty, pr.price_yen, qn.qty * pr.price_yen as amount
				from p cross join lateral generate_series(1, p.nlines) as n
				join products pr on pr.id = 1 + floor(${nProducts} * power(${u('p.pid * 8 + n', 47)}, 1.8))::int
				cross join lateral (select case when pr.price_yen < 5000 and ${u('p.pid * 8 + n', 48)} < 0.1 then 2 else 1 end as qty) as qn
			), t as (
				select pid, sum(amount)::int as subtotal from l group by pid
			), ins as (
				insert into ec_orders (id, platform, ec_order_id, order_name, customer_id, ec_customer_id, ordered_at, subtotal_yen,
					total_yen, status, financial_status, cancelled_at, landing_site, ref_code, note_attributes, source_updated_at, source,
					created_at, updated_at)
				overriding system value
				select p.pid, 'shopify', (5500000000000 + p.pid)::text, '#' || (100000 + p.pid), p.customer_id, p.ec_id, o.at, t.subtotal,
					t.subtotal + case when t.subtotal >= 5000 then 0 else 550 end,
					case when p.cancelled then 'cancelled' else 'open' end,
					case when p.cancelled then 'voided' when p.refunded and p.days > 5 then 'partially_refunded' else 'paid' end,
					case when p.cancelled then o.at + interval '90 minutes' end, '/', null, '[]'::jsonb, o.at, 'seed', o.at, o.at
				from p join t using (pid)
				cross join lateral (select ${anchor} - p.days * interval '1 day' + p.minute * interval '1 minute' as at) as o
				order by p.pid
			)
			insert into ec_order_lines (order_id, line_no, ec_line_id, product_id, sku, name, quantity, unit_price_yen, amount_yen)
			select pid, line_no, (14200000000000 + pid * 8 + line_no)::text, product_id, sku, name, qty, price_yen, amount
			from l order by pid, line_no`,

		refunds: (idBase: number) => `
			insert into ec_refunds (platform, ec_refund_id, ec_order_id, amount_yen, refunded_at, created_at)
			select 'shopify', (9900000000000 + o.id)::text, o.ec_order_id, l.amount_yen, o.ordered_at + interval '5 days', o.ordered_at + interval '5 days'
			from ec_orders o join ec_order_lines l on l.order_id = o.id and l.line_no = 1
			where o.id > ${idBase} and o.financial_status = 'partially_refunded'
			order by o.id`,

		consultations: (nProducts: number) => `
			insert into consultations (id, customer_id, member_no, store_id, staff_id, occurred_at, items, sizes, notes, tags,
				next_action, next_action_due, created_at)
			select md5('kasane-consultation-${seed}-' || c.i)::uuid, c.id, c.member_no, st.id, sf.staff_id, x.at,
				jsonb_build_array(jsonb_build_object('productId', pr.id, 'sku', pr.sku, 'name', pr.name, 'size', null, 'color', null,
					'outcome', 'tried')),
				jsonb_build_object('tops', (array['S', 'M', 'L'])[1 + ${ri('c.i', 61, 3)}]),
				(array['サイズで迷われたため両方試着。', 'ECで見た商品を実物で確認。', 'ギフト用。ラッピング希望。'])[1 + ${ri('c.i', 62, 3)}],
				'{}'::text[],
				case when c.last_days <= 45 then '新作入荷時にLINEでご案内' end,
				case when c.last_days <= 45 then (x.at + interval '14 days')::date end,
				x.at
			from bulk_c c
			join bulk_stores st on st.store_idx = coalesce(c.home, 0)
			join bulk_staff sf on sf.store_idx = st.store_idx and sf.n = ${ri('c.i', 63, 'sf.cnt')}
			join products pr on pr.id = 1 + ${ri('c.i', 64, nProducts)}
			cross join lateral (select ${anchor} - c.last_days * interval '1 day' + interval '13 hours' as at) as x
			where c.ns > 0 and ${u('c.i', 60)} < 0.15
			order by c.i`,

		lineEvents: () => `
			insert into line_events (webhook_event_id, line_user_id, customer_id, type, message_text, occurred_at, created_at)
			select '01' || upper(substr(md5('kasane-follow-${seed}-' || c.i), 1, 24)), 'U' || lpad(c.member_no, 32, '0'), c.id,
				'follow', null, c.created, c.created
			from bulk_c c where c.line
			order by c.i`
	};
}
