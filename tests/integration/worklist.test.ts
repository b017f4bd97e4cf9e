/**
 * Today's list against a real database: building (and building again), the staff member's list
 * and the store book, idempotent and concurrent state changes, auto-done by a follow-up or a
 * consultation, next actions that a later consultation does not erase, campaigns and outcomes.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../server/runtime.ts';
import { signSession } from '../../server/modules/staff/tokens.ts';
import { buildStores } from '../../server/modules/worklist/worklist.service.ts';
import { customerSummaries, storeMedians } from '../../server/modules/worklist/worklist.repository.ts';
import { refreshCustomerFacts } from '../../server/modules/reports/customer-facts.repository.ts';
import { addDays, jstDate, jstMidnight } from '../../server/shared/jst.ts';
import { testDbKinds } from '../helpers/db.ts';
import { daysAgo, newConsultation, newCustomer, newEcOrder, newProduct, newStaff, newStore, newStorePurchase } from '../helpers/factories.ts';
import { createTestRuntime } from '../helpers/runtime.ts';

type Json = Record<string, any>;
const lineId = () => `U${randomUUID().replace(/-/g, '')}`;
const reachable = () => ({ line_user_id: lineId(), line_friend: true, consent_messages: true });

describe.each(testDbKinds())('today\'s list on %s', (kind) => {
	let rt: Runtime;
	const today = jstDate(new Date());
	const auth: Record<string, string> = {};
	const ids: Record<string, string> = {};
	let storeId = '';

	const call = async (method: string, path: string, who: string, body?: unknown) => {
		const res = await rt.app.request(`/api${path}`, {
			method,
			headers: { authorization: `Bearer ${auth[who]}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
			body: body !== undefined ? JSON.stringify(body) : undefined
		});
		const text = await res.text();
		return { status: res.status, text, body: (text.startsWith('{') ? JSON.parse(text) : {}) as Json };
	};
	const db = () => rt.deps.db;
	const all = (list: Json) => [...list.groups.overdue, ...list.groups.today, ...list.groups.upcoming] as Json[];
	const itemOf = async (customer: string, reason: string) =>
		db().selectFrom('worklist_items').selectAll().where('customer_id', '=', ids[customer]).where('reason', '=', reason as never).executeTakeFirstOrThrow();

	beforeAll(async () => {
		rt = await createTestRuntime(kind);
		const store = await newStore(db(), { name: '渋谷店' });
		const other = await newStore(db(), { name: '新宿店' });
		storeId = store.id;
		const s1 = await newStaff(db(), { storeId: store.id, pin: null, display_name: '鈴木 健太' });
		const s2 = await newStaff(db(), { storeId: store.id, pin: null, display_name: '高橋 彩' });
		const m = await newStaff(db(), { storeId: store.id, pin: null, role: 'manager', display_name: '佐藤 美咲' });
		const m2 = await newStaff(db(), { storeId: other.id, pin: null, role: 'manager' });
		const device = await db().insertInto('devices').values({ store_id: store.id, name: 'iPad', secret_hash: 'x' }).returning('id').executeTakeFirstOrThrow();
		for (const [name, s] of Object.entries({ s1, s2, m, m2 })) {
			ids[name] = s.id;
			auth[name] = (await signSession(rt.config.sessionSecret, { staffId: s.id, role: s.role, deviceId: device.id, storeId: s.home_store_id! })).token;
		}
		const shoes = await newProduct(db(), { name: '撥水レザースニーカー', price_yen: 16800 });
		const line = { productId: shoes.id, sku: shoes.sku, unitPriceYen: 16800 };
		const mk = async (name: string, values: Parameters<typeof newCustomer>[1]) => (ids[name] = (await newCustomer(db(), { home_store_id: store.id, family_name: name, ...values })).id);
		const inThree = addDays(today, 3);
		await mk('birthday', { ...reachable(), birthday: `1990-${inThree.slice(5)}` });
		await db().updateTable('customers').set({ owner_staff_id: s1.id }).where('id', '=', ids.birthday).execute();
		await mk('blocked', { ...reachable(), birthday: `1990-${inThree.slice(5)}` });
		await db().updateTable('customers').set({ line_blocked_at: new Date() }).where('id', '=', ids.blocked).execute();
		await mk('noConsent', { ...reachable(), consent_messages: false, birthday: `1990-${inThree.slice(5)}` });
		await mk('first', reachable());
		await newStorePurchase(db(), { storeId: store.id, customerId: ids.first, at: new Date(jstMidnight(addDays(today, -28))!.getTime() + 13 * 3_600_000), lines: [line], staffId: s2.id });
		await mk('thanks', reachable());
		// 23:30 JST yesterday: yesterday's purchase; 00:30 JST today: not yet
		await newStorePurchase(db(), { storeId: store.id, customerId: ids.thanks, at: new Date(jstMidnight(today)!.getTime() - 30 * 60_000), lines: [line], staffId: s2.id });
		await mk('today', reachable());
		await newStorePurchase(db(), { storeId: store.id, customerId: ids.today, at: new Date(jstMidnight(today)!.getTime() + 30 * 60_000), lines: [line], staffId: s2.id });
		await mk('next', reachable());
		const old = await newConsultation(db(), { customerId: ids.next, storeId: store.id, staffId: s1.id, at: daysAgo(400), nextAction: '入荷連絡', nextActionDue: addDays(today, -365) });
		ids.oldConsultation = old.id;
		await newConsultation(db(), { customerId: ids.next, storeId: store.id, staffId: s1.id, at: daysAgo(2), notes: 'later, no next action' });
		await mk('ec', reachable());
		await newEcOrder(db(), { customerId: ids.ec, at: daysAgo(10), lines: [{ ...line, name: 'ECスニーカー' }] });
		await mk('none', reachable());
		await rt.app.request('/api/followups/templates/birthday', {
			method: 'PUT',
			headers: { authorization: `Bearer ${auth.m}`, 'content-type': 'application/json' },
			body: JSON.stringify({ title: 'お誕生日', body: '{customerName}様 お誕生日おめでとうございます' })
		});
	});
	afterAll(async () => {
		await rt?.close();
	});

	it('builds the lists on the first read: owner, store book and the server of yesterday\'s sale', async () => {
		const s1 = await call('GET', '/worklist/today', 's1');
		expect(s1.status).toBe(200);
		expect(s1.body.today).toBe(today);
		const mine = all(s1.body);
		const reasons = (list: Json[], name: string) => list.filter((i) => i.customerId === ids[name]).map((i) => i.reason).sort();
		expect(reasons(mine, 'birthday')).toEqual(['birthday']);
		expect(s1.body.groups.upcoming.map((i: Json) => i.customerId)).toContain(ids.birthday);
		expect(reasons(mine, 'first')).toEqual(['second_purchase']);
		expect(mine.find((i) => i.customerId === ids.first)!.sentence.ja).toBe('初回購入から28日 · 撥水レザースニーカー · 渋谷店');
		expect(mine.find((i) => i.customerId === ids.first)!.book).toBe(true);
		expect(reasons(mine, 'ec')).toEqual(['cross_channel']);
		// a year-old next action is still there, overdue, although a later consultation had none
		const overdue = s1.body.groups.overdue.find((i: Json) => i.customerId === ids.next);
		expect(overdue).toMatchObject({ reason: 'next_action', dueOn: addDays(today, -365) });
		expect(overdue.sentence.ja).toContain('期限から365日超過');
		for (const name of ['blocked', 'noConsent', 'none', 'thanks', 'today']) expect(reasons(mine, name), name).toEqual([]);

		const s2 = all((await call('GET', '/worklist/today', 's2')).body);
		expect(reasons(s2, 'thanks')).toEqual(['thank_you']);
		expect(reasons(s2, 'first')).toEqual(['second_purchase']);
		expect(reasons(s2, 'birthday')).toEqual([]);
		expect(reasons(s2, 'today')).toEqual([]);
	});

	it('reads purchase figures from the customer facts when current and from the purchases when not: the same candidates either way', async () => {
		const window = {
			birthdayKeys: ['01-01'],
			firstFrom: jstMidnight(addDays(today, -45))!,
			firstTo: jstMidnight(addDays(today, -20))!,
			lastFrom: jstMidnight(addDays(today, -400))!,
			lastTo: jstMidnight(addDays(today, 1))!
		};
		const read = async () => ({
			summaries: (await customerSummaries(db(), [storeId], window)).sort((a, b) => a.customerId.localeCompare(b.customerId)),
			medians: await storeMedians(db(), [storeId])
		});
		const live = await read();
		expect(live.summaries.length).toBeGreaterThan(3);
		await db().transaction().execute((trx) => refreshCustomerFacts(trx));
		expect(await read()).toEqual(live);
		// the facts are what is read: a fact changed behind its back shows (then is put back)
		const one = live.summaries.find((c) => c.ltvYen > 0)!;
		await sql`update report_customer_facts set ltv_yen = ltv_yen + 1 where customer_id = ${one.customerId}`.execute(db());
		expect((await read()).summaries.find((c) => c.customerId === one.customerId)?.ltvYen).toBe(one.ltvYen + 1);
		await sql`update report_customer_facts set ltv_yen = ltv_yen - 1 where customer_id = ${one.customerId}`.execute(db());
		// a purchase not refreshed yet counts at once
		const product = await newProduct(db(), { price_yen: 3_000 });
		await newStorePurchase(db(), { storeId, customerId: one.customerId, at: daysAgo(0), lines: [{ productId: product.id, sku: product.sku, unitPriceYen: 3_000 }] });
		const after = (await read()).summaries.find((c) => c.customerId === one.customerId)!;
		expect(after).toMatchObject({ ltvYen: one.ltvYen + 3_000, storeOrders: one.storeOrders + 1, lastPurchaseDay: today });
		await db().transaction().execute((trx) => refreshCustomerFacts(trx));
		expect((await read()).summaries.find((c) => c.customerId === one.customerId)).toEqual(after);
		// put back: the rest of the suite expects the data as set up
		const added = sql`select id from store_purchases where customer_id = ${one.customerId} and purchased_at >= ${jstMidnight(today)!}`;
		await sql`delete from store_purchase_lines where purchase_id in (${added})`.execute(db());
		await sql`delete from store_purchases where id in (${added})`.execute(db());
	});

	it('building again adds nothing', async () => {
		const before = await db().selectFrom('worklist_items').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
		const again = await buildStores(db(), [storeId], today, rt.deps.worklist.options);
		expect(again.created).toBe(0);
		const after = await db().selectFrom('worklist_items').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
		expect(Number(after.n)).toBe(Number(before.n));
	});

	it('state changes are idempotent per client id; completing from two tablets at once gives one result', async () => {
		const item = await itemOf('first', 'second_purchase');
		const clientA = randomUUID();
		const [a, b] = await Promise.all([
			call('PUT', `/worklist/items/${item.id}/state`, 's1', { clientId: clientA, state: 'done' }),
			call('PUT', `/worklist/items/${item.id}/state`, 's2', { clientId: randomUUID(), state: 'done' })
		]);
		expect([a.status, b.status]).toEqual([200, 200]);
		expect([a.body.applied, b.body.applied].sort()).toEqual([false, true]);
		expect(a.body.item.state).toBe('done');
		expect(b.body.item.state).toBe('done');
		const replay = await call('PUT', `/worklist/items/${item.id}/state`, 's1', { clientId: clientA, state: 'done' });
		expect(replay).toMatchObject({ status: 200, body: { applied: false, item: { state: 'done' } } });
		const row = await itemOf('first', 'second_purchase');
		expect(row.done_via).toBe('manual');
		expect([ids.s1, ids.s2]).toContain(row.done_by);
		const changes = await db().selectFrom('worklist_state_changes').selectAll().where('item_id', '=', item.id).execute();
		expect(changes.filter((c) => c.applied)).toHaveLength(1);
		// the list shows it under "done today"
		const list = (await call('GET', '/worklist/today', 's2')).body;
		expect(list.groups.done.map((i: Json) => i.id)).toContain(item.id);
		expect(all(list).map((i) => i.id)).not.toContain(item.id);
	});

	it('refuses bad changes with a code', async () => {
		const item = await itemOf('ec', 'cross_channel');
		const put = (who: string, body: Json) => call('PUT', `/worklist/items/${item.id}/state`, who, { clientId: randomUUID(), ...body });
		expect((await put('s1', { state: 'snoozed', snoozedUntil: addDays(today, -1) })).body.error.code).toBe('snooze_in_past');
		expect((await put('s1', { state: 'snoozed', snoozedUntil: today })).body.error.code).toBe('snooze_in_past');
		expect((await put('s1', { state: 'snoozed' })).body.error.code).toBe('snooze_date_required');
		expect((await put('s1', { state: 'dismissed' })).body.error.code).toBe('dismiss_reason_required');
		expect((await put('s1', { state: 'finished' })).status).toBe(400);
		expect((await put('s1', { state: 'snoozed', snoozedUntil: '2026-02-30' })).status).toBe(400);
		const owned = await itemOf('birthday', 'birthday');
		const other = await call('PUT', `/worklist/items/${owned.id}/state`, 's2', { clientId: randomUUID(), state: 'done' });
		expect(other).toMatchObject({ status: 403, body: { error: { code: 'worklist_forbidden' } } });
		expect((await call('PUT', `/worklist/items/${randomUUID()}/state`, 's1', { clientId: randomUUID(), state: 'done' })).status).toBe(404);
		const snoozed = await put('s1', { state: 'snoozed', snoozedUntil: addDays(today, 2) });
		expect(snoozed).toMatchObject({ status: 200, body: { item: { state: 'snoozed', snoozedUntil: addDays(today, 2) } } });
		expect(all((await call('GET', '/worklist/today', 's1')).body).map((i) => i.id)).not.toContain(item.id);
	});

	it('auto-done: the follow-up sent with the birthday template completes the birthday item', async () => {
		const item = await itemOf('birthday', 'birthday');
		const sent = await call('POST', '/followups', 's1', { customerId: ids.birthday, templateKey: 'birthday', text: '{customerName}様 お誕生日おめでとうございます', productIds: [] });
		expect(sent.status).toBe(201);
		const row = await db().selectFrom('worklist_items').selectAll().where('id', '=', item.id).executeTakeFirstOrThrow();
		expect(row).toMatchObject({ state: 'done', done_via: 'followup', done_by: ids.s1, done_source_id: sent.body.followUp.id });
	});

	it('auto-done: a consultation completes the store-book items of its customer but not an earlier next action; its own next action joins the list', async () => {
		await db().updateTable('worklist_items').set({ state: 'open', snoozed_until: null }).where('customer_id', '=', ids.ec).execute();
		const put = (customer: string, body: Json = {}) =>
			call('PUT', `/consultations/${randomUUID()}`, 's2', { customerId: ids[customer], occurredAt: new Date().toISOString(), items: [], sizes: {}, notes: '', tags: [], ...body });
		expect((await put('ec')).status).toBe(201);
		expect(await itemOf('ec', 'cross_channel')).toMatchObject({ state: 'done', done_via: 'consultation', done_by: ids.s2 });
		const r = await call('PUT', `/consultations/${randomUUID()}`, 's1', {
			customerId: ids.next, occurredAt: new Date().toISOString(), items: [], sizes: {}, notes: '', tags: [], nextAction: 'サイズ交換の確認', nextActionDue: today
		});
		expect(r.status).toBe(201);
		const actions = await db().selectFrom('worklist_items').selectAll().where('customer_id', '=', ids.next).where('reason', '=', 'next_action').orderBy('due_on').execute();
		expect(actions.map((a) => [a.due_on, a.state])).toEqual([[addDays(today, -365), 'open'], [today, 'open']]);
		expect(actions[0].source_consultation_id).toBe(ids.oldConsultation);
	});

	it('campaigns: a manager spreads a segment onto the store book; other stores and bad dates are refused', async () => {
		const body = { name: '冬の新作', templateKey: 'birthday', message: '', segment: { states: ['first_purchase_only'], storeId, lastPurchaseFrom: addDays(today, -12), lastPurchaseTo: addDays(today, -8) }, startsOn: today, dueOn: addDays(today, 5) };
		expect((await call('POST', '/worklist/campaigns', 's1', body)).status).toBe(403);
		expect((await call('POST', '/worklist/campaigns', 'm2', body)).body.error.code).toBe('campaign_store_forbidden');
		expect((await call('POST', '/worklist/campaigns', 'm', { ...body, dueOn: addDays(today, -1), startsOn: addDays(today, -3) })).body.error.code).toBe('campaign_dates');
		expect((await call('POST', '/worklist/campaigns', 'm', { ...body, startsOn: addDays(today, 6) })).body.error.code).toBe('campaign_dates');
		const created = await call('POST', '/worklist/campaigns', 'm', body);
		expect(created).toMatchObject({ status: 201, body: { items: 1 } });
		const s2 = all((await call('GET', '/worklist/today', 's2')).body);
		const item = s2.find((i) => i.reason === 'campaign')!;
		expect(item).toMatchObject({ customerId: ids.ec, templateKey: 'birthday', book: true, dueOn: addDays(today, 5) });
		expect(item.sentence.ja).toContain('キャンペーン「冬の新作」');
		expect((await call('PATCH', `/worklist/campaigns/${created.body.id}`, 'm', { dueOn: addDays(today, 2) })).status).toBe(200);
		expect((await itemOf('ec', 'campaign')).due_on).toBe(addDays(today, 2));
		const listed = await call('GET', '/worklist/campaigns', 'm');
		expect(listed.body.campaigns[0]).toMatchObject({ name: '冬の新作', items: 1, open: 1 });
		expect((await call('GET', '/worklist/campaigns', 'm2')).body.campaigns).toEqual([]);
		expect((await call('DELETE', `/worklist/campaigns/${created.body.id}`, 'm')).status).toBe(200);
		expect(await itemOf('ec', 'campaign')).toMatchObject({ state: 'dismissed', dismiss_reason: 'campaign_archived' });
	});

	it('outcomes: completion, contact rate and conversion per staff member and reason, CSV with BOM', async () => {
		// the birthday customer buys two days after the follow-up
		const shoes = await db().selectFrom('products').select(['id', 'sku']).executeTakeFirstOrThrow();
		await newStorePurchase(db(), { storeId, customerId: ids.birthday, at: new Date(), lines: [{ productId: shoes.id, sku: shoes.sku, unitPriceYen: 9800 }], staffId: ids.s1 });
		const from = addDays(today, -400);
		const to = addDays(today, 10);
		expect((await call('GET', `/worklist/outcomes?from=${from}&to=${to}`, 's1')).status).toBe(403);
		const res = await call('GET', `/worklist/outcomes?from=${from}&to=${to}`, 'm');
		expect(res.status).toBe(200);
		const birthday = res.body.byReason.find((r: Json) => r.reason === 'birthday');
		expect(birthday).toMatchObject({ items: 1, done: 1, contacted: 1, bought: 1, completion: 1, contactRate: 1, conversion: 1 });
		const suzuki = res.body.byStaff.find((r: Json) => r.staffId === ids.s1);
		expect(suzuki.items).toBeGreaterThanOrEqual(2);
		expect(suzuki.done).toBeGreaterThanOrEqual(1);
		expect(res.body.byStaff.some((r: Json) => r.book)).toBe(true);
		expect(res.body.definitions.conversion.ja).toContain('帰属期間');
		expect((await call('GET', `/worklist/outcomes?from=${from}&to=${to}&storeId=other`, 'm')).status).toBe(403);
		const csv = await rt.app.request(`/api/worklist/outcomes?from=${from}&to=${to}&format=csv`, { headers: { authorization: `Bearer ${auth.m}` } });
		expect(csv.headers.get('content-type')).toContain('text/csv');
		const bytes = new Uint8Array(await csv.arrayBuffer());
		expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
		const text = new TextDecoder().decode(bytes);
		expect(text.startsWith('期間（JST）,区分,対象,項目数')).toBe(true);
		expect(text).toContain('鈴木 健太');
		expect(text).toContain('誕生日');
		expect((await call('GET', '/worklist/outcomes?from=2026-13-01', 'm')).status).toBe(400);
	});

	it('a customer over the contact limit is held back from the list until a message is allowed again', async () => {
		await db().updateTable('worklist_items').set({ state: 'open' }).where('customer_id', '=', ids.first).execute();
		expect(all((await call('GET', '/worklist/today', 's2')).body).some((i) => i.customerId === ids.first)).toBe(true);
		// another staff member's LINE message this morning uses up the 1-per-7-days allowance
		const now = new Date();
		await db().insertInto('contact_log').values({ customer_id: ids.first, staff_id: ids.m, store_id: storeId, kind: 'followup', counted: true, at: now, composed_at: now }).execute();
		const held = await call('GET', '/worklist/today', 's2');
		expect(all(held.body).some((i) => i.customerId === ids.first)).toBe(false);
		expect(held.body.heldBack).toBeGreaterThanOrEqual(1);
		await sql`delete from contact_log where customer_id = ${ids.first}`.execute(db());
		expect(all((await call('GET', '/worklist/today', 's2')).body).some((i) => i.customerId === ids.first)).toBe(true);
	});

	it('rule settings: managers read and change them, staff cannot, a bad value changes nothing, every change is audited', async () => {
		const read = await call('GET', '/worklist/settings', 'm');
		expect(read.status).toBe(200);
		expect(read.body.settings).toMatchObject({ birthday: { enabled: true, withinDays: 7 }, secondPurchase: { minDays: 21, maxDays: 45 }, dormantDays: 180 });
		expect((await call('GET', '/worklist/settings', 's1')).status).toBe(403);
		expect((await call('PUT', '/worklist/settings', 's1', { birthday: { ...read.body.settings.birthday, withinDays: 10 } })).status).toBe(403);
		// one bad rule in the request: nothing is stored, the error names it
		const bad = await call('PUT', '/worklist/settings', 'm', {
			birthday: { ...read.body.settings.birthday, withinDays: 10 },
			secondPurchase: { ...read.body.settings.secondPurchase, minDays: 50, maxDays: 45 }
		});
		expect([bad.status, bad.body.error.code]).toEqual([400, 'invalid_setting']);
		expect(Object.keys(bad.body.error.fields ?? {})).toEqual(['secondPurchase']);
		for (const body of [{ birthday: { enabled: true } }, { thankYou: { ...read.body.settings.thankYou, expireDays: -1 } }, { dormancy: 'x' }]) {
			expect((await call('PUT', '/worklist/settings', 'm', body)).status, JSON.stringify(body)).toBe(400);
		}
		expect((await call('GET', '/worklist/settings', 'm')).body.settings.birthday.withinDays).toBe(7);
		const before = await db().selectFrom('audit_log').select((eb) => eb.fn.countAll<number>().as('n')).where('action', '=', 'settings.changed').executeTakeFirstOrThrow();
		const ok = await call('PUT', '/worklist/settings', 'm', { birthday: { ...read.body.settings.birthday, withinDays: 10 } });
		expect(ok.status).toBe(200);
		expect(ok.body.settings.birthday.withinDays).toBe(10);
		const audit = await db().selectFrom('audit_log').selectAll().where('action', '=', 'settings.changed').orderBy('id', 'desc').executeTakeFirstOrThrow();
		expect(audit).toMatchObject({ actor_staff_id: ids.m, details: { key: 'worklist.birthday', from: null, to: { withinDays: 10 } } });
		// the same value again is no change: not audited again
		await call('PUT', '/worklist/settings', 'm', { birthday: ok.body.settings.birthday });
		const after = await db().selectFrom('audit_log').select((eb) => eb.fn.countAll<number>().as('n')).where('action', '=', 'settings.changed').executeTakeFirstOrThrow();
		expect(Number(after.n)).toBe(Number(before.n) + 1);
		await call('PUT', '/worklist/settings', 'm', { birthday: read.body.settings.birthday });
	});

	it('a customer who blocks the account leaves every list', async () => {
		await db().updateTable('worklist_items').set({ state: 'open' }).where('customer_id', '=', ids.next).execute();
		expect(all((await call('GET', '/worklist/today', 's1')).body).some((i) => i.customerId === ids.next)).toBe(true);
		await sql`update customers set line_blocked_at = now() where id = ${ids.next}`.execute(db());
		expect(all((await call('GET', '/worklist/today', 's1')).body).some((i) => i.customerId === ids.next)).toBe(false);
	});
});
