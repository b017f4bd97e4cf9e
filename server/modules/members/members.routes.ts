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
import { LEGAL_DOCS, loadLegalDoc } from '../privacy/legal.ts';

type MemberEnv = { Variables: AppEnv['Variables'] & { member: MemberSession } };

const IdToken = v.pipe(v.string(), v.minLength(1), v.maxLength(4096));
const SessionBody = v.object({ idToken: IdToken });
const ConsentBody = v.object({
	idToken: v.optional(IdToken),
	session: v.optional(v.pipe(v.string(), v.maxLength(4096))),
	termsAccepted: v.literal(true, 'The membership terms must be accepted'),
	messagesOptIn: v.boolean(),
	linkingOptIn: v.optional(v.boolean()),
	link: v.optional(
		v.object({
			memberNo: v.pipe(v.string(), v.trim(), v.regex(/^[0-9A-Za-z-]{4,20}$/, 'Enter the member number on your card')),
			birthday: v.pipe(v.string(), v.isoDate('Enter the birthday as YYYY-MM-DD'))
		})
	)
});

const Kana = v.pipe(v.string(), v.maxLength(80, 'At most 80 characters'));
const ProfileBody = v.object({
	familyKana: v.pipe(Kana, v.minLength(1, 'Required')),
	givenKana: v.optional(v.nullable(Kana)),
	birthday: v.optional(
		v.nullable(
			v.object({
				year: v.optional(v.nullable(v.pipe(v.number(), v.integer(), v.minValue(1900), v.maxValue(2100)))),
				month: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(12)),
				day: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(31))
			})
		)
	),
	phone: v.optional(v.nullable(v.pipe(v.string(), v.maxLength(20, 'At most 20 characters')))),
	homeStoreId: v.optional(v.nullable(v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{1,40}$/, 'Not a store id'))))
});
const ClientId = v.pipe(v.string(), v.uuid('Must be a UUID'));
const PurposeParam = v.object({ purpose: v.picklist(['staff_messages', 'purchase_linking']) });
const SwitchBody = v.object({ granted: v.boolean(), clientId: v.optional(ClientId) });
const LeaveBody = v.object({ clientId: ClientId });
const LegalParam = v.object({ doc: v.picklist(LEGAL_DOCS) });

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
				{ messagesOptIn: body.messagesOptIn, linkingOptIn: body.linkingOptIn, link: body.link }
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
		})
		// the terms and privacy policy (Markdown in legal/, versioned)
		.get('/legal/:doc', validate('param', LegalParam), async (c) => {
			c.header('cache-control', 'public, max-age=300');
			return c.json(await loadLegalDoc(c.req.valid('param').doc));
		})
		.put('/profile', requireMember, limitPerMember, validate('json', ProfileBody), async (c) => {
			return c.json({ profile: await members.saveProfile(deps, c.get('member'), c.req.valid('json')) });
		})
		.put('/consent/:purpose', requireMember, limitPerMember, validate('param', PurposeParam), validate('json', SwitchBody), async (c) => {
			const body = c.req.valid('json');
			return c.json({ consent: await members.setConsent(deps, c.get('member'), c.req.valid('param').purpose, body.granted, body.clientId ?? null) });
		})
		.get('/data', requireMember, limitPerMember, async (c) => {
			c.header('cache-control', 'no-store');
			return c.json(await members.myData(deps, c.get('member')));
		})
		.post('/leave', requireMember, limitPerMember, validate('json', LeaveBody), async (c) => {
			const result = await members.leaveMembership(deps, c.get('member'), c.req.valid('json').clientId);
			return c.json(result, result.applied ? 201 : 200);
		});
}
