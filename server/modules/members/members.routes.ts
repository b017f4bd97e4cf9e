/**
 * /api/member/* — the LIFF member card's API. The page sends LINE's ID token once
 * (POST /session), then our member session as `Authorization: Bearer`. Rate-limited per LINE
 * user (and per address before we know the user).
 */
import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import * as v from 'valibot';
import { badRequest, unauthorized } from '../../errors.ts';
import type { AppDeps, AppEnv } from '../../http/context.ts';
import { validate } from '../../http/validate.ts';
import { clientAddress } from '../../http/client-address.ts';
import { rateLimit } from '../ratelimit/rate-limit.middleware.ts';
import type { LimitPolicy } from '../ratelimit/rate-limit.service.ts';
import * as members from './members.service.ts';
import type { MemberSession } from './session.ts';

type MemberEnv = { Variables: AppEnv['Variables'] & { member: MemberSession } };

const IdToken = v.pipe(v.string(), v.minLength(1), v.maxLength(4096));
const SessionBody = v.object({ idToken: IdToken });
const ConsentBody = v.object({
	idToken: v.optional(IdToken),
	session: v.optional(v.pipe(v.string(), v.maxLength(4096))),
	termsAccepted: v.literal(true, 'The membership terms must be accepted'),
	messagesOptIn: v.boolean(),
	link: v.optional(
		v.object({
			memberNo: v.pipe(v.string(), v.trim(), v.regex(/^[0-9A-Za-z-]{4,20}$/, 'Enter the member number on your card')),
			birthday: v.pipe(v.string(), v.isoDate('Enter the birthday as YYYY-MM-DD'))
		})
	)
});

function bearer(header: string | undefined): string | null {
	const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
	return match ? match[1] : null;
}

/** Before login: per address (a LIFF page opens a handful of sessions a day, not hundreds). */
const PER_ADDRESS: LimitPolicy = { name: 'member.address', capacity: 30, refillPerSecond: 0.5 };
/** After login: per LINE user (the card refreshes its QR every 30 s). */
const PER_MEMBER: LimitPolicy = { name: 'member.user', capacity: 30, refillPerSecond: 1 };

export function memberRoutes(deps: AppDeps) {

	const requireMember = createMiddleware<MemberEnv>(async (c, next) => {
		const token = bearer(c.req.header('authorization'));
		if (!token) throw unauthorized('session_missing', 'Log in with LINE first');
		c.set('member', await members.readSession(deps, token));
		await next();
	});
	const limitPerMember = rateLimit(deps, PER_MEMBER, (c) => c.get('member').lineUserId);
	const limitPerAddress = rateLimit(deps, PER_ADDRESS, (c) => clientAddress(c, deps.config.trustProxy));

	return new Hono<MemberEnv>()
		.get('/config', (c) => c.json({ liffId: deps.config.line.liffId, mock: deps.config.sandbox }))
		.post('/session', limitPerAddress, validate('json', SessionBody), async (c) => {
			return c.json(await members.startSession(deps, c.req.valid('json').idToken));
		})
		.post('/consent', limitPerAddress, validate('json', ConsentBody), async (c) => {
			const body = c.req.valid('json');
			let who: { lineUserId: string; displayName: string | null };
			if (body.idToken) {
				const identity = await members.identifyByIdToken(deps, body.idToken);
				who = { lineUserId: identity.sub, displayName: identity.name ?? null };
			} else if (body.session) {
				const session = await members.readSession(deps, body.session);
				who = { lineUserId: session.lineUserId, displayName: session.displayName };
			} else {
				throw badRequest('validation_failed', 'Send the LINE ID token or the member session', { idToken: 'Required' });
			}
			const result = await members.giveConsent(
				deps,
				{ ...who, address: clientAddress(c, deps.config.trustProxy) },
				{ messagesOptIn: body.messagesOptIn, link: body.link }
			);
			return c.json(result, result.created ? 201 : 200);
		})
		.get('/card', requireMember, limitPerMember, async (c) => {
			c.header('cache-control', 'no-store');
			return c.json(await members.getCard(deps, c.get('member')));
		})
		.post('/qr', requireMember, limitPerMember, async (c) => {
			c.header('cache-control', 'no-store');
			return c.json(await members.mintQr(deps, c.get('member')));
		});
}
