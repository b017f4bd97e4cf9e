import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createLogger } from '../../server/logger.ts';
import { FEATURED_MEMBERS, demoLineUserId } from '../../server/seed/fixtures.ts';
import { generateDemoData } from '../../server/seed/generate.ts';
import { jstDate } from '../../server/shared/jst.ts';
import { isValidJan } from '../../server/seed/random.ts';
import { seedBulk } from '../../server/seed/bulk.ts';
import { memberStates, seedDemo, seedIfEmpty, tableCounts, type SeedReport } from '../../server/seed/seed.ts';
import type { DbOrTrx } from '../../server/db/index.ts';
import { createTestDatabase, testDbKinds, type TestDatabase } from '../helpers/db.ts';
import * as raw from '../helpers/report-reference.ts';
import * as rollup from '../../server/modules/reports/rollup.repository.ts';
import * as facts from '../../server/modules/reports/customer-facts.repository.ts';
import { parsePeriod } from '../../server/modules/reports/period.ts';

// One anchor for the whole file, so a run crossing midnight cannot produce two "todays".
const anchorDate = jstDate(new Date());
const publicBaseUrl = 'http://demo.example.jp';

/** Every column of every seeded table except the PIN hash (salted at random by design). */
const CHECKSUM_QUERIES: Record<string, string> = {
	stores: `select s::text from stores s`,
	staff: `select (s.id, s.staff_code, s.display_name, s.sender_name, s.sender_icon_url, s.role, s.home_store_id, s.created_at)::text from staff s`,
	products: `select p::text from products p`,
	customers: `select c::text from customers c`,
	customer_identities: `select i::text from customer_identities i`,
	store_purchases: `select p::text from store_purchases p`,
	store_purchase_lines: `select l::text from store_purchase_lines l`,
	ec_orders: `select o::text from ec_orders o`,
	ec_order_lines: `select l::text from ec_order_lines l`,
	ec_refunds: `select r::text from ec_refunds r`,
	consultations: `select c::text from consultations c`,
	line_events: `select e::text from line_events e`,
	message_templates: `select t::text from message_templates t`,
	follow_ups: `select f::text from follow_ups f`,
	tracked_links: `select l::text from tracked_links l`,
	link_clicks: `select k::text from link_clicks k`,
	attributions: `select a::text from attributions a`
};

async function checksums(db: DbOrTrx): Promise<Record<string, string>> {
	const out: Record<string, string> = {};
	for (const [table, query] of Object.entries(CHECKSUM_QUERIES)) {
		const r = await sql.raw<{ md5: string }>(`select md5(coalesce(string_agg(x, '|' order by x), '')) as md5 from (${query}) as t(x)`).execute(db);
		out[table] = r.rows[0].md5;
	}
	return out;
}

const addDaysTo = (date: string, days: number) => new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

async function scalar<T = number>(db: DbOrTrx, query: string): Promise<T> {
	const r = await sql.raw<{ v: T }>(query).execute(db);
	return r.rows[0].v;
}

describe.each(testDbKinds())('demo seed on %s', (kind) => {
	let a: TestDatabase;
	let b: TestDatabase;
	let report: SeedReport;

	beforeAll(async () => {
		[a, b] = await Promise.all([createTestDatabase(kind), createTestDatabase(kind)]);
		report = await seedDemo(a.db, { anchorDate, publicBaseUrl });
		// as under `npm start`: the background rollup worker refreshes the empty database first
		await b.db.transaction().execute((trx) => rollup.refreshRollups(trx));
		await seedDemo(b.db, { anchorDate, publicBaseUrl });
		// two full demo seeds (with today's lists and their history) on a shared 2-core machine
	}, 240_000);
	afterAll(async () => {
		await a?.dispose();
		await b?.dispose();
	});

	it('loads the brand at the default size', () => {
		expect(report.counts).toMatchObject({ stores: 3, staff: 12, products: 300, customers: 2000, message_templates: 9 });
		expect(report.counts.store_purchase_lines).toBeGreaterThan(report.counts.store_purchases);
		expect(report.counts.ec_refunds).toBeGreaterThan(0);
		expect(report.counts.consultations).toBeGreaterThan(500);
	});

	it('is deterministic: two seeds into two fresh databases give identical rows', async () => {
		const [ca, cb] = await Promise.all([checksums(a.db), checksums(b.db)]);
		expect(ca).toEqual(cb);
		// and a different PRNG seed gives different data
		const other = generateDemoData({ anchorDate, publicBaseUrl, seed: 1, customers: 50 });
		const same = generateDemoData({ anchorDate, publicBaseUrl, customers: 50 });
		expect(other.customers.slice(5)).not.toEqual(same.customers.slice(5));
		const anchor = await a.db.selectFrom('demo_seed').selectAll().executeTakeFirstOrThrow();
		expect(anchor).toMatchObject({ anchor_date: anchorDate, prng_seed: report.seed, customers: 2000 });
	});

	it('represents every customer state with a reasonable share', () => {
		const total = Object.values(report.states).reduce((s, n) => s + n, 0);
		expect(total).toBe(2000);
		for (const state of ['cross_channel', 'store_only', 'ec_only', 'first_purchase_only', 'dormant'] as const) {
			expect(report.states[state] / total, state).toBeGreaterThan(0.08);
		}
		expect(report.states.none).toBeGreaterThan(0);
	});

	it('gives every customer the state their history was generated for', async () => {
		const states = await memberStates(a.db, new Date());
		const { intended } = generateDemoData({ anchorDate, publicBaseUrl });
		const mismatched = [...intended].filter(([memberNo, segment]) => states.get(memberNo) !== segment);
		expect(mismatched).toEqual([]);
		for (const f of FEATURED_MEMBERS) expect(states.get(f.member_no), f.member_no).toBe(f.state);
	});

	it('links the featured members to LINE with message consent', async () => {
		const rows = await a.db
			.selectFrom('customers')
			.select(['member_no', 'family_name', 'given_kana', 'line_user_id', 'line_friend', 'consent_messages'])
			.where('member_no', 'in', FEATURED_MEMBERS.map((f) => f.member_no))
			.orderBy('member_no')
			.execute();
		expect(rows).toEqual(
			FEATURED_MEMBERS.map((f) => ({
				member_no: f.member_no, family_name: f.family_name, given_kana: f.given_kana,
				line_user_id: demoLineUserId(f.member_no), line_friend: true, consent_messages: true
			}))
		);
		// 山田花子 bought leather sneakers about 30 days ago (the shoe-care talking point)
		const sneakers = await scalar(a.db, `
			select count(*)::int as v from store_purchases p join store_purchase_lines l on l.purchase_id = p.id
			join products pr on pr.id = l.product_id join customers c on c.id = p.customer_id
			where c.member_no = '1000000001' and pr.category = 'シューズ' and p.purchased_at < now() - interval '25 days'
				and p.purchased_at > now() - interval '35 days'`);
		expect(sneakers).toBe(1);
	});

	it('keeps references and totals consistent', async () => {
		const problems = await scalar<Record<string, number>>(a.db, `select json_build_object(
			'line_sku', (select count(*) from store_purchase_lines l join products p on p.id = l.product_id where l.sku <> p.sku),
			'receipt_total', (select count(*) from store_purchases p where total_yen <> (select sum(amount_yen) from store_purchase_lines l where l.purchase_id = p.id)),
			'receipt_without_lines', (select count(*) from store_purchases p where not exists (select 1 from store_purchase_lines l where l.purchase_id = p.id)),
			'order_subtotal', (select count(*) from ec_orders o where subtotal_yen <> (select sum(amount_yen) from ec_order_lines l where l.order_id = o.id)),
			'staff_other_store', (select count(*) from store_purchases p join staff s on s.id = p.staff_id where s.home_store_id <> p.store_id),
			'refund_orphans', (select count(*) from ec_refunds r where not exists (select 1 from ec_orders o where o.ec_order_id = r.ec_order_id)),
			'refund_over_total', (select count(*) from ec_refunds r join ec_orders o using (ec_order_id) where r.amount_yen > o.total_yen),
			'ec_id_not_identity', (select count(*) from ec_orders o where not exists (select 1 from customer_identities i where i.kind = 'ec' and i.value = o.ec_customer_id and i.customer_id = o.customer_id)),
			'store_buyer_without_pos', (select count(distinct p.customer_id) from store_purchases p where p.customer_id is not null and not exists (select 1 from customer_identities i where i.kind = 'pos' and i.customer_id = p.customer_id)),
			-- the planted LINE duplicates (server/seed/duplicates.ts): the identity on one record, the membership on the other
			'line_identity_mismatch', (select count(*) from customer_identities i join customers c on c.id = i.customer_id where i.kind = 'line' and i.value is distinct from c.line_user_id
				and not exists (select 1 from customers m where m.line_user_id = i.value and m.id <> c.id)),
			'line_event_mismatch', (select count(*) from line_events e join customers c on c.id = e.customer_id where e.line_user_id <> c.line_user_id),
			'consultation_member', (select count(*) from consultations x join customers c on c.id = x.customer_id where x.member_no <> c.member_no),
			'future_rows', (select count(*) from store_purchases where purchased_at > now()) + (select count(*) from ec_orders where ordered_at > now()),
			'phone_identity_format', (select count(*) from customer_identities where kind = 'phone' and value !~ '^0[789]0[0-9]{8}$'),
			'email_domain', (select count(*) from customers where email is not null and email !~ '@example\\.jp$')
		) as v`);
		expect(Object.fromEntries(Object.entries(problems).filter(([, n]) => n !== 0))).toEqual({});
	});

	it('builds a realistic catalogue with valid JANs and EC links', async () => {
		const products = await a.db.selectFrom('products').selectAll().execute();
		expect(products.every((p) => p.jan !== null && isValidJan(p.jan))).toBe(true);
		expect(products.every((p) => p.price_yen >= 1980 && p.price_yen <= 39800)).toBe(true);
		expect(products.every((p) => p.ec_url === `${publicBaseUrl}/shop/products/${p.sku}`)).toBe(true);
		expect(new Set(products.map((p) => p.category)).size).toBeGreaterThanOrEqual(8);
		// shoe care sells with shoes (the "complementary products" pattern)
		const shoeCareWithShoes = await scalar(a.db, `
			select count(*)::int as v from store_purchase_lines l1 join products p1 on p1.id = l1.product_id
			join store_purchase_lines l2 on l2.purchase_id = l1.purchase_id join products p2 on p2.id = l2.product_id
			where p1.category = 'シューズ' and p2.category = 'シューケア'`);
		expect(shoeCareWithShoes).toBeGreaterThan(50);
	});

	it('gives the manager dashboard follow-ups, clicks and attributed orders for every floor staff member', async () => {
		const perStaff = await sql<{ staff_code: string; role: string; sent: number; failed: number; clicks: number; active: number; net: number }>`
			select s.staff_code, s.role,
				(select count(*) from follow_ups f where f.staff_id = s.id and f.status = 'sent')::int as sent,
				(select count(*) from follow_ups f where f.staff_id = s.id and f.status = 'failed')::int as failed,
				(select count(*) from link_clicks k join tracked_links l on l.code = k.code where l.staff_id = s.id)::int as clicks,
				(select count(*) from attributions a where a.staff_id = s.id and a.status = 'active')::int as active,
				(select coalesce(sum(a.gross_yen - a.refunded_yen), 0) from attributions a where a.staff_id = s.id and a.status = 'active')::int as net
			from staff s order by s.staff_code`.execute(a.db);
		for (const r of perStaff.rows.filter((r) => r.role !== 'admin')) {
			expect(r.sent, r.staff_code).toBeGreaterThan(10);
			expect(r.clicks, r.staff_code).toBeGreaterThan(0);
			expect(r.active, r.staff_code).toBeGreaterThan(0);
			expect(r.net, r.staff_code).toBeGreaterThan(0);
		}
		expect(perStaff.rows.reduce((n, r) => n + r.failed, 0)).toBeGreaterThan(0);
		const mix = await scalar<Record<string, number>>(a.db, `select json_build_object(
			'ref', (select count(*) from attributions where rule = 'ref'),
			'last_touch', (select count(*) from attributions where rule = 'last_touch'),
			'void', (select count(*) from attributions where status = 'void'),
			'refunded', (select count(*) from attributions where refunded_yen > 0),
			'other_status', (select count(*) from follow_ups where status not in ('sent', 'failed'))
		) as v`);
		expect(mix).toMatchObject({ other_status: 0 });
		for (const key of ['ref', 'last_touch', 'void', 'refunded'] as const) expect(mix[key], key).toBeGreaterThan(0);
	});

	it('writes attributions as the rules decide them and keeps clicks after their messages', async () => {
		const problems = await scalar<Record<string, number>>(a.db, `select json_build_object(
			'ref_code_mismatch', (select count(*) from attributions a join ec_orders o using (ec_order_id) where a.rule = 'ref' and o.ref_code is distinct from a.link_code),
			'void_not_cancelled', (select count(*) from attributions a join ec_orders o using (ec_order_id) where (a.status = 'void') <> (o.status = 'cancelled')),
			'gross_not_total', (select count(*) from attributions a join ec_orders o using (ec_order_id) where a.gross_yen <> o.total_yen),
			'refund_mismatch', (select count(*) from attributions a where a.refunded_yen <> least(a.gross_yen, (select coalesce(sum(r.amount_yen), 0) from ec_refunds r where r.ec_order_id = a.ec_order_id))),
			'touch_outside_window', (select count(*) from attributions a join link_clicks k on k.click_id = a.click_id where a.rule = 'last_touch' and (k.clicked_at > a.ordered_at or k.clicked_at < a.ordered_at - interval '30 days')),
			'staff_not_link', (select count(*) from attributions a join tracked_links l on l.code = a.link_code where l.staff_id <> a.staff_id or l.follow_up_id is distinct from a.follow_up_id),
			'click_before_send', (select count(*) from link_clicks k join tracked_links l on l.code = k.code join follow_ups f on f.id = l.follow_up_id where f.sent_at is null or k.clicked_at < f.sent_at),
			'click_other_customer', (select count(*) from link_clicks k join tracked_links l on l.code = k.code where k.customer_id <> l.customer_id),
			'message_to_ineligible', (select count(*) from follow_ups f join customers c on c.id = f.customer_id where not c.consent_messages or c.line_user_id is null or not c.line_friend or c.line_blocked_at is not null),
			'future_rows', (select count(*) from follow_ups where created_at > now()) + (select count(*) from link_clicks where clicked_at > now()) + (select count(*) from ec_refunds where refunded_at > now())
		) as v`);
		expect(Object.fromEntries(Object.entries(problems).filter(([, n]) => n !== 0))).toEqual({});
	});

	it('leaves the report rollups and customer facts built, equal to the raw rows', async () => {
		// no refresh here: the seed must have built them (b after the worker had refreshed it empty)
		const period = parsePeriod({ from: addDaysTo(anchorDate, -120), to: addDaysTo(anchorDate, -1) });
		const days = rollup.dayRangeOf(period);
		const byKey = <T extends { key: string }>(rows: T[]) => Object.fromEntries(rows.map((r) => [r.key, r]));
		for (const db of [a.db, b.db]) {
			for (const scope of [{}, { storeId: 'shibuya' }]) {
				const sales = await rollup.salesByStaff(db, days, scope);
				expect(sales.length).toBeGreaterThan(2);
				expect(byKey(sales)).toEqual(byKey(await raw.salesByStaff(db, period, scope)));
				expect(byKey(await rollup.funnel(db, days, scope, 'staff'))).toEqual(byKey(await raw.funnel(db, period, scope, 'staff')));
			}
		}
		const sorted = (cells: raw.KpiCell[]) => cells.filter((c) => c.customers > 0).sort((x, y) => `${x.stateAtStart}${x.stateAtEnd}`.localeCompare(`${y.stateAtStart}${y.stateAtEnd}`));
		for (const db of [a.db, b.db]) {
			expect(sorted(await facts.kpiCells(db, period, undefined, 180))).toEqual(sorted(await raw.customerKpiCells(db, period, undefined, 180)));
			expect(await facts.purchaseIntervals(db, period, 'shinjuku')).toEqual(await raw.purchaseIntervals(db, period, 'shinjuku'));
		}
	});

	it('has a few duplicate pairs of each kind of evidence, suggested at once with that evidence', async () => {
		const rows = await sql<{ kind: string; n: number }>`
			select e->>'kind' as kind, count(*)::int as n from merge_suggestions s, jsonb_array_elements(s.evidence) e
			where s.status = 'open' group by 1 order by 1`.execute(a.db);
		const byKind = Object.fromEntries(rows.rows.map((r) => [r.kind, r.n]));
		for (const kind of ['phone', 'email', 'name_birthday', 'address', 'line', 'link']) expect(byKind[kind] ?? 0, kind).toBeGreaterThanOrEqual(2);
	});

	it('continues member numbers after the seeded ones', async () => {
		const max = await scalar<string>(a.db, `select max(member_no) as v from customers`);
		const next = await scalar<number>(b.db, `select nextval('member_no_seq')::bigint as v`);
		expect(next).toBe(Number(max) + 1);
	});

	it('seedIfEmpty leaves a database with data alone', async () => {
		const before = await tableCounts(a.db);
		expect(await seedIfEmpty(a.db, createLogger('silent'))).toBe(false);
		expect(await tableCounts(a.db)).toEqual(before);
	});
});

describe.skipIf(!testDbKinds().includes('postgres'))('set-based benchmark seed on postgres', () => {
	let a: TestDatabase;
	let b: TestDatabase;
	let report: SeedReport;
	const options = { customers: 400, anchorDate, publicBaseUrl };

	beforeAll(async () => {
		[a, b] = await Promise.all([createTestDatabase('postgres'), createTestDatabase('postgres')]);
		report = await seedBulk(a.db, options);
		await seedBulk(b.db, options);
	});
	afterAll(async () => {
		await a?.dispose();
		await b?.dispose();
	});

	it('is deterministic and covers every state', async () => {
		expect(await checksums(a.db)).toEqual(await checksums(b.db));
		expect(report.counts.customers).toBe(400);
		for (const state of ['cross_channel', 'store_only', 'ec_only', 'first_purchase_only', 'dormant', 'none'] as const) {
			expect(report.states[state], state).toBeGreaterThan(0);
		}
		const states = await memberStates(a.db, new Date());
		for (const f of FEATURED_MEMBERS) expect(states.get(f.member_no), f.member_no).toBe(f.state);
	});

	it('restores the foreign keys and indexes it set aside, and totals add up', async () => {
		const fks = await scalar(a.db, `select count(*)::int as v from pg_constraint where contype = 'f' and conrelid = 'store_purchase_lines'::regclass`);
		expect(fks).toBe(2);
		const idx = await scalar(a.db, `select count(*)::int as v from pg_indexes where indexname = 'store_purchases_customer_idx'`);
		expect(idx).toBe(1);
		const bad = await scalar(a.db, `select ((select count(*) from store_purchases p where total_yen <> (select sum(amount_yen) from store_purchase_lines l where l.purchase_id = p.id))
			+ (select count(*) from ec_orders o where subtotal_yen <> (select sum(amount_yen) from ec_order_lines l where l.order_id = o.id)))::int as v`);
		expect(bad).toBe(0);
		const next = await scalar<number>(a.db, `select nextval('member_no_seq')::bigint as v`);
		expect(next).toBe(1_000_000_401);
	});
});
