/**
 * The tablet's customer search (issue 15): folding (width, kana, spaces, phone hyphens),
 * ranking (member number / phone, exact full name, exact family name, prefix; recent visit
 * first), paging with a count, and the row's birthday and home store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../server/runtime.ts';
import { SEARCH_CANDIDATES, SEARCH_PAGE_SIZE, searchCustomers } from '../../server/modules/customers/profile.service.ts';
import { testDbKinds } from '../helpers/db.ts';
import { createTestRuntime } from '../helpers/runtime.ts';
import { daysAgo, newConsultation, newCustomer, newProduct, newStaff, newStore, newStorePurchase, TEST_PIN } from '../helpers/factories.ts';

type Json = Record<string, any>;

describe.each(testDbKinds())('customer search on %s', (kind) => {
	let rt: Runtime;
	let auth: string;
	let managerId: string;
	const c: Record<string, { id: string; member_no: string }> = {};

	const get = async (path: string) => {
		const res = await rt.app.request(`/api${path}`, { headers: { authorization: auth } });
		return { status: res.status, body: (await res.json()) as Json };
	};
	const search = (q: string, offset?: number) => searchCustomers(rt.deps, q, { offset });
	const ids = (r: { results: Array<{ id: string }> }) => r.results.map((x) => x.id);

	beforeAll(async () => {
		rt = await createTestRuntime(kind);
		const db = rt.deps.db;
		await newStore(db, { id: 'shibuya', name: '渋谷店', name_en: 'Shibuya' });
		const manager = await newStaff(db, { storeId: 'shibuya', role: 'manager', display_name: '佐藤' });
		const product = await newProduct(db, { name: 'シャツ' });
		managerId = manager.id;
		c.hanako = await newCustomer(db, { member_no: '1000000010', phone: '09012345678', birthday: '1990-12-04', home_store_id: 'shibuya' });
		// same family name, visited more recently than the other ヤマダ ハナエ
		c.recent = await newCustomer(db, { member_no: '1000000011', given_name: '花江', given_kana: 'ハナエ', phone: '08011112222' });
		c.older = await newCustomer(db, { member_no: '1000000012', given_name: '花絵', given_kana: 'ハナエ', phone: '08033332222' });
		c.prefix = await newCustomer(db, { member_no: '1000000013', family_name: '山田川', family_kana: 'ヤマダガワ', given_name: '一郎', given_kana: 'イチロウ' });
		c.merged = await newCustomer(db, { member_no: '1000000014', merged_into: c.hanako.id });
		// a customer whose member number is the digits of another one's phone number
		c.phoneTwin = await newCustomer(db, { member_no: '09099998888', family_name: '鈴木', family_kana: 'スズキ' });
		c.phoneOwner = await newCustomer(db, { member_no: '1000000015', family_name: '佐々木', family_kana: 'ササキ', phone: '09099998888' });
		await newStorePurchase(db, { storeId: 'shibuya', customerId: c.recent.id, at: daysAgo(2), lines: [{ productId: product.id, sku: product.sku, unitPriceYen: 1000 }] });
		await newStorePurchase(db, { storeId: 'shibuya', customerId: c.older.id, at: daysAgo(200), lines: [{ productId: product.id, sku: product.sku, unitPriceYen: 1000 }] });
		// many 「タナカ」 for paging
		for (let i = 0; i < 45; i++) {
			await newCustomer(db, { member_no: `30000000${String(i).padStart(2, '0')}`, family_name: '田中', family_kana: 'タナカ', given_name: `${i}`, given_kana: `${i}` });
		}
		const enrolled = await rt.app.request('/api/devices/enroll', {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ storeId: 'shibuya', deviceName: 'iPad', staffCode: manager.staff_code, pin: TEST_PIN })
		});
		const device = ((await enrolled.json()) as Json).deviceToken;
		const session = await rt.app.request('/api/sessions', {
			method: 'POST',
			headers: { 'content-type': 'application/json', authorization: `Device ${device}` },
			body: JSON.stringify({ staffId: manager.id, pin: TEST_PIN })
		});
		auth = `Bearer ${((await session.json()) as Json).token}`;
	}, 60_000);
	afterAll(async () => rt?.close());

	it('finds a full name typed without a space, in kanji, hiragana, katakana and half-width kana', async () => {
		for (const q of ['山田花子', 'やまだはなこ', 'ヤマダハナコ', 'ﾔﾏﾀﾞﾊﾅｺ', 'やまだ　はなこ', 'ﾔﾏﾀﾞ ﾊﾅｺ']) {
			const r = await search(q);
			expect(ids(r)[0], q).toBe(c.hanako.id);
		}
		// a prefix of the given name, with or without the space: every ハナ… (the recent visitor first)
		expect(ids(await search('ヤマダ ハナ'))).toEqual([c.recent.id, c.older.id, c.hanako.id]);
		expect(ids(await search('山田花'))).toEqual(expect.arrayContaining([c.hanako.id, c.recent.id, c.older.id]));
		expect(ids(await search('山田花'))).not.toContain(c.prefix.id);
	});

	it('ranks exact family names before prefixes, the most recent visit first within a rank', async () => {
		const r = await search('やまだ');
		// ヤマダ (exact family) before ヤマダガワ (prefix); recent visit, older visit, never visited
		expect(ids(r)).toEqual([c.recent.id, c.older.id, c.hanako.id, c.prefix.id]);
		expect(r).toMatchObject({ total: 4, capped: false, offset: 0, nextOffset: null });
		expect(ids(r)).not.toContain(c.merged.id);
	});

	it('ranks an exact full name first', async () => {
		const r = await search('山田 花絵');
		expect(ids(r)).toEqual([c.older.id]);
		expect(ids(await search('やまだ はなえ'))).toEqual([c.recent.id, c.older.id]);
	});

	it('finds a whole phone number with hyphens or full-width digits, and an exact member number first', async () => {
		expect(ids(await search('090-1234-5678'))).toEqual([c.hanako.id]);
		expect(ids(await search('０９０－１２３４－５６７８'))).toEqual([c.hanako.id]);
		expect(ids(await search('+81 90-1234-5678'))).toEqual([c.hanako.id]);
		expect(ids(await search('1000000010'))).toEqual([c.hanako.id]);
		// a phone number that is also someone's member number: both, exact matches
		expect(ids(await search('090-9999-8888')).sort()).toEqual([c.phoneTwin.id, c.phoneOwner.id].sort());
		// last 4 digits: both owners of …2222
		expect(ids(await search('２２２２')).sort()).toEqual([c.recent.id, c.older.id].sort());
	});

	it('pages with a count', async () => {
		const first = await search('たなか');
		expect(first).toMatchObject({ total: 45, capped: false, offset: 0, nextOffset: SEARCH_PAGE_SIZE });
		expect(first.results).toHaveLength(SEARCH_PAGE_SIZE);
		const second = await search('たなか', 20);
		const third = await search('たなか', 40);
		expect(third).toMatchObject({ offset: 40, nextOffset: null });
		expect(third.results).toHaveLength(5);
		const all = [...ids(first), ...ids(second), ...ids(third)];
		expect(new Set(all).size).toBe(45);
		expect(SEARCH_CANDIDATES).toBeGreaterThanOrEqual(100);
	});

	it('answers rows with phone last 4, birthday (month/day) and home store, through the API', async () => {
		const res = await get(`/customers/search?q=${encodeURIComponent('山田花子')}`);
		expect(res.status).toBe(200);
		expect(res.body.results[0]).toMatchObject({
			id: c.hanako.id,
			memberNo: '1000000010',
			name: '山田 花子',
			kana: 'ヤマダ ハナコ',
			phoneLast4: '5678',
			birthday: '12-04',
			homeStore: { id: 'shibuya', name: '渋谷店', nameEn: 'Shibuya' }
		});
		const page = await get(`/customers/search?q=${encodeURIComponent('たなか')}&offset=20`);
		expect(page.body).toMatchObject({ total: 45, offset: 20, nextOffset: 40 });
	});

	it('refuses a bad offset and a too-short query with a code', async () => {
		const bad = await get('/customers/search?q=tanaka&offset=-1');
		expect(bad.status).toBe(400);
		expect(bad.body.error.code).toBeTruthy();
		for (const q of ['ヤ', ' ｱ ', '-1-']) {
			const short = await get(`/customers/search?q=${encodeURIComponent(q)}`);
			expect(short.status, q).toBe(400);
			expect(short.body.error.code).toBe('query_too_short');
		}
	});

	it('profile: the current size per category with its history (newest first, one entry per change)', async () => {
		const db = rt.deps.db;
		const at = (days: number) => ({ customerId: c.older.id, storeId: 'shibuya', staffId: managerId, at: daysAgo(days) });
		await newConsultation(db, { ...at(90), sizes: { shoes: '24.0', tops: 'M' } });
		await newConsultation(db, { ...at(60), sizes: { shoes: '24.0' } });
		await newConsultation(db, { ...at(30), sizes: { shoes: '24.5' } });
		const res = await get(`/customers/${c.older.id}/profile?via=search`);
		expect(res.status).toBe(200);
		expect(res.body.preferences.sizes).toEqual({ shoes: '24.5', tops: 'M' });
		const history = res.body.preferences.sizeHistory;
		expect(history.shoes.map((h: Json) => h.size)).toEqual(['24.5', '24.0']);
		expect(Date.parse(history.shoes[1].at)).toBeGreaterThan(daysAgo(61).getTime());
		expect(history.tops.map((h: Json) => h.size)).toEqual(['M']);
		expect(res.body.customer).toMatchObject({ homeStore: null });
		const hanako = await get(`/customers/${c.hanako.id}/profile?via=search`);
		expect(hanako.body.customer).toMatchObject({ birthday: '1990-12-04', homeStore: { id: 'shibuya', name: '渋谷店' } });
	});
});
