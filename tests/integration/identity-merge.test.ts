/**
 * Merge suggestions with evidence (issue 16 §1), against PGlite and PostgreSQL: the matcher
 * (incremental on dirty customers, from the orders path for a link purchase, and the full
 * run), the queue's decisions (merge / not the same person / later, the in-store
 * confirmation), a merge moving every history to the survivor, its undo, automatic merges,
 * the bad-input cases, and reports equal to the raw recomputation after a merge and an undo.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../server/db/index.ts';
import { fullMatch, matchDirty } from '../../server/modules/identity/identity.service.ts';
import { autoMergePass, mergeCustomers, undoMerge } from '../../server/modules/identity/merge.service.ts';
import { autoMergePolicy, AUTO_MERGE_SCORE, VERIFIED_KINDS } from '../../server/modules/identity/identity.service.ts';
import { writeSetting } from '../../server/modules/settings/settings.service.ts';
import * as facts from '../../server/modules/reports/customer-facts.repository.ts';
import { processInboxBatch, type InboxHandlers } from '../../server/modules/webhooks/inbox.service.ts';
import { shopifyInboxHandler } from '../../server/modules/webhooks/shopify.handler.ts';
import { buildOrderPayload, shopifyHeaders, shopifyJson } from '../../server/sandbox/shopify.ts';
import type { Runtime } from '../../server/runtime.ts';
import { testDbKinds } from '../helpers/db.ts';
import { newConsultation, newCustomer, newEcOrder, newStaff, newStore, newStorePurchase } from '../helpers/factories.ts';
import { newAttribution, newClick, newFollowUp, newLink, sessionFor } from '../helpers/report-factories.ts';
import * as raw from '../helpers/report-reference.ts';
import { createTestRuntime, testOrders } from '../helpers/runtime.ts';

type Json = Record<string, any>;
const HANDLERS: InboxHandlers = { shopify: shopifyInboxHandler(testOrders) };
const DAY = 86_400_000;
const jstMidnight = (date: string) => new Date(`${date}T00:00:00+09:00`);
const RANGES: raw.Range[] = [
	{ start: jstMidnight('2026-01-01'), end: jstMidnight('2027-01-01') },
	{ start: jstMidnight('2026-11-01'), end: jstMidnight('2026-12-01') }
];

describe.each(testDbKinds())('identity: merge suggestions and merges on %s', (kind) => {
	let rt: Runtime;
	let db: Db;
	const tokens: Record<string, string> = {};
	const staff: Record<string, { id: string }> = {};

	const call = async (method: string, path: string, who: string, body?: unknown) => {
		const res = await rt.app.request(`/api/identity${path}`, {
			method,
			headers: { authorization: `Bearer ${tokens[who]}`, ...(body ? { 'content-type': 'application/json' } : {}) },
			body: body ? JSON.stringify(body) : undefined
		});
		return { status: res.status, body: (await res.json()) as Json };
	};
	const suggestionOf = (x: string, y: string) =>
		db
			.selectFrom('merge_suggestions')
			.selectAll()
			.where((eb) => eb.or([eb.and([eb('customer_a', '=', x), eb('customer_b', '=', y)]), eb.and([eb('customer_a', '=', y), eb('customer_b', '=', x)])]))
			.executeTakeFirst();
	const drainDirty = async () => {
		while ((await matchDirty(db, 500)).customers > 0) {
			/* until every dirty customer is matched */
		}
	};
	const person = (extra: Parameters<typeof newCustomer>[1] = {}) =>
		newCustomer(db, { family_name: `姓${randomUUID().slice(0, 6)}`, given_name: '名', family_kana: 'セイ', given_kana: 'メイ', home_store_id: 'a', created_at: new Date('2026-01-01T00:00:00Z'), ...extra });

	async function expectReportsEqualRaw() {
		await db.transaction().execute((trx) => facts.refreshCustomerFacts(trx));
		for (const range of RANGES) {
			for (const storeId of [undefined, 'a']) {
				const sorted = (cells: raw.KpiCell[]) => cells.filter((c) => c.customers > 0).sort((x, y) => `${x.stateAtStart}/${x.stateAtEnd}`.localeCompare(`${y.stateAtStart}/${y.stateAtEnd}`));
				expect(sorted(await facts.kpiCells(db, range, storeId, 180))).toEqual(sorted(await raw.customerKpiCells(db, range, storeId, 180)));
				expect(await facts.purchaseIntervals(db, range, storeId)).toEqual(await raw.purchaseIntervals(db, range, storeId));
			}
		}
	}

	beforeAll(async () => {
		rt = await createTestRuntime(kind);
		db = rt.deps.db;
		await newStore(db, { id: 'a' });
		staff.admin = await newStaff(db, { storeId: 'a', role: 'admin', pin: null });
		staff.manager = await newStaff(db, { storeId: 'a', role: 'manager', pin: null });
		staff.clerk = await newStaff(db, { storeId: 'a', role: 'staff', pin: null });
		const secret = rt.config.sessionSecret;
		tokens.admin = await sessionFor(db, secret, { id: staff.admin.id, role: 'admin' }, 'a');
		tokens.manager = await sessionFor(db, secret, { id: staff.manager.id, role: 'manager' }, 'a');
		tokens.clerk = await sessionFor(db, secret, { id: staff.clerk.id, role: 'staff' }, 'a');
		// the fixtures' customers are not under test
		await drainDirty();
	}, 120_000);
	afterAll(async () => rt?.close());

	it('suggests pairs for each kind of evidence, with the evidence, and nothing for unrelated records', async () => {
		const phoneA = await person({ phone: '090-1111-2222' });
		const phoneB = await person({ phone: '+81 90 1111 2222' });
		const mailA = await person({ email: 'Same@Example.jp' });
		const mailB = await person({});
		await db.insertInto('customer_identities').values({ customer_id: mailB.id, kind: 'email', value: 'same@example.jp' }).execute();
		const nameA = await person({ family_name: '佐藤', given_name: '美咲', family_kana: 'サトウ', given_kana: 'ミサキ', birthday: '1988-02-03' });
		const nameB = await person({ family_name: '佐藤', given_name: '美咲', family_kana: 'さとう', given_kana: 'みさき', birthday: '1988-02-03' });
		const addrA = await person({});
		const addrB = await person({});
		await sql`update customers set postcode = '150-0001', address = '東京都渋谷区神宮前1丁目2番3号' where id = ${addrA.id}`.execute(db);
		await sql`update customers set postcode = '1500001', address = '東京都渋谷区神宮前1-2-3' where id = ${addrB.id}`.execute(db);
		const lonely = await person({ phone: '090-9999-0000', email: 'lonely@example.jp' });
		await drainDirty();

		for (const [x, y, kind, score] of [
			[phoneA, phoneB, 'phone', 60],
			[mailA, mailB, 'email', 60],
			[nameA, nameB, 'name_birthday', 60],
			[addrA, addrB, 'address', 40]
		] as const) {
			const s = await suggestionOf(x.id, y.id);
			expect(s, kind).toMatchObject({ status: 'open', score });
			expect(s!.evidence.map((e) => e.kind)).toEqual([kind]);
		}
		expect((await suggestionOf(phoneA.id, phoneB.id))!.evidence[0].value).toBe('09011112222');
		const lonelyPairs = await db.selectFrom('merge_suggestions').select('id').where((eb) => eb.or([eb('customer_a', '=', lonely.id), eb('customer_b', '=', lonely.id)])).execute();
		expect(lonelyPairs).toEqual([]);

		// a full run finds the same pairs and changes nothing
		const before = await db.selectFrom('merge_suggestions').select(['id', 'score', 'updated_at']).orderBy('id').execute();
		const run = await fullMatch(db);
		expect(run).toMatchObject({ suggestions: 0 });
		expect(run!.pairs).toBeGreaterThanOrEqual(4);
		expect(await db.selectFrom('merge_suggestions').select(['id', 'score', 'updated_at']).orderBy('id').execute()).toEqual(before);
		expect(run!.bulk).toBe(false);

		// a first run (no keys yet: loaded without indexes, indexed once) builds exactly the keys
		// the incremental matcher keeps, with the table's indexes and foreign key back
		const keys = () => db.selectFrom('identity_match_keys').select(['customer_id', 'kind', 'key', 'detail']).orderBy(['customer_id', 'kind', 'key']).execute();
		const incremental = await keys();
		expect(incremental.length).toBeGreaterThanOrEqual(10);
		await sql`delete from identity_match_keys`.execute(db);
		expect(await fullMatch(db)).toMatchObject({ bulk: true, suggestions: 0 });
		expect(await keys()).toEqual(incremental);
		const { rows: constraints } = await sql<{ conname: string }>`select conname from pg_constraint where conrelid = 'identity_match_keys'::regclass and contype in ('p', 'f') order by conname`.execute(db);
		expect(constraints.map((c) => c.conname)).toEqual(['identity_match_keys_customer_id_fkey', 'identity_match_keys_pkey']);
		const { rows: indexes } = await sql<{ indexname: string }>`select indexname from pg_indexes where tablename = 'identity_match_keys' order by indexname`.execute(db);
		expect(indexes.map((i) => i.indexname)).toEqual(['identity_match_keys_key_idx', 'identity_match_keys_pkey']);
		// a changed record between runs: the daily run writes only the difference
		await sql`update customers set phone = '090-1111-3333' where id = ${phoneB.id}`.execute(db);
		await sql`delete from identity_match_dirty`.execute(db);
		expect(await fullMatch(db)).toMatchObject({ bulk: false });
		const after = await keys();
		expect(after.filter((k) => k.customer_id === phoneB.id && k.kind === 'phone').map((k) => k.key)).toEqual(['09011113333']);
		expect(after.length).toBe(incremental.length);
		expect(await db.selectFrom('merge_suggestions').select(['id', 'score', 'updated_at']).orderBy('id').execute()).toEqual(before);
		await sql`update customers set phone = '+81 90 1111 2222' where id = ${phoneB.id}`.execute(db);
		await drainDirty();
	}, 120_000);

	it('a purchase through a link sent to a member that lands on a new customer suggests the pair, with the link as evidence', async () => {
		const member = await person({ email: 'hanako@example.jp' });
		await db.insertInto('customer_identities').values({ customer_id: member.id, kind: 'email', value: 'hanako@example.jp' }).execute();
		const code = `k${randomUUID().slice(0, 7)}`;
		await newLink(db, { code, staffId: staff.clerk.id, storeId: 'a', customerId: member.id });
		await drainDirty();
		const id = String(7_500_000_000_000_000_000n + BigInt(Math.floor(Math.random() * 1e9)));
		const body = shopifyJson(
			buildOrderPayload({ id, createdAt: '2026-11-20T10:00:00+09:00', customer: { id: '88001', email: 'other.address@example.jp', first_name: '花子', last_name: '山田' }, noteAttributes: [{ name: 'tsunagu_ref', value: code }], lines: [{ sku: 'X', quantity: 1, price: 19800 }] })
		);
		const res = await rt.app.request('/webhooks/shopify', { method: 'POST', headers: shopifyHeaders(body, rt.config.shopify.webhookSecret, 'orders/create', randomUUID()), body });
		expect(res.status).toBe(200);
		while ((await processInboxBatch(db, HANDLERS)).claimed > 0) {
			/* drain */
		}
		const order = await db.selectFrom('ec_orders').select('customer_id').where('ec_order_id', '=', id).executeTakeFirstOrThrow();
		expect(order.customer_id).not.toBe(member.id);
		// no worker ran: the order's own transaction made the suggestion
		const s = await suggestionOf(member.id, order.customer_id!);
		expect(s).toMatchObject({ status: 'open', score: 50 });
		expect(s!.evidence).toEqual([{ kind: 'link', weight: 50, value: code }]);
		// the tablet shows it on both profiles
		const tablet = await call('GET', `/customers/${member.id}/suggestions`, 'clerk');
		expect(tablet.body).toMatchObject({ count: 1, suggestions: [{ id: s!.id, other: { id: order.customer_id } }] });
	}, 120_000);

	it('the queue: managers only; later, not the same person (never suggested again), in-store confirmation', async () => {
		const x = await person({ phone: '080-2222-3333' });
		const y = await person({ phone: '08022223333' });
		const z = await person({ email: 'zz@example.jp' });
		const w = await person({ email: 'ZZ@example.jp' });
		await drainDirty();
		const sxy = (await suggestionOf(x.id, y.id))!;
		const szw = (await suggestionOf(z.id, w.id))!;
		expect((await call('GET', '/suggestions', 'clerk')).status).toBe(403);
		const queue = await call('GET', '/suggestions', 'manager');
		expect(queue.status).toBe(200);
		const row = queue.body.suggestions.find((s: Json) => s.id === sxy.id);
		expect(row).toMatchObject({ score: 60, evidence: [{ kind: 'phone' }], a: { id: sxy.customer_a }, b: { id: sxy.customer_b } });
		expect(row.a).toHaveProperty('storePurchases', 0);

		// staff confirm after asking the customer: it goes to the top of the queue
		expect((await call('POST', `/suggestions/${szw.id}/confirm`, 'clerk')).status).toBe(200);
		const confirmed = (await call('GET', '/suggestions', 'manager')).body.suggestions[0];
		expect(confirmed).toMatchObject({ id: szw.id, staffConfirmedBy: expect.any(String) });
		expect(confirmed.staffConfirmedAt).not.toBeNull();

		expect((await call('POST', `/suggestions/${sxy.id}/decision`, 'manager', { decision: 'later' })).body).toEqual({ status: 'later' });
		expect((await call('GET', '/suggestions?status=later', 'manager')).body.suggestions.map((s: Json) => s.id)).toContain(sxy.id);
		expect((await call('POST', `/suggestions/${sxy.id}/decision`, 'manager', { decision: 'reject' })).body).toEqual({ status: 'rejected' });
		// a decided pair stays decided, through new evidence and a full run
		await sql`update customers set email = 'xy@example.jp' where id in (${x.id}, ${y.id})`.execute(db);
		await drainDirty();
		await fullMatch(db);
		expect(await suggestionOf(x.id, y.id)).toMatchObject({ status: 'rejected', score: 60 });
		const again = await call('POST', `/suggestions/${sxy.id}/decision`, 'manager', { decision: 'merge' });
		expect(again).toMatchObject({ status: 409, body: { error: { code: 'suggestion_decided' } } });
		const outsider = await call('POST', `/suggestions/${szw.id}/decision`, 'manager', { decision: 'merge', survivorId: x.id });
		expect(outsider).toMatchObject({ status: 400, body: { error: { code: 'merge_not_in_pair' } } });
	}, 120_000);

	it('a merge moves every history to the survivor; an undo moves exactly those rows back; reports equal the raw rows', async () => {
		const survivor = await person({ phone: '070-5555-6666' });
		const merged = await person({ email: 'dup@example.jp', birthday: '1991-07-07', line_user_id: `U${randomUUID().replace(/-/g, '')}`, consent_messages: true });
		await db.insertInto('customer_identities').values([
			{ customer_id: merged.id, kind: 'email', value: 'dup@example.jp' },
			{ customer_id: merged.id, kind: 'ec', value: `ec-${merged.id.slice(0, 8)}` }
		]).execute();
		const at = new Date('2026-11-10T03:00:00Z');
		for (let i = 0; i < 3; i++) await newStorePurchase(db, { storeId: 'a', customerId: merged.id, at: new Date(at.getTime() + i * 7 * DAY), lines: [] });
		await newStorePurchase(db, { storeId: 'a', customerId: survivor.id, at: new Date('2026-06-01T03:00:00Z'), lines: [] });
		const order = await newEcOrder(db, { customerId: merged.id, at: new Date('2026-11-12T03:00:00Z'), lines: [] });
		await newAttribution(db, { staffId: staff.clerk.id, storeId: 'a', at: new Date('2026-11-12T03:00:00Z'), customerId: merged.id, grossYen: 5000, ecOrderId: order.ec_order_id });
		await newConsultation(db, { customerId: merged.id, storeId: 'a', staffId: staff.clerk.id, at });
		const fu = await newFollowUp(db, { customerId: merged.id, staffId: staff.clerk.id, storeId: 'a', status: 'queued', createdAt: at });
		const code = `m${randomUUID().slice(0, 7)}`;
		await newLink(db, { code, staffId: staff.clerk.id, storeId: 'a', customerId: merged.id, followUpId: fu.id });
		await newClick(db, { code, at, customerId: merged.id });
		await db.insertInto('conversations').values({ line_user_id: merged.line_user_id!, customer_id: merged.id }).execute();
		await db.insertInto('line_events').values({ webhook_event_id: randomUUID(), line_user_id: merged.line_user_id!, customer_id: merged.id, type: 'follow', occurred_at: at }).execute();
		// a record merged into `merged` earlier forwards to the survivor afterwards
		const older = await person({ merged_into: merged.id });
		await expectReportsEqualRaw();

		const tables = ['customer_identities', 'store_purchases', 'ec_orders', 'attributions', 'consultations', 'follow_ups', 'tracked_links', 'link_clicks', 'conversations', 'line_events'] as const;
		const countOf = async (table: string, id: string) => Number((await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)} where customer_id = ${id}`.execute(db)).rows[0].n);
		const beforeMerged: Record<string, number> = {};
		const beforeSurvivor: Record<string, number> = {};
		for (const t of tables) {
			beforeMerged[t] = await countOf(t, merged.id);
			beforeSurvivor[t] = await countOf(t, survivor.id);
		}
		expect(beforeMerged).toMatchObject({ customer_identities: 2, store_purchases: 3, ec_orders: 1, consultations: 1, follow_ups: 1, tracked_links: 1, link_clicks: 1, conversations: 1, line_events: 1 });

		const res = await call('POST', '/merges', 'manager', { survivorId: survivor.id, mergedId: merged.id });
		expect(res.status).toBe(201);
		for (const t of tables) {
			expect(await countOf(t, merged.id), t).toBe(0);
			expect(await countOf(t, survivor.id), t).toBe(beforeSurvivor[t] + beforeMerged[t]);
			expect(res.body.moved[t], t).toBe(beforeMerged[t]);
		}
		const s1 = await db.selectFrom('customers').selectAll().where('id', '=', survivor.id).executeTakeFirstOrThrow();
		const m1 = await db.selectFrom('customers').selectAll().where('id', '=', merged.id).executeTakeFirstOrThrow();
		expect(s1).toMatchObject({ email: 'dup@example.jp', birthday: '1991-07-07', line_user_id: merged.line_user_id, consent_messages: true, phone: '070-5555-6666' });
		expect(m1).toMatchObject({ merged_into: survivor.id, line_user_id: null });
		expect((await db.selectFrom('customers').select('merged_into').where('id', '=', older.id).executeTakeFirstOrThrow()).merged_into).toBe(survivor.id);
		const ledger = (await call('GET', '/merges', 'manager')).body.merges[0];
		expect(ledger).toMatchObject({ id: res.body.mergeId, survivor: { id: survivor.id }, merged: { id: merged.id }, automatic: false, undoneAt: null });
		const audit = await db.selectFrom('audit_log').select(['action', 'customer_id']).where('action', '=', 'customer.merge').where('customer_id', 'in', [survivor.id, merged.id]).execute();
		expect(audit).toHaveLength(2);
		await expectReportsEqualRaw();
		// the drill-down's order now belongs to the survivor
		expect((await db.selectFrom('ec_orders').select('customer_id').where('id', '=', order.id).executeTakeFirstOrThrow()).customer_id).toBe(survivor.id);

		// bad input: into itself, into an already merged record, a cycle
		expect(await call('POST', '/merges', 'manager', { survivorId: survivor.id, mergedId: survivor.id })).toMatchObject({ status: 400, body: { error: { code: 'merge_self' } } });
		expect(await call('POST', '/merges', 'manager', { survivorId: merged.id, mergedId: (await person()).id })).toMatchObject({ status: 409, body: { error: { code: 'merge_already_merged' } } });
		expect(await call('POST', '/merges', 'manager', { survivorId: merged.id, mergedId: survivor.id })).toMatchObject({ status: 409, body: { error: { code: 'merge_cycle' } } });

		// undo: admins only, within 30 days
		expect((await call('POST', `/merges/${res.body.mergeId}/undo`, 'manager')).status).toBe(403);
		await expect(undoMerge(db, res.body.mergeId, { id: staff.admin.id, role: 'admin' }, new Date(Date.now() + 31 * DAY))).rejects.toMatchObject({ status: 409, code: 'merge_undo_expired' });
		// a row that arrives on the survivor after the merge stays there
		await newStorePurchase(db, { storeId: 'a', customerId: survivor.id, at: new Date('2026-11-25T03:00:00Z'), lines: [] });
		const undo = await call('POST', `/merges/${res.body.mergeId}/undo`, 'admin');
		expect(undo.status).toBe(200);
		for (const t of tables) {
			expect(await countOf(t, merged.id), t).toBe(beforeMerged[t]);
			expect(await countOf(t, survivor.id), t).toBe(beforeSurvivor[t] + (t === 'store_purchases' ? 1 : 0));
		}
		const s2 = await db.selectFrom('customers').selectAll().where('id', '=', survivor.id).executeTakeFirstOrThrow();
		const m2 = await db.selectFrom('customers').selectAll().where('id', '=', merged.id).executeTakeFirstOrThrow();
		expect(s2).toMatchObject({ email: null, birthday: null, line_user_id: null, consent_messages: survivor.consent_messages });
		expect(m2).toMatchObject({ merged_into: null, line_user_id: merged.line_user_id, email: 'dup@example.jp' });
		expect((await db.selectFrom('customers').select('merged_into').where('id', '=', older.id).executeTakeFirstOrThrow()).merged_into).toBe(merged.id);
		expect(await call('POST', `/merges/${res.body.mergeId}/undo`, 'admin')).toMatchObject({ status: 409, body: { error: { code: 'merge_already_undone' } } });
		await expectReportsEqualRaw();
	}, 120_000);

	it('a manager merging a suggestion; automatic merges only on a verified identity by default, or at the brand score', async () => {
		const x = await person({ email: 'pair1@example.jp' });
		const y = await person({ email: 'pair1@example.jp' });
		await drainDirty();
		const s = (await suggestionOf(x.id, y.id))!;
		const merged = await call('POST', `/suggestions/${s.id}/decision`, 'manager', { decision: 'merge', survivorId: y.id });
		expect(merged.body).toMatchObject({ status: 'merged', merge: { survivorId: y.id, mergedId: x.id } });
		expect(await suggestionOf(x.id, y.id)).toMatchObject({ status: 'merged' });

		const lineUser = `U${randomUUID().replace(/-/g, '')}`;
		const liner = await person({ line_user_id: lineUser, created_at: new Date('2025-01-01T00:00:00Z') });
		const other = await person({});
		await db.insertInto('customer_identities').values({ customer_id: other.id, kind: 'line', value: lineUser }).execute();
		const p = await person({ phone: '070-1212-3434' });
		const q = await person({ phone: '07012123434' });
		await drainDirty();
		const log: string[] = [];
		await autoMergePass(db, await autoMergePolicy(db), VERIFIED_KINDS, (msg) => log.push(msg));
		expect(await suggestionOf(liner.id, other.id)).toMatchObject({ status: 'merged' });
		expect(await suggestionOf(p.id, q.id)).toMatchObject({ status: 'open' });
		const auto = await db.selectFrom('customer_merges').selectAll().where('suggestion_id', '=', (await suggestionOf(liner.id, other.id))!.id).executeTakeFirstOrThrow();
		expect(auto).toMatchObject({ automatic: true, merged_by: null, survivor_id: liner.id });
		expect(log).toContain('automatic merge');

		await writeSetting(db, AUTO_MERGE_SCORE, 60, staff.admin.id);
		await autoMergePass(db, await autoMergePolicy(db), VERIFIED_KINDS, () => {});
		expect(await suggestionOf(p.id, q.id)).toMatchObject({ status: 'merged' });
		await writeSetting(db, AUTO_MERGE_SCORE, null, staff.admin.id);
	}, 120_000);

	it('merging 1,000 history rows takes one transaction and reports stay equal', async () => {
		const s = await person({});
		const m = await person({});
		await sql`
			insert into store_purchases (pos_txn_id, store_id, customer_id, purchased_at, total_yen)
			select 'bulk-' || ${m.id}::text || '-' || g, 'a', ${m.id}::uuid, timestamptz '2026-01-01T03:00:00Z' + g * interval '7 hours', 1000 from generate_series(1, 1000) g`.execute(db);
		const result = await mergeCustomers(db, { survivorId: s.id, mergedId: m.id, by: staff.admin.id });
		expect(result.moved.store_purchases).toBe(1000);
		await expectReportsEqualRaw();
	}, 120_000);
});
