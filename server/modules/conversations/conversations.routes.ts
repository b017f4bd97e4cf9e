/**
 * /api/conversations — the list (mine / store / unassigned), the unread badge and its live
 * event stream, opening a conversation (audited), answering, closing, handing over, and the
 * managers' quota view.
 */
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import * as v from 'valibot';
import type { AppDeps, AppEnv, StaffPrincipal } from '../../http/context.ts';
import { validate } from '../../http/validate.ts';
import { createMessagingClient } from '../../integrations/line/client.ts';
import { writeSetting } from '../settings/settings.service.ts';
import { MAX_PRODUCTS, MAX_TEXT_LENGTH } from '../../integrations/line/flex.ts';
import { MANAGERS, requireStaff } from '../staff/auth.middleware.ts';
import * as service from './conversations.service.ts';
import { createBadgeHub, type BadgeHub } from './badge-hub.ts';

const Uuid = v.pipe(v.string(), v.uuid('Must be a UUID'));
const IdParam = v.object({ id: Uuid });
const CustomerParam = v.object({ customerId: Uuid });
const ListQuery = v.object({
	tab: v.optional(v.picklist(['mine', 'store', 'unassigned']), 'mine'),
	cursor: v.optional(v.pipe(v.string(), v.maxLength(200)))
});
const ReplyBody = v.object({
	clientId: Uuid,
	text: v.pipe(v.string(), v.maxLength(MAX_TEXT_LENGTH, `At most ${MAX_TEXT_LENGTH} characters`)),
	templateKey: v.optional(v.nullable(v.pipe(v.string(), v.regex(/^[a-z0-9_]{1,40}$/, 'Not a template key')))),
	productIds: v.optional(v.pipe(v.array(v.pipe(v.number(), v.integer(), v.minValue(1))), v.maxLength(MAX_PRODUCTS, `At most ${MAX_PRODUCTS} products`)), [])
});
const StatusBody = v.object({ status: v.picklist(['open', 'done']) });
const HandoverBody = v.object({
	staffId: v.optional(v.nullable(Uuid)),
	storeId: v.optional(v.nullable(v.pipe(v.string(), v.minLength(1), v.maxLength(64)))),
	note: v.optional(v.pipe(v.string(), v.trim(), v.maxLength(500, 'At most 500 characters')), '')
});
const SettingsBody = v.object({
	routingWindowDays: v.optional(v.unknown()),
	replyWindowSeconds: v.optional(v.unknown()),
	markAsRead: v.optional(v.unknown()),
	pushCapShare: v.optional(v.unknown())
});

/** A stream lives this long, then the tablet reconnects (and so re-checks its session). */
const STREAM_MAX_MS = 10 * 60_000;
const PING_MS = 25_000;
/** Changes arriving together are answered with one badge query (for every stream of the process). */
const BADGE_DEBOUNCE_MS = 30;

export function conversationContext(deps: AppDeps): service.ConversationContext {
	return {
		db: deps.db,
		client: createMessagingClient({ apiBase: deps.config.line.apiBase, channelAccessToken: deps.config.line.channelAccessToken }),
		publicBaseUrl: deps.config.publicBaseUrl,
		now: deps.now ?? (() => new Date()),
		logger: deps.logger,
		wakeOutbox: deps.wake.outbox
	};
}

export function conversationRoutes(deps: AppDeps) {
	const ctx = conversationContext(deps);
	const hub = createBadgeHub(deps.db, deps.conversationEvents, BADGE_DEBOUNCE_MS, (err) =>
		deps.logger.warn({ error: err instanceof Error ? err.name : 'unknown' }, 'badge update failed')
	);
	return new Hono<AppEnv>()
		.get('/', requireStaff(deps), validate('query', ListQuery), async (c) =>
			c.json(await service.listConversations(ctx, c.get('staff'), c.req.valid('query').tab, c.req.valid('query').cursor))
		)
		.get('/unread', requireStaff(deps), async (c) => c.json(await service.unreadBadge(deps.db, c.get('staff'))))
		.get('/events', requireStaff(deps), (c) => badgeStream(deps, hub, c.get('staff'), c))
		.get('/quota', requireStaff(deps, MANAGERS), async (c) => c.json(await service.quotaReport(deps.db, c.get('staff'), ctx.now())))
		.put('/settings', requireStaff(deps, MANAGERS), validate('json', SettingsBody), async (c) => {
			const body = c.req.valid('json');
			const staff = c.get('staff');
			const defs = {
				routingWindowDays: service.ROUTING_WINDOW_DAYS,
				replyWindowSeconds: service.REPLY_WINDOW_SECONDS,
				markAsRead: service.MARK_AS_READ,
				pushCapShare: service.PUSH_CAP_SHARE
			} as const;
			const saved: Record<string, unknown> = {};
			for (const [name, def] of Object.entries(defs)) {
				const value = body[name as keyof typeof body];
				if (value !== undefined) saved[name] = await writeSetting(deps.db, def as typeof service.MARK_AS_READ, value, staff.id);
			}
			return c.json({ settings: saved });
		})
		.get('/by-customer/:customerId', requireStaff(deps), validate('param', CustomerParam), async (c) =>
			c.json({ conversation: await service.conversationOfCustomer(ctx, c.get('staff'), c.req.valid('param').customerId) })
		)
		.get('/:id', requireStaff(deps), validate('param', IdParam), async (c) =>
			c.json({ conversation: await service.openConversation(ctx, c.get('staff'), c.req.valid('param').id) })
		)
		.post('/:id/replies', requireStaff(deps), validate('param', IdParam), validate('json', ReplyBody), async (c) => {
			const result = await service.reply(ctx, c.get('staff'), c.req.valid('param').id, c.req.valid('json'));
			return c.json({ message: result.message }, result.created ? 201 : 200);
		})
		.put('/:id/status', requireStaff(deps), validate('param', IdParam), validate('json', StatusBody), async (c) =>
			c.json(await service.setStatus(deps.db, c.get('staff'), c.req.valid('param').id, c.req.valid('json').status))
		)
		.post('/:id/handover', requireStaff(deps), validate('param', IdParam), validate('json', HandoverBody), async (c) =>
			c.json(await service.handOver(deps.db, c.get('staff'), c.req.valid('param').id, c.req.valid('json')))
		);
}

/**
 * The unread badge as server-sent events: the current count at once, then a new count whenever
 * a change concerns this staff member (from any process, via LISTEN/NOTIFY; the process's
 * streams are answered together by the badge hub), and a ping so proxies keep the connection.
 * The tablet reconnects on its own and polls while it cannot.
 */
function badgeStream(deps: AppDeps, hub: BadgeHub, staff: StaffPrincipal, c: Parameters<Parameters<typeof streamSSE>[1]>[0] extends never ? never : any) {
	return streamSSE(c, async (stream) => {
		let closed = false;
		let wake: (() => void) | undefined;
		const write = (badge: service.UnreadBadge, conversationIds: string[]) =>
			stream.writeSSE({ event: 'unread', data: JSON.stringify({ ...badge, conversationIds, at: Date.now() }) });
		const unwatch = hub.watch(staff, (badge, ids) => {
			if (!closed) void write(badge, ids).catch(() => wake?.());
		});
		stream.onAbort(() => {
			closed = true;
			wake?.();
		});
		try {
			await write(await service.unreadBadge(deps.db, staff), []);
			const started = Date.now();
			while (!closed && Date.now() - started < STREAM_MAX_MS) {
				await new Promise<void>((resolve) => {
					const t = setTimeout(resolve, PING_MS);
					wake = () => {
						clearTimeout(t);
						resolve();
					};
				});
				if (!closed) await stream.writeSSE({ event: 'ping', data: '' });
			}
		} finally {
			closed = true;
			unwatch();
		}
	});
}
