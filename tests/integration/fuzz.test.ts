/**
 * The adversarial input suite: every route of the app — read from Hono's route table, so a new
 * route is covered the day it is added — gets hostile path parameters, query values and JSON
 * bodies (NUL, lone surrogates, 10k-character strings, wrong types, huge and negative numbers,
 * year 0 and 9999, SQL and path tricks). Nothing may answer ≥ 500, and no body may show a stack
 * trace or SQL. Runs in-process through app.request (a few thousand requests).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memberQrSigner, mintMemberQr } from '../../server/modules/members/qr-keys.ts';
import type { Runtime } from '../../server/runtime.ts';
import { testDbKinds } from '../helpers/db.ts';
import { newConsultation, newCustomer, newStaff, newStore, TEST_PIN } from '../helpers/factories.ts';
import { createTestRuntime } from '../helpers/runtime.ts';

/** A hostile value and how to put it in a URL (lone surrogates cannot be percent-encoded as UTF-8). */
interface Hostile {
	name: string;
	value: unknown;
	url: string;
}

const text = (name: string, value: string, url = encodeURIComponent(value)): Hostile => ({ name, value, url });
const HOSTILE: Hostile[] = [
	text('nul', 'a\u0000b'),
	{ name: 'lone high surrogate', value: 'x\ud800y', url: 'x%ED%A0%80y' },
	{ name: 'lone low surrogate', value: '\udc00', url: '%ED%B0%80' },
	text('10k chars', 'あ'.repeat(10_000)),
	text('year 0', '0000-01-01T00:00:00Z'),
	text('year 9999', '9999-12-31'),
	text('impossible date', '2026-02-30'),
	text('sql', "' OR 1=1; DROP TABLE customers; --"),
	text('path traversal', '../../../etc/passwd'),
	{ name: 'percent garbage', value: '%E0%A4%A', url: '%E0%A4%A' },
	{ name: 'huge number', value: 1e308, url: '1e308' },
	{ name: 'negative', value: -2_147_483_649, url: '-2147483649' },
	{ name: 'float', value: 0.5, url: '0.5' },
	{ name: 'object', value: { $ne: null, __proto__: { polluted: true } }, url: '%7B%7D' },
	{ name: 'array', value: [null, true, 'x'], url: '%5B%5D' },
	{ name: 'null', value: null, url: 'null' }
];

/** Field names the route schemas use, harvested from the route files (new fields are picked up too). */
function schemaKeys(): string[] {
	const root = join(process.cwd(), 'server', 'modules');
	const keys = new Set<string>();
	for (const dir of readdirSync(root)) {
		for (const file of readdirSync(join(root, dir))) {
			if (!file.endsWith('.routes.ts')) continue;
			for (const m of readFileSync(join(root, dir, file), 'utf8').matchAll(/^\s*(\w+): (?:v\.|Text|YMD|Id|JstDate|Filters|Format|ViewedAt)/gm)) keys.add(m[1]);
		}
	}
	return [...keys];
}

/** A plausible value for a field by its name, so that one hostile field is not masked by another. */
function plausible(key: string, ids: { customerId: string; staffId: string; storeId: string; memberNo: string }): unknown {
	if (key === 'customerId') return ids.customerId;
	if (key === 'staffId') return ids.staffId;
	if (key === 'storeId') return ids.storeId;
	if (key === 'memberNo') return ids.memberNo;
	if (key === 'pin' || key === 'newPin' || key === 'currentPin') return TEST_PIN;
	if (/At$/.test(key)) return new Date().toISOString();
	if (/(Due|date|birthday|from|to)$/i.test(key)) return '2026-12-01';
	if (/^(productId|limit|quantity)$/.test(key)) return 1;
	if (key === 'items') return [{ name: 'シャツ', outcome: 'tried', sku: 'S-1', size: 'M' }];
	if (key === 'sizes') return { tops: 'M' };
	if (key === 'tags') return ['new'];
	if (key === 'views') return [{ id: crypto.randomUUID(), customerId: ids.customerId, via: 'scan', viewedAt: new Date().toISOString() }];
	if (/[Ii]d$/.test(key)) return crypto.randomUUID();
	return 'テキスト';
}

const STACK_OR_SQL = [
	/\n\s+at .+:\d+:\d+/, // a stack frame
	/\.ts:\d+:\d+/,
	/node_modules/,
	/\b(SELECT|INSERT INTO|DELETE FROM|UPDATE "?\w+"? SET)\b/,
	/syntax error at or near|violates .* constraint|invalid input syntax|out of range for type|does not exist|unsupported Unicode escape|invalid byte sequence/i
];

interface Probe {
	method: string;
	url: string;
	body?: string;
	auth?: string;
	label: string;
}

describe.each(testDbKinds())('adversarial input over every route on %s', (kind) => {
	let rt: Runtime;
	let admin = '';
	let device = '';
	let ids: { customerId: string; staffId: string; storeId: string; memberNo: string };

	let signInAgain: () => Promise<void>;

	/** Sign-out, device revocation and PIN routes are fuzzed too: get fresh credentials after them. */
	async function ensureSignedIn(): Promise<void> {
		const res = await rt.app.request('/api/devices/me', { headers: { authorization: device } });
		const me = await rt.app.request('/api/customers/today', { headers: { authorization: admin } });
		if (res.status !== 200 || me.status !== 200) await signInAgain();
	}

	beforeAll(async () => {
		rt = await createTestRuntime(kind);
		const db = rt.deps.db;
		const store = await newStore(db, { id: 'fz' });
		const manager = await newStaff(db, { storeId: store.id, role: 'admin' });
		const customer = await newCustomer(db, {});
		await newConsultation(db, { customerId: customer.id, storeId: store.id, staffId: manager.id, at: new Date() });
		ids = { customerId: customer.id, staffId: manager.id, storeId: store.id, memberNo: customer.member_no ?? '1' };
		signInAgain = async () => {
		const enrolled = await rt.app.request('/api/devices/enroll', {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ storeId: store.id, deviceName: 'fuzz', staffCode: manager.staff_code, pin: TEST_PIN })
		});
		device = `Device ${(await enrolled.json()).deviceToken}`;
		const session = await rt.app.request('/api/sessions', {
			method: 'POST',
			headers: { 'content-type': 'application/json', authorization: device },
			body: JSON.stringify({ staffId: manager.id, pin: TEST_PIN })
		});
		admin = `Bearer ${(await session.json()).token}`;
		};
		await signInAgain();
	}, 180_000);
	afterAll(async () => rt?.close());

	/** Every concrete route of the app (middleware entries are ALL; duplicates collapse). */
	function routeTable(): Array<{ method: string; path: string }> {
		const seen = new Map<string, { method: string; path: string }>();
		for (const r of rt.app.routes) {
			if (r.method === 'ALL') continue;
			seen.set(`${r.method} ${r.path}`, { method: r.method, path: r.path });
		}
		return [...seen.values()];
	}

	function probesFor(route: { method: string; path: string }, keys: string[]): Probe[] {
		const probes: Probe[] = [];
		const hasParams = /[:*]/.test(route.path);
		const withParams = (url: string) => route.path.replace(/:\w+(\{[^}]*\})?/g, url).replace(/\*/g, url);
		const sendsBody = route.method !== 'GET' && route.method !== 'HEAD';
		const base = Object.fromEntries(keys.map((k) => [k, plausible(k, ids)]));
		const plainPath = withParams(route.path.includes(':id') ? ids.customerId : 'x');
		for (const h of HOSTILE) {
			if (hasParams) probes.push({ method: route.method, url: withParams(h.url), auth: admin, label: `param=${h.name}` });
			const query = keys.map((k) => `${k}=${h.url}`).join('&');
			probes.push({ method: route.method, url: `${plainPath}?${query}`, auth: admin, label: `query=${h.name}` });
			if (sendsBody) {
				const allHostile = Object.fromEntries(keys.map((k) => [k, h.value]));
				// one hostile field at a time would be keys × values requests; hostile strings in
				// every string field of a plausible body reach past the type checks instead
				const stringsHostile = Object.fromEntries(Object.entries(base).map(([k, v]) => [k, typeof v === 'string' ? h.value : v]));
				probes.push({ method: route.method, url: plainPath, body: JSON.stringify(allHostile), auth: admin, label: `body all=${h.name}` });
				probes.push({ method: route.method, url: plainPath, body: JSON.stringify(stringsHostile), auth: admin, label: `body strings=${h.name}` });
				probes.push({ method: route.method, url: plainPath, body: JSON.stringify(stringsHostile), auth: device, label: `device body strings=${h.name}` });
				probes.push({ method: route.method, url: plainPath, body: JSON.stringify(h.value), auth: admin, label: `body root=${h.name}` });
			}
		}
		if (sendsBody) {
			probes.push({ method: route.method, url: plainPath, body: '{"a":', auth: admin, label: 'truncated json' });
			probes.push({ method: route.method, url: plainPath, body: JSON.stringify(base), auth: admin, label: 'plausible body' });
		}
		return probes;
	}

	it('answers every hostile request below 500, without stack traces or SQL', async () => {
		const keys = schemaKeys();
		const routes = routeTable();
		expect(routes.length).toBeGreaterThan(30);
		const bad: string[] = [];
		let tried = 0;
		for (const route of routes) {
			await ensureSignedIn();
			for (const p of probesFor(route, keys)) {
				tried++;
				const res = await rt.app.request(p.url, {
					method: p.method,
					headers: {
						...(p.auth ? { authorization: p.auth } : {}),
						...(p.body !== undefined ? { 'content-type': 'application/json' } : {})
					},
					body: p.body
				});
				// an event stream (the conversation badge) stays open by design: its status is what counts
				const streaming = res.headers.get('content-type')?.startsWith('text/event-stream') ?? false;
				if (streaming) await res.body?.cancel();
				const body = streaming ? '' : await res.text();
				const leak = STACK_OR_SQL.find((re) => re.test(body));
				if (res.status >= 500 || leak) {
					bad.push(`${route.method} ${route.path} [${p.label}] → ${res.status}${leak ? ` leaks ${leak}` : ''}: ${body.slice(0, 160)}`);
				}
			}
		}
		console.log(`fuzz on ${kind}: ${routes.length} routes, ${tried} requests, ${tried - bad.length} safe, ${bad.length} bad`);
		expect(bad.slice(0, 25)).toEqual([]);
	}, 600_000);

	it('refuses NUL, lone surrogates and impossible dates with 400 and a field', async () => {
		await ensureSignedIn();
		const put = (body: unknown) =>
			rt.app.request(`/api/consultations/${crypto.randomUUID()}`, {
				method: 'PUT',
				headers: { authorization: admin, 'content-type': 'application/json' },
				body: JSON.stringify(body)
			});
		const valid = { customerId: ids.customerId, occurredAt: new Date().toISOString(), items: [], sizes: {}, notes: 'ok', tags: [] };
		const nul = await put({ ...valid, notes: 'a\u0000b' });
		expect(nul.status).toBe(400);
		expect((await nul.json()).error).toMatchObject({ code: 'invalid_text', fields: { notes: expect.any(String) } });
		const surrogate = await put({ ...valid, tags: ['\ud800'] });
		expect((await surrogate.json()).error).toMatchObject({ code: 'invalid_text', fields: { 'tags.0': expect.any(String) } });
		const year0 = await put({ ...valid, occurredAt: '0000-01-01T00:00:00Z' });
		expect(year0.status).toBe(400);
		expect((await year0.json()).error.code).toBe('invalid_date');
		const report = await rt.app.request('/api/reports/kpis?from=9999-12-31', { headers: { authorization: admin } });
		expect(report.status).toBe(400);
		const search = await rt.app.request('/api/customers/search?q=a%00b', { headers: { authorization: admin } });
		expect((await search.json()).error.code).toBe('invalid_text');
		expect((await put(valid)).status).toBe(201);
	});

	it('answers a validly signed member QR whose cid is not a UUID with 422, not 500', async () => {
		await ensureSignedIn();
		const token = (await mintMemberQr(await memberQrSigner(undefined), { customerId: "x' or 1=1", memberNo: ids.memberNo })).token;
		const res = await rt.app.request('/api/member-qr/verify', {
			method: 'POST',
			headers: { authorization: admin, 'content-type': 'application/json' },
			body: JSON.stringify({ token })
		});
		expect(res.status).toBe(422);
		expect((await res.json()).error.code).toBe('qr_unknown_member');
	});

	it('keeps a profile readable when a stored row has an impossible date', async () => {
		const db = rt.deps.db;
		const customer = await newCustomer(db, {});
		// as stored before validation existed (year 0 = 1 BC in PostgreSQL)
		const old = await newConsultation(db, { customerId: customer.id, storeId: ids.storeId, staffId: ids.staffId, at: new Date() });
		await sql`update consultations set occurred_at = '0001-01-01 00:00:00+00 BC' where id = ${old.id}`.execute(db);
		await newConsultation(db, { customerId: customer.id, storeId: ids.storeId, staffId: ids.staffId, at: new Date() });
		await ensureSignedIn();
		const res = await rt.app.request(`/api/customers/${customer.id}/profile`, { headers: { authorization: admin } });
		expect(res.status).toBe(200);
		const history = await rt.app.request(`/api/customers/${customer.id}/consultations`, { headers: { authorization: admin } });
		expect(history.status).toBe(200);
		expect((await history.json()).consultations.length).toBeGreaterThanOrEqual(1);
	});
});
