/**
 * Client book (担当顧客, issue 11 §1) against PGlite and PostgreSQL: claiming, the role rules,
 * proportional handover with exact counts, the deactivation guard, the append-only audit, the
 * first-contact rule (consultation and POS import), sender name and credit after a
 * reassignment, and the book page's filters, sorts and keyset paging.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeModules } from '../../server/compose.ts';
import { findAttribution } from '../../server/modules/attribution/attribution.service.ts';
import { proposeFirstSalesOfUnowned } from '../../server/modules/clientbook/clientbook.repository.ts';
import { FIRST_CONTACT_OWNER } from '../../server/modules/clientbook/clientbook.settings.ts';
import { splitCounts } from '../../server/modules/clientbook/split.ts';
import { runImport } from '../../server/ingest/import.ts';
import { closeLinks } from '../../server/modules/links/links.service.ts';
import { lastStorePurchaseId } from '../../server/modules/purchases/purchases.service.ts';
import { refreshCustomerFacts } from '../../server/modules/reports/customer-facts.repository.ts';
import { writeSetting } from '../../server/modules/settings/settings.service.ts';
import { signSession } from '../../server/modules/staff/tokens.ts';
import { processInboxBatch, type InboxHandlers } from '../../server/modules/webhooks/inbox.service.ts';
import { shopifyInboxHandler } from '../../server/modules/webhooks/shopify.handler.ts';
import type { Runtime } from '../../server/runtime.ts';
import { buildOrderPayload, shopifyHeaders, shopifyJson } from '../../server/sandbox/shopify.ts';
import { testDbKinds } from '../helpers/db.ts';
import { daysAgo, newConsultation, newCustomer, newEcOrder, newProduct, newStaff, newStore, newStorePurchase } from '../helpers/factories.ts';
import { createTestRuntime, testConfig, testOrders } from '../helpers/runtime.ts';

type Json = Record<string, any>;
type Who = 'a' | 'b' | 'c' | 'd' | 'm' | 'mt' | 'admin';
const HANDLERS: InboxHandlers = { shopify: shopifyInboxHandler(testOrders) };
const lineId = () => `U${randomUUID().replace(/-/g, '')}`;

describe.each(testDbKinds())('client book on %s', (kind) => {
	let rt: Runtime;
	let S: string;
	let T: string;
	const staff = {} as Record<Who | 'x' | 't1', { id: string; sender_name: string }>;
	const auth = {} as Record<Who, string>;
	const db = () => rt.deps.db;

	const call = async (method: string, path: string, who: Who, body?: unknown) => {
		const res = await rt.app.request(`/api${path}`, {
			method,
			headers: { authorization: `Bearer ${auth[who]}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
			body: body !== undefined ? JSON.stringify(body) : undefined
		});
		return { status: res.status, body: (res.status === 204 ? {} : await res.json()) as Json };
	};
	const ownerOf = async (id: string) => (await db().selectFrom('customers').select('owner_staff_id').where('id', '=', id).executeTakeFirstOrThrow()).owner_staff_id;
	const changesOf = (id: string) => db().selectFrom('customer_owner_changes').selectAll().where('customer_id', '=', id).orderBy('id').execute();
	const customersOf = async (store: string, n: number, extra: Parameters<typeof newCustomer>[1] = {}) => {
		const out: string[] = [];
		for (let i = 0; i < n; i++) out.push((await newCustomer(db(), { home_store_id: store, ...extra })).id);
		return out;
	};

	beforeAll(async () => {
		rt = await createTestRuntime(kind);
		S = (await newStore(db(), { name: '渋谷店' })).id;
		T = (await newStore(db(), { name: '新宿店' })).id;
		const mk = async (key: keyof typeof staff, storeId: string, role: 'staff' | 'manager' | 'admin' = 'staff', active = true) => {
			const row = await newStaff(db(), { storeId, role, pin: null, active, display_name: `スタッフ${key}` });
			const sender = `渋谷 ${key}`;
			await db().updateTable('staff').set({ sender_name: sender }).where('id', '=', row.id).execute();
			staff[key] = { id: row.id, sender_name: sender };
		};
		for (const k of ['a', 'b', 'c', 'd'] as const) await mk(k, S);
		await mk('m', S, 'manager');
		await mk('admin', S, 'admin');
		await mk('x', S, 'staff', false);
		await mk('mt', T, 'manager');
		await mk('t1', T);
		const devS = await db().insertInto('devices').values({ store_id: S, name: 'iPad S', secret_hash: 'x' }).returning('id').executeTakeFirstOrThrow();
		const devT = await db().insertInto('devices').values({ store_id: T, name: 'iPad T', secret_hash: 'x' }).returning('id').executeTakeFirstOrThrow();
		const roles: Record<Who, 'staff' | 'manager' | 'admin'> = { a: 'staff', b: 'staff', c: 'staff', d: 'staff', m: 'manager', mt: 'manager', admin: 'admin' };
		for (const who of Object.keys(roles) as Who[]) {
			const storeId = who === 'mt' ? T : S;
			auth[who] = (await signSession(rt.config.sessionSecret, { staffId: staff[who].id, role: roles[who], deviceId: who === 'mt' ? devT.id : devS.id, storeId })).token;
		}
	}, 60_000);
	afterAll(async () => {
		await closeLinks(rt.deps);
		await rt.lineSandbox?.close();
		await rt?.close();
	});

	it('lets staff claim an unowned customer of their store, once, and audits it', async () => {
		const [c1] = await customersOf(S, 1);
		const [other] = await customersOf(T, 1);
		const r = await call('POST', '/client-book/claim', 'a', { customerIds: [c1] });
		expect(r).toMatchObject({ status: 200, body: { changed: 1 } });
		expect(await ownerOf(c1)).toBe(staff.a.id);
		expect(await changesOf(c1)).toMatchObject([{ from_staff_id: null, to_staff_id: staff.a.id, actor_staff_id: staff.a.id, reason: 'claim' }]);
		// again: nothing changes, nothing audited
		expect((await call('POST', '/client-book/claim', 'a', { customerIds: [c1] })).body).toEqual({ changed: 0 });
		expect(await changesOf(c1)).toHaveLength(1);
		expect(await call('POST', '/client-book/claim', 'b', { customerIds: [c1] })).toMatchObject({ status: 409, body: { error: { code: 'already_owned' } } });
		expect(await call('POST', '/client-book/claim', 'a', { customerIds: [other] })).toMatchObject({ status: 403, body: { error: { code: 'other_store_customer' } } });
		expect(await ownerOf(other)).toBeNull();
		expect(await call('POST', '/client-book/claim', 'a', { customerIds: [randomUUID()] })).toMatchObject({ status: 404, body: { error: { code: 'customer_not_found' } } });
		expect((await call('POST', '/client-book/claim', 'a', { customerIds: [] })).status).toBe(400);
	});

	it('lets managers assign within their store and admins anywhere; refuses inactive staff and other stores', async () => {
		const [c1, c2] = await customersOf(S, 2);
		const [t] = await customersOf(T, 1);
		expect(await call('POST', '/client-book/assign', 'a', { customerIds: [c1], toStaffId: staff.b.id })).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
		expect(await call('POST', '/client-book/assign', 'm', { customerIds: [c1], toStaffId: staff.b.id, note: '接客が多い' })).toMatchObject({ status: 200, body: { changed: 1 } });
		expect(await ownerOf(c1)).toBe(staff.b.id);
		// reassign
		expect((await call('POST', '/client-book/assign', 'm', { customerIds: [c1], toStaffId: staff.c.id })).status).toBe(200);
		expect(await changesOf(c1)).toMatchObject([
			{ from_staff_id: null, to_staff_id: staff.b.id, actor_staff_id: staff.m.id, reason: 'assign', note: '接客が多い' },
			{ from_staff_id: staff.b.id, to_staff_id: staff.c.id, actor_staff_id: staff.m.id, reason: 'assign' }
		]);
		expect(await call('POST', '/client-book/assign', 'm', { customerIds: [c2], toStaffId: staff.x.id })).toMatchObject({ status: 409, body: { error: { code: 'staff_inactive' } } });
		expect(await call('POST', '/client-book/assign', 'm', { customerIds: [c2], toStaffId: staff.t1.id })).toMatchObject({ status: 403, body: { error: { code: 'other_store' } } });
		expect(await call('POST', '/client-book/assign', 'm', { customerIds: [t], toStaffId: staff.a.id })).toMatchObject({ status: 403, body: { error: { code: 'other_store' } } });
		expect(await call('POST', '/client-book/assign', 'mt', { customerIds: [c2], toStaffId: staff.t1.id })).toMatchObject({ status: 403, body: { error: { code: 'other_store' } } });
		expect(await call('POST', '/client-book/assign', 'm', { customerIds: [c2], toStaffId: randomUUID() })).toMatchObject({ status: 404, body: { error: { code: 'staff_not_found' } } });
		expect(await ownerOf(c2)).toBeNull();
		// admin: across stores
		expect((await call('POST', '/client-book/assign', 'admin', { customerIds: [c2], toStaffId: staff.t1.id })).status).toBe(200);
		expect(await ownerOf(c2)).toBe(staff.t1.id);
		// back to the store book
		expect((await call('POST', '/client-book/assign', 'm', { customerIds: [c1], toStaffId: null })).status).toBe(200);
		expect(await ownerOf(c1)).toBeNull();
	});

	it('splits a book in the proportions given, with exact counts, in one audited batch', async () => {
		expect(splitCounts(7, [{ staffId: 'b', percent: 50 }, { staffId: 'c', percent: 30 }, { staffId: 'm', percent: 20 }])).toEqual([4, 2, 1]);
		expect(splitCounts(10, [{ staffId: 'b', percent: 34 }, { staffId: 'c', percent: 33 }, { staffId: 'm', percent: 33 }])).toEqual([4, 3, 3]);
		const leaving = (await newStaff(db(), { storeId: S, pin: null })).id;
		const ids = await customersOf(S, 7);
		await call('POST', '/client-book/assign', 'm', { customerIds: ids, toStaffId: leaving });
		expect(await call('POST', '/client-book/handover', 'm', { fromStaffId: leaving, to: { shares: [{ staffId: staff.b.id, percent: 50 }, { staffId: staff.c.id, percent: 30 }] } })).toMatchObject({
			status: 400,
			body: { error: { code: 'shares_not_100' } }
		});
		expect(await call('POST', '/client-book/handover', 'm', { fromStaffId: leaving, to: { shares: [{ staffId: leaving, percent: 100 }] } })).toMatchObject({ status: 400, body: { error: { code: 'handover_to_self' } } });
		expect(await call('POST', '/client-book/handover', 'm', { fromStaffId: leaving, to: { shares: [{ staffId: staff.x.id, percent: 100 }] } })).toMatchObject({ status: 409, body: { error: { code: 'staff_inactive' } } });
		const before = await db().selectFrom('customers').select('id').where('owner_staff_id', '=', leaving).execute();
		expect(before).toHaveLength(7);
		const r = await call('POST', '/client-book/handover', 'm', {
			fromStaffId: leaving,
			to: { shares: [{ staffId: staff.b.id, percent: 50 }, { staffId: staff.c.id, percent: 30 }, { staffId: staff.d.id, percent: 20 }] },
			note: '退職'
		});
		expect(r.status).toBe(200);
		expect(r.body).toMatchObject({ moved: 7, to: [{ staffId: staff.b.id, customers: 4 }, { staffId: staff.c.id, customers: 2 }, { staffId: staff.d.id, customers: 1 }] });
		const owners = await db().selectFrom('customers').select(['owner_staff_id', sql<number>`count(*)::int`.as('n')]).where('id', 'in', ids).groupBy('owner_staff_id').execute();
		expect(Object.fromEntries(owners.map((o) => [o.owner_staff_id, o.n]))).toEqual({ [staff.b.id]: 4, [staff.c.id]: 2, [staff.d.id]: 1 });
		const audit = await db().selectFrom('customer_owner_changes').selectAll().where('batch_id', '=', r.body.batchId).execute();
		expect(audit).toHaveLength(7);
		expect(new Set(audit.map((a) => a.from_staff_id))).toEqual(new Set([leaving]));
		expect(audit.every((a) => a.reason === 'handover' && a.actor_staff_id === staff.m.id && a.note === '退職')).toBe(true);
		// some of a book, to the store book
		const two = await customersOf(S, 2);
		await call('POST', '/client-book/assign', 'm', { customerIds: two, toStaffId: staff.d.id });
		expect(await call('POST', '/client-book/handover', 'm', { fromStaffId: staff.b.id, customerIds: two, to: { storeBook: true } })).toMatchObject({ status: 409, body: { error: { code: 'not_owned_by' } } });
		expect((await call('POST', '/client-book/handover', 'm', { fromStaffId: staff.d.id, customerIds: [two[0]], to: { storeBook: true } })).body).toMatchObject({ moved: 1 });
		expect([await ownerOf(two[0]), await ownerOf(two[1])]).toEqual([null, staff.d.id]);
	});

	it('refuses to deactivate a staff member who owns customers until their book has a destination', async () => {
		const leaving = await newStaff(db(), { storeId: S, pin: null });
		const ids = await customersOf(S, 3);
		await call('POST', '/client-book/assign', 'm', { customerIds: ids, toStaffId: leaving.id });
		const refused = await call('POST', `/client-book/staff/${leaving.id}/deactivate`, 'm', {});
		expect(refused).toMatchObject({ status: 409, body: { error: { code: 'staff_owns_customers', fields: { owned: '3' } } } });
		expect((await db().selectFrom('staff').select('active').where('id', '=', leaving.id).executeTakeFirstOrThrow()).active).toBe(true);
		expect(await call('POST', `/client-book/staff/${leaving.id}/deactivate`, 'a', {})).toMatchObject({ status: 403 });
		expect(await call('POST', `/client-book/staff/${leaving.id}/deactivate`, 'mt', { handover: { storeBook: true } })).toMatchObject({ status: 403, body: { error: { code: 'other_store' } } });
		const done = await call('POST', `/client-book/staff/${leaving.id}/deactivate`, 'm', { handover: { storeBook: true }, note: '12月末で退職' });
		expect(done).toMatchObject({ status: 200, body: { deactivated: true, moved: 3 } });
		expect((await db().selectFrom('staff').select('active').where('id', '=', leaving.id).executeTakeFirstOrThrow()).active).toBe(false);
		for (const id of ids) {
			expect(await ownerOf(id)).toBeNull();
			expect((await changesOf(id)).at(-1)).toMatchObject({ from_staff_id: leaving.id, to_staff_id: null, reason: 'deactivation', actor_staff_id: staff.m.id, note: '12月末で退職' });
		}
		expect(await call('POST', '/client-book/assign', 'm', { customerIds: [ids[0]], toStaffId: leaving.id })).toMatchObject({ status: 409, body: { error: { code: 'staff_inactive' } } });
		expect(await call('POST', `/client-book/staff/${leaving.id}/deactivate`, 'm', {})).toMatchObject({ status: 409, body: { error: { code: 'staff_inactive' } } });
		// nobody in the book: deactivated at once
		const empty = await newStaff(db(), { storeId: S, pin: null });
		expect(await call('POST', `/client-book/staff/${empty.id}/deactivate`, 'm', {})).toMatchObject({ status: 200, body: { moved: 0 } });
		expect(await call('POST', `/client-book/staff/${staff.m.id}/deactivate`, 'm', {})).toMatchObject({ status: 400, body: { error: { code: 'cannot_deactivate_self' } } });
	});

	it('keeps the ownership audit append-only and lists it for managers', async () => {
		const [row] = await db().selectFrom('customer_owner_changes').select('id').limit(1).execute();
		await expect(sql`update customer_owner_changes set note = 'x' where id = ${row.id}`.execute(db())).rejects.toThrow(/append-only/);
		await expect(sql`delete from customer_owner_changes where id = ${row.id}`.execute(db())).rejects.toThrow(/append-only/);
		const list = await call('GET', `/client-book/changes?staffId=${staff.m.id}`, 'm');
		expect(list.status).toBe(200);
		const mine = await call('GET', `/client-book/changes?staffId=${staff.b.id}`, 'm');
		expect(mine.body.changes.length).toBeGreaterThan(0);
		expect(mine.body.changes[0]).toMatchObject({ reason: expect.any(String), at: expect.any(String) });
		expect((await call('GET', '/client-book/changes', 'a')).status).toBe(403);
	});

	it('proposes or makes the first staff member to serve an unowned customer their 担当, as the setting says', async () => {
		const [p1, p2] = await customersOf(S, 2);
		const consult = (who: Who, customerId: string) =>
			call('PUT', `/consultations/${randomUUID()}`, who, { customerId, occurredAt: new Date().toISOString(), items: [], sizes: {}, notes: '', tags: [] });
		expect((await consult('b', p1)).status).toBe(201);
		expect(await ownerOf(p1)).toBeNull();
		const proposed = await call('GET', '/client-book?scope=proposed', 'b');
		expect(proposed.body.customers.map((c: Json) => c.id)).toContain(p1);
		expect((await call('POST', '/client-book/claim', 'b', { customerIds: [p1] })).status).toBe(200);
		expect(await db().selectFrom('customer_owner_proposals').selectAll().where('customer_id', '=', p1).execute()).toHaveLength(0);

		await writeSetting(db(), FIRST_CONTACT_OWNER, 'assign', null);
		await consult('c', p2);
		expect(await ownerOf(p2)).toBe(staff.c.id);
		expect(await changesOf(p2)).toMatchObject([{ from_staff_id: null, to_staff_id: staff.c.id, actor_staff_id: null, reason: 'first_contact' }]);
		// an owned customer is left alone
		await consult('d', p2);
		expect(await ownerOf(p2)).toBe(staff.c.id);

		// the POS import path: a sale by d to an unowned customer makes d the owner
		const code = (await db().selectFrom('staff').select('staff_code').where('id', '=', staff.d.id).executeTakeFirstOrThrow()).staff_code;
		const dir = await mkdtemp(join(tmpdir(), 'book-'));
		const file = join(dir, 'pos.csv');
		const email = `pos-${randomUUID().slice(0, 8)}@example.jp`;
		await writeFile(
			file,
			'store_code,receipt_no,line_no,purchased_at,customer_code,member_no,email,phone,staff_code,sku,quantity,unit_price_yen,amount_yen\n' +
				`${S},R${randomUUID().slice(0, 8)},1,2026-12-01T12:00:00+09:00,,,${email},,${code},SKU-X,1,5000,5000\n`
		);
		const modules = composeModules(testConfig());
		await runImport(db(), { kind: 'pos', file, errorsFile: null, orders: modules.orders, onStoreSales: modules.storeSaleHooks, ...(kind === 'postgres' ? { pool: rt.handle.pool } : {}) });
		const bought = await db().selectFrom('customer_identities').select('customer_id').where('kind', '=', 'email').where('value', '=', email).executeTakeFirstOrThrow();
		expect(await ownerOf(bought.customer_id)).toBe(staff.d.id);
		expect(await changesOf(bought.customer_id)).toMatchObject([{ to_staff_id: staff.d.id, reason: 'store_sale', actor_staff_id: null }]);
		await writeSetting(db(), FIRST_CONTACT_OWNER, 'propose', null);
	});

	it('after a POS import in propose mode: the earliest qualifying sale per unowned customer proposes its staff member, with and without FK triggers', async () => {
		await writeSetting(db(), FIRST_CONTACT_OWNER, 'propose', null);
		const mark = await lastStorePurchaseId(db());
		const [u1, u4, u6] = await customersOf(S, 3);
		const [u2] = await customersOf(T, 1);
		const [u3] = await customersOf(S, 1);
		await db().updateTable('customers').set({ owner_staff_id: staff.a.id }).where('id', '=', u3).execute();
		const [u5] = await customersOf(S, 1);
		const sale = (customerId: string, who: keyof typeof staff, store: string, days: number, kind: 'sale' | 'return' = 'sale') =>
			newStorePurchase(db(), { storeId: store, customerId, staffId: staff[who].id, at: daysAgo(days), lines: [], kind });
		await sale(u1, 'c', S, 2);
		await sale(u1, 'b', S, 3); // the earliest sale, between the others in id order: b
		await sale(u1, 'd', S, 1);
		await sale(u2, 'b', S, 5); // home store T: a sale at S does not count
		await sale(u2, 't1', T, 1);
		await sale(u3, 'b', S, 1); // owned already
		await sale(u4, 'x', S, 4); // x is inactive: the next sale counts
		await sale(u4, 'c', S, 1);
		await sale(u5, 'b', S, 1, 'return');
		await db().insertInto('customer_owner_proposals').values({ customer_id: u6, staff_id: staff.d.id, source: 'consultation' }).execute();
		await sale(u6, 'd', S, 1);
		const mine = [u1, u2, u3, u4, u5, u6];
		const proposals = async () =>
			(await db().selectFrom('customer_owner_proposals').select(['customer_id', 'staff_id', 'source']).where('customer_id', 'in', mine).execute())
				.map((p) => `${mine.indexOf(p.customer_id) + 1}:${Object.entries(staff).find(([, s]) => s.id === p.staff_id)![0]}:${p.source}`)
				.sort();
		const expected = ['1:b:store_sale', '2:t1:store_sale', '4:c:store_sale', '6:d:consultation'];

		const hooks = composeModules(testConfig()).storeSaleHooks;
		for (const hook of hooks) await hook(db(), { afterPurchaseId: mark });
		expect(await proposals()).toEqual(expected);
		// a second run changes nothing
		for (const hook of hooks) await hook(db(), { afterPurchaseId: mark });
		expect(await proposals()).toEqual(expected);

		// the statement with the FK triggers on (a session that may not skip them) decides the same
		await db().deleteFrom('customer_owner_proposals').where('customer_id', 'in', mine).where('source', '=', 'store_sale').execute();
		await db().transaction().execute((trx) => proposeFirstSalesOfUnowned(trx, mark, { skipFkTriggers: false }));
		expect(await proposals()).toEqual(expected);
	});

	it('after a reassignment, new follow-ups go out under the new owner, and credit for earlier links stays with their sender', async () => {
		const product = await newProduct(db(), { name: '撥水レザースニーカー', price_yen: 18_000 });
		await db().updateTable('products').set({ ec_url: `https://shop.example.jp/products/${product.sku}` }).where('id', '=', product.id).execute();
		const email = `r${randomUUID().slice(0, 8)}@example.jp`;
		const z = await newCustomer(db(), { home_store_id: S, line_user_id: lineId(), line_friend: true, consent_messages: true, email });
		await db().insertInto('customer_identities').values({ customer_id: z.id, kind: 'email', value: email }).execute();
		// two follow-ups to one customer, at any hour: the contact limits are contact-limits.test.ts's
		expect((await call('PUT', '/contact/settings', 'm', { maxPer7Days: 100, maxPer30Days: 100, quietHours: null })).status).toBe(200);
		await call('POST', '/client-book/claim', 'a', { customerIds: [z.id] });
		const before = await call('POST', '/followups', 'a', { customerId: z.id, text: '先日はありがとうございました', productIds: [product.id] });
		expect(before.status).toBe(201);
		const link = await db().selectFrom('tracked_links').select(['code', 'staff_id']).where('follow_up_id', '=', before.body.followUp.id).executeTakeFirstOrThrow();
		expect(link.staff_id).toBe(staff.a.id);

		expect((await call('POST', '/client-book/assign', 'm', { customerIds: [z.id], toStaffId: staff.b.id, note: '異動' })).status).toBe(200);
		const after = await call('POST', '/followups', 'b', { customerId: z.id, text: '担当が変わりました', productIds: [product.id] });
		expect(after.status).toBe(201);
		expect(after.body.followUp.messages[0]).toMatchObject({ sender: { name: staff.b.sender_name } });
		expect(before.body.followUp.messages[0]).toMatchObject({ sender: { name: staff.a.sender_name } });

		// the customer orders through a's earlier link after the change: a keeps the credit
		const orderId = String(7_500_000_000_000_000_000n + BigInt(Math.floor(Math.random() * 1e9)));
		const body = shopifyJson(buildOrderPayload({ id: orderId, email, createdAt: new Date().toISOString(), noteAttributes: [{ name: 'tsunagu_ref', value: link.code }], lines: [{ sku: product.sku, quantity: 1, price: 18_000 }] }));
		const res = await rt.app.request('/webhooks/shopify', { method: 'POST', headers: shopifyHeaders(body, rt.config.shopify.webhookSecret, 'orders/create', randomUUID()), body });
		expect(res.status).toBe(200);
		while ((await processInboxBatch(db(), HANDLERS)).claimed > 0);
		expect(await findAttribution(db(), 'shopify', orderId)).toMatchObject({ staff_id: staff.a.id, rule: 'ref', link_code: link.code });
		expect(await ownerOf(z.id)).toBe(staff.b.id);
	});

	it('offers the new owner a one-tap introduction after a manager reassigns, through the same consent and limit checks as any follow-up', async () => {
		expect((await call('PUT', '/contact/settings', 'm', { maxPer7Days: 1, maxPer30Days: 4, quietHours: null })).status).toBe(200);
		try {
			const y = await newCustomer(db(), { home_store_id: S, family_name: '紹介', line_user_id: lineId(), line_friend: true, consent_messages: true });
			const u = await newCustomer(db(), { home_store_id: S, family_name: '同意なし', line_user_id: lineId(), line_friend: true, consent_messages: false });
			const w = await newCustomer(db(), { home_store_id: S, family_name: '自分で', line_user_id: lineId(), line_friend: true, consent_messages: true });
			await call('POST', '/client-book/claim', 'a', { customerIds: [y.id, u.id] });
			expect((await call('POST', '/followups', 'a', { customerId: y.id, text: '先日はありがとうございました', productIds: [] })).status).toBe(201);
			expect((await call('POST', '/client-book/assign', 'm', { customerIds: [y.id, u.id], toStaffId: staff.c.id, note: '異動' })).status).toBe(200);
			await call('POST', '/client-book/claim', 'c', { customerIds: [w.id] });
			const rows = async () => new Map(((await call('GET', '/client-book?sort=last_contact', 'c')).body.customers as Json[]).map((r) => [r.id, r]));
			const book = await rows();
			expect(book.get(y.id)?.introduction).toMatchObject({ fromName: 'スタッフa' });
			expect(book.get(u.id)?.introduction).toBeNull(); // no consent: nothing to offer
			expect(book.get(w.id)?.introduction).toBeNull(); // claimed by themselves: no handover
			// the brand's introduction template (the demo seeds one)
			expect((await call('PUT', '/followups/templates/owner_intro', 'm', { title: '担当のごあいさつ', body: '{customerName}様\n新しく担当になりました{staffName}です。' })).status).toBe(200);
			// the introduction is a follow-up like any other: a's message this week counts across staff
			const intro = { customerId: y.id, templateKey: 'owner_intro', text: 'このたび担当させていただくことになりました', productIds: [] };
			const refused = await call('POST', '/followups', 'c', intro);
			expect([refused.status, refused.body.error.code]).toEqual([409, 'contact_limit_7d']);
			expect((await rows()).get(y.id)?.introduction).not.toBeNull();
			expect((await call('POST', '/followups', 'c', { ...intro, customerId: u.id })).status).toBe(409);
			expect((await call('PUT', '/contact/settings', 'm', { maxPer7Days: 2 })).status).toBe(200);
			const sent = await call('POST', '/followups', 'c', intro);
			expect(sent.status).toBe(201);
			expect(sent.body.followUp.messages[0]).toMatchObject({ sender: { name: staff.c.sender_name } });
			expect((await rows()).get(y.id)?.introduction).toBeNull();
		} finally {
			await call('PUT', '/contact/settings', 'm', { maxPer7Days: 100, maxPer30Days: 100, quietHours: null });
		}
	});

	describe('the book page', () => {
		let owner: { id: string };
		let token: string;
		const ids = {} as Record<string, string>;
		const page = async (query: string) => {
			const res = await rt.app.request(`/api/client-book?scope=staff&staffId=${owner.id}&${query}`, { headers: { authorization: `Bearer ${auth.m}` } });
			return { status: res.status, body: (await res.json()) as Json };
		};
		const names = (body: Json) => body.customers.map((c: Json) => c.name);

		beforeAll(async () => {
			owner = await newStaff(db(), { storeId: S, pin: null, display_name: '本 担当' });
			const dev = await db().selectFrom('devices').select('id').where('store_id', '=', S).executeTakeFirstOrThrow();
			token = (await signSession(rt.config.sessionSecret, { staffId: owner.id, role: 'staff', deviceId: dev.id, storeId: S })).token;
			const product = await newProduct(db(), { price_yen: 10_000 });
			const line = (yen: number) => [{ productId: product.id, sku: product.sku, unitPriceYen: yen }];
			const mk = async (key: string, extra: Parameters<typeof newCustomer>[1] = {}) => {
				ids[key] = (await newCustomer(db(), { home_store_id: S, family_name: key, given_name: '様', ...extra })).id;
			};
			await mk('store2', { birthday: '1990-03-15', line_user_id: lineId(), line_friend: true, consent_messages: true });
			await newStorePurchase(db(), { storeId: S, customerId: ids.store2, at: daysAgo(40), lines: line(8_000) });
			await newStorePurchase(db(), { storeId: S, customerId: ids.store2, at: daysAgo(10), lines: line(12_000), staffId: staff.a.id });
			await mk('ec2', { birthday: '1985-07-01' });
			await newEcOrder(db(), { customerId: ids.ec2, at: daysAgo(20), lines: line(30_000) });
			await newEcOrder(db(), { customerId: ids.ec2, at: daysAgo(5), lines: line(20_000) });
			await mk('first1');
			await newStorePurchase(db(), { storeId: S, customerId: ids.first1, at: daysAgo(25), lines: line(5_000) });
			await mk('cross', { line_user_id: lineId(), line_friend: true, consent_messages: true });
			await newStorePurchase(db(), { storeId: S, customerId: ids.cross, at: daysAgo(60), lines: line(100_000) });
			await newEcOrder(db(), { customerId: ids.cross, at: daysAgo(2), lines: line(50_000) });
			await mk('dormant', { birthday: '1970-03-30' });
			await newStorePurchase(db(), { storeId: S, customerId: ids.dormant, at: daysAgo(400), lines: line(70_000) });
			await newStorePurchase(db(), { storeId: S, customerId: ids.dormant, at: daysAgo(300), lines: line(10_000) });
			await mk('none', { line_user_id: lineId(), line_friend: false, consent_messages: true });
			// contacts: a consultation by b (3 days ago) on store2, a follow-up-free rest
			await newConsultation(db(), { customerId: ids.store2, storeId: S, staffId: staff.b.id, at: daysAgo(3) });
			await newConsultation(db(), { customerId: ids.cross, storeId: S, staffId: staff.c.id, at: daysAgo(30) });
			await call('POST', '/client-book/assign', 'm', { customerIds: Object.values(ids), toStaffId: owner.id });
		});

		it('shows each row with state, LTV, last purchase, last contact with who, and LINE reachability', async () => {
			const res = await rt.app.request('/api/client-book?sort=ltv', { headers: { authorization: `Bearer ${token}` } });
			const body = (await res.json()) as Json;
			expect(res.status).toBe(200);
			expect(names(body)).toEqual(['cross 様', 'dormant 様', 'ec2 様', 'store2 様', 'first1 様', 'none 様']);
			const store2 = body.customers.find((c: Json) => c.id === ids.store2);
			expect(store2).toMatchObject({
				kana: 'ヤマダ ハナコ',
				state: 'store_only',
				ltvYen: 20_000,
				lastPurchaseChannel: 'store',
				lastContact: { kind: 'consultation', staffName: 'スタッフb' },
				line: { linked: true, reachable: true },
				owner: { id: owner.id, name: '本 担当' }
			});
			expect(new Date(store2.lastPurchaseAt).getTime()).toBeCloseTo(daysAgo(10).getTime(), -5);
			expect(body.customers.find((c: Json) => c.id === ids.none)).toMatchObject({ state: 'none', lastPurchaseAt: null, lastContact: null, line: { linked: true, reachable: false } });
			expect(body.nextCursor).toBeNull();
		});

		it('filters by state, LTV band, birthday month, LINE reachability and last purchase range', async () => {
			expect(names((await page('state=store_only')).body)).toEqual(['store2 様']);
			expect(names((await page('state=ec_only')).body)).toEqual(['ec2 様']);
			expect(names((await page('state=first_purchase_only')).body)).toEqual(['first1 様']);
			expect(names((await page('state=cross_channel')).body)).toEqual(['cross 様']);
			expect(names((await page('state=dormant')).body)).toEqual(['dormant 様']);
			expect(names((await page('state=dormant,first_purchase_only&sort=ltv')).body)).toEqual(['dormant 様', 'first1 様']);
			expect(names((await page('ltvMin=20000&ltvMax=80000&sort=ltv')).body)).toEqual(['ec2 様', 'store2 様']);
			expect(names((await page('birthdayMonth=3&sort=ltv')).body)).toEqual(['dormant 様', 'store2 様']);
			expect(names((await page('line=reachable&sort=ltv')).body)).toEqual(['cross 様', 'store2 様']);
			const from = new Date(Date.now() - 30 * 86_400_000 + 9 * 3_600_000).toISOString().slice(0, 10);
			expect(new Set(names((await page(`lastPurchaseFrom=${from}`)).body))).toEqual(new Set(['store2 様', 'ec2 様', 'first1 様', 'cross 様']));
			expect((await page('state=bogus')).status).toBe(400);
			expect((await page('birthdayMonth=13')).status).toBe(400);
			expect((await page('lastPurchaseFrom=2026-02-30x')).status).toBe(400);
		});

		it('sorts by last contact and last purchase, both directions', async () => {
			expect(names((await page('sort=last_contact')).body).slice(0, 2)).toEqual(['store2 様', 'cross 様']);
			expect(names((await page('sort=last_purchase')).body)).toEqual(['cross 様', 'ec2 様', 'store2 様', 'first1 様', 'dormant 様', 'none 様']);
			expect(names((await page('sort=last_purchase&dir=asc')).body)).toEqual(['none 様', 'dormant 様', 'first1 様', 'store2 様', 'ec2 様', 'cross 様']);
		});

		it('reads purchase figures from the customer facts when current, and from the purchases when not: the same rows either way', async () => {
			const refresh = () => db().transaction().execute((trx) => refreshCustomerFacts(trx));
			const rows = async (q = 'sort=ltv') => (await page(q)).body.customers as Json[];
			const live = await rows();
			const queries = ['state=store_only', 'state=dormant,first_purchase_only&sort=ltv', 'ltvMin=20000&ltvMax=80000&sort=ltv', 'sort=last_purchase&dir=asc'];
			const liveAnswers = await Promise.all(queries.map((q) => page(q).then((r) => names(r.body))));
			await refresh();
			expect(await rows()).toEqual(live);
			expect(await Promise.all(queries.map((q) => page(q).then((r) => names(r.body))))).toEqual(liveAnswers);
			// the page really reads the facts: a fact changed behind its back shows (then is put back)
			await sql`update report_customer_facts set ltv_yen = 1 where customer_id = ${ids.cross}`.execute(db());
			expect((await rows()).find((c) => c.id === ids.cross)?.ltvYen).toBe(1);
			await sql`update report_customer_facts set ltv_yen = 150000 where customer_id = ${ids.cross}`.execute(db());
			// a purchase not yet in the facts shows at once
			const product = await newProduct(db(), { price_yen: 5_000 });
			await newStorePurchase(db(), { storeId: S, customerId: ids.store2, at: daysAgo(1), lines: [{ productId: product.id, sku: product.sku, unitPriceYen: 5_000 }] });
			const fresh = (await rows()).find((c) => c.id === ids.store2)!;
			expect(fresh.ltvYen).toBe(25_000);
			expect(new Date(fresh.lastPurchaseAt).getTime()).toBeCloseTo(daysAgo(1).getTime(), -5);
			await refresh();
			expect((await rows()).find((c) => c.id === ids.store2)).toEqual(fresh);
			// an EC refund lowers the LTV before and after the next refresh
			const order = await db().selectFrom('ec_orders').select(['platform', 'ec_order_id']).where('customer_id', '=', ids.ec2).orderBy('ordered_at').executeTakeFirstOrThrow();
			await db().insertInto('ec_refunds').values({ platform: order.platform, ec_refund_id: `r-${order.ec_order_id}`, ec_order_id: order.ec_order_id, amount_yen: 4_000, refunded_at: daysAgo(1) }).execute();
			expect((await rows()).find((c) => c.id === ids.ec2)?.ltvYen).toBe(46_000);
			await refresh();
			expect((await rows()).find((c) => c.id === ids.ec2)?.ltvYen).toBe(46_000);
		});

		it('pages a big book 200 rows at a time with a keyset cursor, nothing lost or repeated', async () => {
			const big = await newStaff(db(), { storeId: S, pin: null });
			await sql`insert into customers (member_no, family_name, home_store_id, owner_staff_id)
				select (3000000000 + g)::text || ${String(kind.length)}, 'P' || lpad(g::text, 3, '0'), ${S}, ${big.id} from generate_series(1, 250) g`.execute(db());
			const seen: string[] = [];
			let cursor: string | null = null;
			let pages = 0;
			do {
				const res = await rt.app.request(`/api/client-book?scope=staff&staffId=${big.id}&sort=ltv${cursor ? `&cursor=${cursor}` : ''}`, { headers: { authorization: `Bearer ${auth.m}` } });
				const body = (await res.json()) as Json;
				expect(res.status).toBe(200);
				seen.push(...body.customers.map((c: Json) => c.id));
				expect(body.customers.length).toBe(pages === 0 ? 200 : 50);
				cursor = body.nextCursor;
				pages++;
			} while (cursor);
			expect(pages).toBe(2);
			expect(new Set(seen).size).toBe(250);
			expect((await page('cursor=garbage')).body).toMatchObject({ error: { code: 'invalid_cursor' } });
			// staff cannot read another member's book; other-store managers neither
			const other = await rt.app.request(`/api/client-book?scope=staff&staffId=${big.id}`, { headers: { authorization: `Bearer ${auth.a}` } });
			expect(other.status).toBe(403);
			const mt = await rt.app.request(`/api/client-book?scope=staff&staffId=${big.id}`, { headers: { authorization: `Bearer ${auth.mt}` } });
			expect(((await mt.json()) as Json).error.code).toBe('other_store');
		});

		it('lists the store book (unowned customers of the signed-in store) for claiming', async () => {
			const [free] = await customersOf(S, 1, { family_name: '未担当' });
			const res = await call('GET', '/client-book?scope=store&sort=last_purchase', 'a');
			expect(res.body.customers.map((c: Json) => c.id)).toContain(free);
			expect(res.body.customers.every((c: Json) => c.owner === null)).toBe(true);
		});
	});
});
