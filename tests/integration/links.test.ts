import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { closeLinks, createLinks, linkState, mintLinkCode } from '../../server/modules/links/links.service.ts';
import { ClickBuffer } from '../../server/modules/links/click-buffer.ts';
import { CODE_PATTERN } from '../../server/modules/links/codes.ts';
import type { Runtime } from '../../server/runtime.ts';
import { testDbKinds } from '../helpers/db.ts';
import { newCustomer, newProduct, newStaff, newStore } from '../helpers/factories.ts';
import { createTestRuntime } from '../helpers/runtime.ts';

describe('link codes', () => {
	it('are 22 base62 characters (128 random bits) and do not repeat', () => {
		const codes = new Set(Array.from({ length: 5000 }, () => mintLinkCode()));
		expect(codes.size).toBe(5000);
		for (const code of codes) expect(code).toMatch(CODE_PATTERN);
	});
});

describe.each(testDbKinds())('tracked links on %s', (kind) => {
	let rt: Runtime;
	let ids: { staffId: string; storeId: string; customerId: string; productId: number };
	beforeAll(async () => {
		rt = await createTestRuntime(kind);
		const db = rt.deps.db;
		const store = await newStore(db);
		const staff = await newStaff(db, { storeId: store.id, pin: null });
		const customer = await newCustomer(db);
		const product = await newProduct(db);
		ids = { staffId: staff.id, storeId: store.id, customerId: customer.id, productId: product.id };
	});
	afterAll(async () => {
		await closeLinks(rt.deps);
		await rt?.close();
	});

	async function link(target = 'https://shop.example.jp/products/SKU-1?variant=2') {
		const code = mintLinkCode();
		await createLinks(rt.deps.db, [
			{ code, follow_up_id: null, staff_id: ids.staffId, store_id: ids.storeId, customer_id: ids.customerId, product_id: ids.productId, target_url: target }
		]);
		return code;
	}
	const clicksOf = (code: string) => rt.deps.db.selectFrom('link_clicks').selectAll().where('code', '=', code).execute();

	it('redirects 302 to the EC URL with the ref and UTM parameters, keeping its own query', async () => {
		const code = await link();
		const res = await rt.app.request(`/l/${code}`, { headers: { 'user-agent': 'Line/14.0 iPhone' } });
		expect(res.status).toBe(302);
		const location = new URL(res.headers.get('location')!);
		expect(location.origin + location.pathname).toBe('https://shop.example.jp/products/SKU-1');
		expect(location.searchParams.get('variant')).toBe('2');
		expect(location.searchParams.get('tsunagu_ref')).toBe(code);
		expect(location.searchParams.get('utm_source')).toBe('line');
		expect(location.searchParams.get('utm_medium')).toBe('staff');
		expect(res.headers.get('cache-control')).toBe('no-store');
	});

	it('writes the click in the background (timer flush) with user agent and customer, no IP', async () => {
		const code = await link();
		await rt.app.request(`/l/${code}`, { headers: { 'user-agent': 'Line/14.0 Android', 'x-forwarded-for': '203.0.113.7' } });
		let rows = await clicksOf(code);
		for (let i = 0; i < 50 && rows.length === 0; i++) {
			await new Promise((r) => setTimeout(r, 100));
			rows = await clicksOf(code);
		}
		expect(rows).toHaveLength(1);
		expect(rows[0]).toMatchObject({ customer_id: ids.customerId, user_agent: 'Line/14.0 Android' });
		expect(JSON.stringify(rows[0])).not.toContain('203.0.113.7');
		expect(Object.keys(rows[0]).sort()).toEqual(['click_id', 'clicked_at', 'code', 'customer_id', 'id', 'user_agent']);
	});

	it('answers many simultaneous first taps on one code alike (one shared lookup), counting each', async () => {
		const code = await link('https://shop.example.jp/products/SKU-9');
		const responses = await Promise.all(Array.from({ length: 25 }, () => rt.app.request(`/l/${code}`)));
		expect(responses.map((r) => r.status)).toEqual(Array(25).fill(302));
		for (const r of responses) expect(new URL(r.headers.get('location')!).searchParams.get('tsunagu_ref')).toBe(code);
		await linkState(rt.deps).clicks.flush();
		expect(await clicksOf(code)).toHaveLength(25);
		expect(linkState(rt.deps).loading.size).toBe(0);
	});

	it('serves repeat clicks from the cache and counts each one', async () => {
		const code = await link();
		for (let i = 0; i < 3; i++) expect((await rt.app.request(`/l/${code}`)).status).toBe(302);
		await linkState(rt.deps).clicks.flush();
		expect(await clicksOf(code)).toHaveLength(3);
	});

	it('flushes buffered clicks on close (the SIGTERM path)', async () => {
		const code = await link();
		await rt.app.request(`/l/${code}`);
		expect(linkState(rt.deps).clicks.pending).toBeGreaterThan(0);
		await linkState(rt.deps).clicks.close();
		expect(await clicksOf(code)).toHaveLength(1);
	});

	it('a burst of clicks while a write runs waits for it, then goes out in writes of maxItems — not a flush per click', async () => {
		const code = await link();
		let inserts = 0;
		// observes the statements on the real database (counts the inserts into link_clicks)
		const counted = rt.deps.db.withPlugin({
			transformQuery: (args) => {
				if (args.node.kind === 'RawNode' && args.node.sqlFragments.join('').includes('insert into link_clicks')) inserts++;
				return args.node;
			},
			transformResult: async (args) => args.result
		});
		const buffer = new ClickBuffer(counted, rt.logger, { maxItems: 100, intervalMs: 60_000 });
		const click = (i: number) => ({ click_id: `burst-${code}-${i}`, code, customer_id: null, clicked_at: new Date(), user_agent: null });
		const flushes = vi.spyOn(buffer, 'flush');
		for (let i = 0; i < 100; i++) buffer.record(click(i)); // the 100th starts a write
		for (let i = 100; i < 5_000; i++) buffer.record(click(i)); // arrive while it runs
		// one write started; the clicks behind it did not each start (and wait for) one more
		expect(flushes).toHaveBeenCalledTimes(1);
		await buffer.flush();
		expect((await clicksOf(code)).length).toBe(5_000);
		expect(inserts).toBe(50);
		await buffer.close();
	});

	it('answers unknown and malformed codes with a friendly 404 page', async () => {
		for (const path of [`/l/${mintLinkCode()}`, '/l/short', '/l/%E3%81%82']) {
			const res = await rt.app.request(path);
			expect(res.status).toBe(404);
			expect(res.headers.get('content-type')).toContain('text/html');
			expect(await res.text()).toContain('リンクが見つかりません');
		}
	});

	it('serves the storefront script', async () => {
		const res = await rt.app.request('/sdk/ref.js');
		expect(res.status).toBe(200);
		expect(res.headers.get('content-type')).toContain('javascript');
		const body = await res.text();
		expect(body).toContain('/cart/update.js');
		expect(body).toContain('tsunagu_ref');
	});
});
