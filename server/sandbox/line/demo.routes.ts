/**
 * Demo-only JSON API on the main server (/sandbox/line/*) for the LIFF mock chooser and the
 * "LINE inbox" page: it reads and drives the LINE sandbox, which lives on its own origin.
 */
import { randomBytes } from 'node:crypto';
import { Hono } from 'hono';
import type { AppDeps } from '../../http/context.ts';
import { demoLineUserId, FEATURED_MEMBERS } from '../../seed/fixtures.ts';
import { issueIdToken } from './id-token.ts';
import type { RunningLineSandbox } from './server.ts';

const LINE_USER_ID = /^U[0-9a-f]{32}$/;

export function lineDemoRoutes(deps: AppDeps, sandbox: RunningLineSandbox) {
	const app = new Hono();

	/** The featured members to log in as, plus whether they are linked in this database. */
	app.get('/demo-users', async (c) => {
		const ids = FEATURED_MEMBERS.map((m) => demoLineUserId(m.member_no));
		const linked = await deps.db.selectFrom('customers').select(['line_user_id']).where('line_user_id', 'in', ids).execute();
		const linkedIds = new Set(linked.map((r) => r.line_user_id));
		return c.json({
			users: FEATURED_MEMBERS.map((m) => ({
				userId: demoLineUserId(m.member_no),
				name: `${m.family_name} ${m.given_name}`,
				memberNo: m.member_no,
				linked: linkedIds.has(demoLineUserId(m.member_no))
			}))
		});
	});

	/**
	 * Logs a demo user into "LINE": issues an ID token the way LIFF would get one. `newUser`
	 * makes a fresh LINE account (not yet a member). Adding the official account as a friend
	 * at login (LIFF's bot prompt) sends a follow webhook, as LINE does.
	 */
	app.post('/login', async (c) => {
		const body = ((await c.req.json().catch(() => null)) ?? {}) as { userId?: string; name?: string; newUser?: boolean };
		const userId = body.newUser ? `U${randomBytes(16).toString('hex')}` : body.userId;
		if (!userId || !LINE_USER_ID.test(userId)) return c.json({ error: { code: 'bad_user', message: 'userId must be U + 32 hex digits' } }, 400);
		const name = (body.name ?? '').slice(0, 20) || 'LINEユーザー';
		sandbox.state.rememberProfile({ userId, displayName: name });
		const idToken = await issueIdToken({ sub: userId, aud: deps.config.line.loginChannelId, name });
		if (body.newUser) await sendWebhook(sandbox, { type: 'follow', userId });
		return c.json({ userId, name, idToken });
	});

	app.get('/inboxes', async (c) => {
		const users = [...sandbox.state.profiles.values()];
		for (const m of FEATURED_MEMBERS) {
			const userId = demoLineUserId(m.member_no);
			if (!sandbox.state.profiles.has(userId)) users.push({ userId, displayName: `${m.family_name} ${m.given_name}` });
		}
		const featured = new Set(FEATURED_MEMBERS.map((m) => demoLineUserId(m.member_no)));
		const shown = users.filter((u) => featured.has(u.userId) || sandbox.state.inboxes.has(u.userId));
		const names = await memberNamesOfUnnamed(deps, shown);
		return c.json({
			inboxes: shown.map((u) => ({
				userId: u.userId,
				name: names.get(u.userId) ?? u.displayName,
				messages: sandbox.state.inboxes.get(u.userId) ?? []
			}))
		});
	});

	/**
	 * liff.requestFriendship() in the demo: the user adds (or unblocks) the official account in
	 * LINE's sub-window, and LINE sends a follow webhook, as it does for a real unblock.
	 */
	app.post('/request-friendship', async (c) => {
		const body = ((await c.req.json().catch(() => null)) ?? {}) as { userId?: string };
		if (!body.userId || !LINE_USER_ID.test(body.userId)) return c.json({ error: { code: 'bad_user', message: 'userId must be U + 32 hex digits' } }, 400);
		const res = await sendWebhook(sandbox, { type: 'follow', userId: body.userId });
		return c.json({ ok: res.ok }, res.ok ? 200 : 502);
	});

	/** Sends a signed webhook (follow / unfollow / message) from a demo user to our server. */
	app.post('/webhook', async (c) => {
		const body = ((await c.req.json().catch(() => null)) ?? {}) as { type?: string; userId?: string; text?: string };
		const res = await sendWebhook(sandbox, body);
		return c.json(await res.json(), res.status as 200);
	});

	return app;
}

async function sendWebhook(sandbox: RunningLineSandbox, body: Record<string, unknown>): Promise<Response> {
	return fetch(`${sandbox.url}/_sandbox/webhook/send`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(body)
	});
}

/**
 * The sandbox only learns a LINE user's display name when they log in through the LIFF mock; a
 * seeded member who was pushed to without logging in is known by their user id alone. Real LINE
 * always knows the name, so the demo page stands in with the member's name from our records
 * instead of heading the chat with a raw user id.
 */
async function memberNamesOfUnnamed(deps: AppDeps, users: Array<{ userId: string; displayName: string }>): Promise<Map<string, string>> {
	const unnamed = users.filter((u) => u.displayName === u.userId).map((u) => u.userId);
	if (unnamed.length === 0) return new Map();
	const rows = await deps.db
		.selectFrom('customers')
		.select(['line_user_id', 'family_name', 'given_name'])
		.where('line_user_id', 'in', unnamed)
		.execute();
	const named = rows
		.map((r) => [r.line_user_id as string, [r.family_name, r.given_name].filter(Boolean).join(' ')] as const)
		.filter(([, name]) => name.length > 0);
	return new Map(named);
}
