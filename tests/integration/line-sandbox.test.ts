/**
 * The LINE sandbox against the real bot-sdk (MessagingApiClient with a configurable baseURL)
 * and our LINE Login client: the contract the outbox and the member card rely on.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HTTPFetchError } from '@line/bot-sdk';
import { createMessagingClient } from '../../server/integrations/line/client.ts';
import { verifyIdToken } from '../../server/integrations/line/login.ts';
import { issueIdToken } from '../../server/sandbox/line/id-token.ts';
import { startLineSandbox, type RunningLineSandbox } from '../../server/sandbox/line/server.ts';

const TOKEN = 'sandbox-test-access-token';
const USER = `U${'e'.repeat(32)}`;

describe('LINE sandbox', () => {
	let sandbox: RunningLineSandbox;
	const delivered: string[] = [];
	beforeAll(async () => {
		sandbox = await startLineSandbox({
			port: 0,
			channelAccessToken: TOKEN,
			channelSecret: 'sandbox-test-secret',
			loginChannelId: '1650000000',
			deliverWebhook: async (body) => {
				delivered.push(body);
				return { status: 200, body: '{}' };
			}
		});
	});
	afterAll(() => sandbox?.close());

	const client = (token = TOKEN) => createMessagingClient({ apiBase: sandbox.url, channelAccessToken: token });
	const statusOf = async (p: Promise<unknown>) => {
		try {
			await p;
			return 200;
		} catch (err) {
			if (err instanceof HTTPFetchError) return err.status;
			throw err;
		}
	};

	it('accepts a push through the real SDK and puts it in the user inbox', async () => {
		const res = await client().pushMessage({ to: USER, messages: [{ type: 'text', text: 'こんにちは', sender: { name: '渋谷店 佐藤' } }] }, randomUUID());
		expect(res.sentMessages).toHaveLength(1);
		const inbox = await (await fetch(`${sandbox.url}/_sandbox/inbox/${USER}`)).json();
		expect(inbox.messages[0].message).toMatchObject({ type: 'text', text: 'こんにちは', sender: { name: '渋谷店 佐藤' } });
	});

	it('answers 409 to a repeated X-Line-Retry-Key and delivers only once', async () => {
		const key = randomUUID();
		const before = sandbox.state.inboxes.get(USER)?.length ?? 0;
		expect(await statusOf(client().pushMessage({ to: USER, messages: [{ type: 'text', text: 'once' }] }, key))).toBe(200);
		expect(await statusOf(client().pushMessage({ to: USER, messages: [{ type: 'text', text: 'once' }] }, key))).toBe(409);
		expect(sandbox.state.inboxes.get(USER)!.length).toBe(before + 1);
		expect(sandbox.state.stats.acceptedByRetryKey[key]).toBe(1);
		expect(sandbox.state.stats.conflicts).toBeGreaterThanOrEqual(1);
	});

	it('refuses a wrong access token (401) and bodies over LINE limits (400)', async () => {
		expect(await statusOf(client('wrong-token').pushMessage({ to: USER, messages: [{ type: 'text', text: 'x' }] }))).toBe(401);
		const six = Array.from({ length: 6 }, () => ({ type: 'text' as const, text: 'x' }));
		expect(await statusOf(client().pushMessage({ to: USER, messages: six }))).toBe(400);
		expect(await statusOf(client().pushMessage({ to: USER, messages: [{ type: 'text', text: 'x'.repeat(5001) }] }))).toBe(400);
		expect(await statusOf(client().pushMessage({ to: 'nobody', messages: [{ type: 'text', text: 'x' }] }))).toBe(400);
	});

	it('injects 429 and 500 on demand', async () => {
		await fetch(`${sandbox.url}/_sandbox/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ next429: 1, next500: 1 }) });
		expect(await statusOf(client().pushMessage({ to: USER, messages: [{ type: 'text', text: 'a' }] }, randomUUID()))).toBe(429);
		expect(await statusOf(client().pushMessage({ to: USER, messages: [{ type: 'text', text: 'b' }] }, randomUUID()))).toBe(500);
		expect(await statusOf(client().pushMessage({ to: USER, messages: [{ type: 'text', text: 'c' }] }, randomUUID()))).toBe(200);
	});

	it('serves profiles for users it knows, 404 otherwise', async () => {
		await fetch(`${sandbox.url}/_sandbox/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: `U${'f'.repeat(32)}`, name: '井上 真央' }) });
		expect(await client().getProfile(`U${'f'.repeat(32)}`)).toMatchObject({ displayName: '井上 真央' });
		expect(await statusOf(client().getProfile(`U${'0'.repeat(32)}`))).toBe(404);
	});

	it('verifies ID tokens with LINE error bodies, mapped to reasons by our login client', async () => {
		const settings = { loginApiBase: sandbox.url, loginChannelId: '1650000000' };
		const good = await issueIdToken({ sub: USER, aud: '1650000000', name: '太郎' });
		expect(await verifyIdToken(settings, good)).toEqual({ ok: true, identity: { sub: USER, name: '太郎', picture: undefined } });
		const raw = await fetch(`${sandbox.url}/oauth2/v2.1/verify`, { method: 'POST', body: new URLSearchParams({ id_token: await issueIdToken({ sub: USER, aud: '1650000000', expiresIn: -5 }), client_id: '1650000000' }) });
		expect(raw.status).toBe(400);
		expect(await raw.json()).toEqual({ error: 'invalid_request', error_description: 'IdToken expired.' });
		expect(await verifyIdToken(settings, await issueIdToken({ sub: USER, aud: '42' }))).toEqual({ ok: false, reason: 'wrong_audience' });
		expect(await verifyIdToken(settings, 'abc.def.ghi')).toEqual({ ok: false, reason: 'invalid' });
		expect(await verifyIdToken({ ...settings, loginApiBase: 'http://127.0.0.1:9' }, good)).toEqual({ ok: false, reason: 'unavailable' });
	});

	it('signs the webhooks it sends like LINE', async () => {
		const res = await fetch(`${sandbox.url}/_sandbox/webhook/send`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'unfollow', userId: USER }) });
		expect(await res.json()).toMatchObject({ delivered: 200 });
		expect(JSON.parse(delivered.at(-1)!).events[0]).toMatchObject({ type: 'unfollow', source: { type: 'user', userId: USER } });
	});
});
