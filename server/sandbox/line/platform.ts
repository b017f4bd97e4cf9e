/**
 * The LINE Platform stand-in: the documented endpoints the real SDKs call, with LINE's status
 * codes and error bodies, served at the root of its own origin (the bot-sdk keeps only the
 * origin of its baseURL). `/_sandbox/*` is the demo/test control API, not part of LINE.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { issueIdToken, verifyIssuedIdToken } from './id-token.ts';
import type { LineSandboxState } from './state.ts';
import { isUuid } from '../../shared/ids.ts';

export interface LinePlatformOptions {
	state: LineSandboxState;
	channelAccessToken: string;
	channelSecret: string;
	loginChannelId: string;
	/** Hands a signed webhook request to our server (in-process; no port needed). */
	deliverWebhook: (body: string, signature: string) => Promise<{ status: number; body: string }>;
}

/** LINE's documented limits for a push request. */
const MAX_MESSAGES_PER_PUSH = 5;
const MAX_TEXT_LENGTH = 5000;
const MAX_PUSH_BODY_BYTES = 2 * 1024 * 1024;

export function linePlatformApp(opts: LinePlatformOptions) {
	const { state } = opts;
	const app = new Hono();

	app.post('/oauth2/v2.1/verify', async (c) => {
		const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
		const idToken = typeof form.id_token === 'string' ? form.id_token : '';
		const clientId = typeof form.client_id === 'string' ? form.client_id : '';
		if (!idToken) return c.json({ error: 'invalid_request', error_description: 'id_token is required.' }, 400);
		if (!clientId) return c.json({ error: 'invalid_request', error_description: 'client_id is required.' }, 400);
		const outcome = await verifyIssuedIdToken(idToken, clientId);
		if (!outcome.ok) return c.json({ error: 'invalid_request', error_description: outcome.description }, 400);
		return c.json(outcome.body);
	});

	app.get('/v2/bot/profile/:userId', (c) => {
		const denied = checkBearer(c, opts.channelAccessToken);
		if (denied) return denied;
		const profile = state.profiles.get(c.req.param('userId'));
		if (!profile) return c.json({ message: 'Not found' }, 404);
		return c.json({ userId: profile.userId, displayName: profile.displayName, pictureUrl: profile.pictureUrl, language: 'ja' });
	});

	app.post(
		'/v2/bot/message/push',
		bodyLimit({ maxSize: MAX_PUSH_BODY_BYTES, onError: (c) => c.json({ message: 'Request entity too large' }, 413) }),
		async (c) => {
			const requestId = randomUUID();
			c.header('x-line-request-id', requestId);
			const denied = checkBearer(c, opts.channelAccessToken);
			if (denied) return denied;
			const retryKey = c.req.header('x-line-retry-key') ?? null;
			if (retryKey !== null && !isUuid(retryKey)) {
				state.stats.rejected += 1;
				return c.json({ message: 'The value of the X-Line-Retry-Key header is invalid' }, 400);
			}
			if (retryKey && state.acceptedRetryKeys.has(retryKey)) {
				state.stats.conflicts += 1;
				c.header('x-line-accepted-request-id', state.acceptedRetryKeys.get(retryKey)!);
				return c.json({ message: 'The retry key is already accepted', sentMessages: [] }, 409);
			}
			const fault = state.drawFault();
			if (fault === 429) {
				state.stats.rateLimited += 1;
				return c.json({ message: 'The API rate limit has been exceeded. Try again later.' }, 429);
			}
			if (fault === 500) {
				state.stats.serverErrors += 1;
				return c.json({ message: 'An error occurred in the server.' }, 500);
			}
			const body = await c.req.json().catch(() => null);
			const problems = pushProblems(body);
			if (problems.length > 0) {
				state.stats.rejected += 1;
				return c.json({ message: `The request body has ${problems.length} error(s)`, details: problems }, 400);
			}
			const { to, messages } = body as { to: string; messages: Array<Record<string, unknown>> };
			if (!state.profiles.has(to)) state.rememberProfile({ userId: to, displayName: to });
			const receivedAt = new Date().toISOString();
			const sentMessages = messages.map((message) => {
				const id = state.nextId();
				state.deliver(to, { id, receivedAt, retryKey, requestId, message, from: 'bot', delivery: 'push' });
				return { id, quoteToken: randomUUID() };
			});
			if (retryKey) {
				state.acceptedRetryKeys.set(retryKey, requestId);
				state.stats.acceptedByRetryKey[retryKey] = (state.stats.acceptedByRetryKey[retryKey] ?? 0) + 1;
			}
			state.stats.accepted += 1;
			state.stats.messagesAccepted += messages.length;
			return c.json({ sentMessages });
		}
	);

	/** Reply: free, with a token that is single use and valid about a minute after its event. */
	app.post('/v2/bot/message/reply', async (c) => {
		const requestId = randomUUID();
		c.header('x-line-request-id', requestId);
		const denied = checkBearer(c, opts.channelAccessToken);
		if (denied) return denied;
		const body = (await c.req.json().catch(() => null)) as { replyToken?: unknown; messages?: unknown } | null;
		const token = typeof body?.replyToken === 'string' ? state.replyTokens.get(body.replyToken) : undefined;
		if (!token || token.used || Date.now() - token.issuedAt > state.replyTokenTtlMs) {
			state.stats.repliesRefused += 1;
			return c.json({ message: 'Invalid reply token' }, 400);
		}
		const problems = pushProblems({ to: token.userId, messages: body?.messages });
		if (problems.length > 0) {
			state.stats.rejected += 1;
			return c.json({ message: `The request body has ${problems.length} error(s)`, details: problems }, 400);
		}
		token.used = true;
		const receivedAt = new Date().toISOString();
		const sentMessages = (body!.messages as Array<Record<string, unknown>>).map((message) => {
			const id = state.nextId();
			state.deliver(token.userId, { id, receivedAt, retryKey: null, requestId, message, from: 'bot', delivery: 'reply' });
			return { id, quoteToken: randomUUID() };
		});
		state.stats.replies += 1;
		return c.json({ sentMessages });
	});

	app.post('/v2/bot/chat/markAsRead', async (c) => {
		const denied = checkBearer(c, opts.channelAccessToken);
		if (denied) return denied;
		const body = (await c.req.json().catch(() => null)) as { markAsReadToken?: unknown } | null;
		const mark = typeof body?.markAsReadToken === 'string' ? state.readTokens.get(body.markAsReadToken) : undefined;
		if (!mark) return c.json({ message: 'Invalid mark as read token' }, 400);
		const now = new Date().toISOString();
		for (const entry of state.inboxes.get(mark.userId) ?? []) {
			if (entry.from === 'user' && !entry.readAt) entry.readAt = now;
			if (entry.id === mark.entryId) break;
		}
		state.stats.readMarks += 1;
		return c.json({});
	});

	app.get('/v2/bot/message/quota', (c) => {
		const denied = checkBearer(c, opts.channelAccessToken);
		if (denied) return denied;
		return c.json(state.plan.type === 'limited' ? { type: 'limited', value: state.plan.value } : { type: 'none' });
	});

	app.get('/v2/bot/message/quota/consumption', (c) => {
		const denied = checkBearer(c, opts.channelAccessToken);
		if (denied) return denied;
		return c.json({ totalUsage: state.totalUsage() });
	});

	// ---- control API for the demo pages and tests (not part of LINE) ----

	/** The plan the quota endpoints report, the reply token lifetime, and earlier usage. */
	app.post('/_sandbox/quota', async (c) => {
		const body = (await c.req.json().catch(() => ({}))) as { type?: 'limited' | 'none'; value?: number; extraUsage?: number; replyTokenTtlMs?: number };
		if (body.type === 'limited' || body.type === 'none') state.plan = { type: body.type, value: body.value ?? state.plan.value };
		else if (typeof body.value === 'number' && body.value >= 0) state.plan = { ...state.plan, value: body.value };
		if (typeof body.extraUsage === 'number' && body.extraUsage >= 0) state.extraUsage = body.extraUsage;
		if (typeof body.replyTokenTtlMs === 'number' && body.replyTokenTtlMs > 0) state.replyTokenTtlMs = body.replyTokenTtlMs;
		return c.json({ plan: state.plan, extraUsage: state.extraUsage, replyTokenTtlMs: state.replyTokenTtlMs, totalUsage: state.totalUsage() });
	});

	app.post('/_sandbox/login', async (c) => {
		const body = ((await c.req.json().catch(() => null)) ?? {}) as {
			userId?: string;
			name?: string;
			picture?: string;
			aud?: string;
			expiresIn?: number;
		};
		if (typeof body.userId !== 'string' || !/^U[0-9a-f]{32}$/.test(body.userId)) {
			return c.json({ message: 'userId must be U + 32 hex digits' }, 400);
		}
		const name = body.name ?? 'LINEユーザー';
		state.rememberProfile({ userId: body.userId, displayName: name, pictureUrl: body.picture });
		const idToken = await issueIdToken({
			sub: body.userId,
			aud: body.aud ?? opts.loginChannelId,
			name,
			picture: body.picture,
			expiresIn: body.expiresIn
		});
		return c.json({ idToken });
	});

	app.get('/_sandbox/inbox/:userId', (c) => c.json({ userId: c.req.param('userId'), messages: state.inboxes.get(c.req.param('userId')) ?? [] }));
	app.get('/_sandbox/stats', (c) => c.json(state.stats));
	app.post('/_sandbox/faults', async (c) => {
		const body = ((await c.req.json().catch(() => null)) ?? {}) as Partial<Record<keyof typeof state.faults, number>>;
		for (const key of ['rate429', 'rate500', 'next429', 'next500'] as const) {
			if (typeof body[key] === 'number' && body[key]! >= 0) state.faults[key] = body[key]!;
		}
		return c.json(state.faults);
	});
	app.post('/_sandbox/reset', (c) => {
		state.reset();
		return c.json({ ok: true });
	});

	app.post('/_sandbox/webhook/send', async (c) => {
		const body = ((await c.req.json().catch(() => null)) ?? {}) as {
			type?: 'follow' | 'unfollow' | 'message';
			userId?: string;
			text?: string;
			timestamp?: number;
			webhookEventId?: string;
			isUnblocked?: boolean;
			messageType?: string;
		};
		if (!body.type || !['follow', 'unfollow', 'message'].includes(body.type) || typeof body.userId !== 'string') {
			return c.json({ message: 'type (follow|unfollow|message) and userId are required' }, 400);
		}
		const event = webhookEvent(body as Required<Pick<typeof body, 'type' | 'userId'>> & typeof body);
		if (event.type === 'message') rememberUserMessage(state, body.userId, event as unknown as { timestamp: number; replyToken: string; message: Record<string, unknown> });
		const payload = JSON.stringify({ destination: 'Usandboxbot0000000000000000000000', events: [event] });
		const result = await opts.deliverWebhook(payload, signLikeLine(payload, opts.channelSecret));
		return c.json({ delivered: result.status, webhookEventId: event.webhookEventId });
	});

	return app;
}

/** LINE's signature: base64 HMAC-SHA256 of the exact body bytes with the channel secret. */
export function signLikeLine(body: string, channelSecret: string): string {
	return createHmac('sha256', channelSecret).update(body).digest('base64');
}

type WebhookInput = { type: 'follow' | 'unfollow' | 'message'; userId: string; text?: string; timestamp?: number; webhookEventId?: string; isUnblocked?: boolean; messageType?: string };

function webhookEvent(input: WebhookInput) {
	const base = {
		type: input.type,
		mode: 'active',
		timestamp: input.timestamp ?? Date.now(),
		source: { type: 'user', userId: input.userId },
		webhookEventId: input.webhookEventId ?? `01${randomUUID().replace(/-/g, '').toUpperCase().slice(0, 24)}`,
		deliveryContext: { isRedelivery: false }
	};
	if (input.type === 'follow') return { ...base, replyToken: randomUUID().replace(/-/g, ''), follow: { isUnblocked: input.isUnblocked ?? false } };
	if (input.type === 'unfollow') return base;
	return messageEvent(base, input);
}

/** A message event as LINE sends it: reply token, and in the message a mark-as-read token. */
function messageEvent<B extends { timestamp: number }>(base: B, input: WebhookInput) {
	const common = { id: `${Date.now()}${Math.floor(Math.random() * 1000)}`, quoteToken: randomUUID(), markAsReadToken: randomUUID().replace(/-/g, '') };
	const type = input.messageType ?? 'text';
	const bodies: Record<string, Record<string, unknown>> = {
		text: { type: 'text', text: input.text ?? '' },
		sticker: { type: 'sticker', packageId: '446', stickerId: '1988', stickerResourceType: 'STATIC' },
		image: { type: 'image', contentProvider: { type: 'line' } },
		video: { type: 'video', duration: 8000, contentProvider: { type: 'line' } },
		audio: { type: 'audio', duration: 4000, contentProvider: { type: 'line' } },
		file: { type: 'file', fileName: 'receipt.pdf', fileSize: 20480 },
		location: { type: 'location', title: '渋谷店', address: '東京都渋谷区', latitude: 35.659, longitude: 139.7 }
	};
	return { ...base, replyToken: randomUUID().replace(/-/g, ''), message: { ...common, ...(bodies[type] ?? { type }) } };
}

/** The user's own side of the chat, with the tokens our server will use to answer and mark it read. */
function rememberUserMessage(state: LineSandboxState, userId: string, event: { timestamp: number; replyToken: string; message: Record<string, unknown> }) {
	const message = event.message as Record<string, unknown> & { id: string; markAsReadToken: string };
	state.replyTokens.set(event.replyToken, { userId, issuedAt: Number(event.timestamp), used: false });
	state.readTokens.set(message.markAsReadToken, { userId, entryId: message.id });
	state.deliver(userId, { id: message.id, receivedAt: new Date(Number(event.timestamp)).toISOString(), retryKey: null, requestId: '', message, from: 'user' });
}

function checkBearer(c: Context, token: string): Response | null {
	const header = c.req.header('authorization') ?? '';
	if (header !== `Bearer ${token}`) {
		return c.json({ message: 'Authentication failed due to the following reason: invalid token. Confirm that the access token in the authorization header is valid.' }, 401);
	}
	return null;
}

function pushProblems(body: unknown): Array<{ message: string; property: string }> {
	const problems: Array<{ message: string; property: string }> = [];
	if (!body || typeof body !== 'object') return [{ message: 'The request body must be JSON', property: '' }];
	const { to, messages } = body as { to?: unknown; messages?: unknown };
	if (typeof to !== 'string' || !/^U[0-9a-f]{32}$/.test(to)) problems.push({ message: 'The property, \'to\', in the request body is invalid', property: 'to' });
	if (!Array.isArray(messages) || messages.length === 0) {
		problems.push({ message: 'Must not be empty', property: 'messages' });
		return problems;
	}
	if (messages.length > MAX_MESSAGES_PER_PUSH) problems.push({ message: `Size must be between 1 and ${MAX_MESSAGES_PER_PUSH}`, property: 'messages' });
	messages.forEach((m, i) => {
		const message = m as { type?: unknown; text?: unknown; altText?: unknown };
		if (typeof message?.type !== 'string') problems.push({ message: 'Must be one of the following values: [text, image, video, audio, location, sticker, template, imagemap, flex]', property: `messages[${i}].type` });
		else if (message.type === 'text' && (typeof message.text !== 'string' || message.text.length === 0 || message.text.length > MAX_TEXT_LENGTH)) {
			problems.push({ message: `Length must be between 1 and ${MAX_TEXT_LENGTH}`, property: `messages[${i}].text` });
		} else if (message.type === 'flex' && (typeof message.altText !== 'string' || message.altText.length === 0 || message.altText.length > 1500)) {
			problems.push({ message: 'Length must be between 1 and 1500', property: `messages[${i}].altText` });
		}
	});
	return problems;
}
