/**
 * POST /webhooks/line: size limit → signature (x-line-signature over the raw body) → JSON →
 * store the events once, together → 200 (a signed body that is not a LINE callback is parked). Processing happens in the inbox worker, so LINE gets its answer
 * fast and a crash between receipt and processing loses nothing.
 */
import { Hono } from 'hono';
import { createHash } from 'node:crypto';
import { unauthorized } from '../../errors.ts';
import type { AppDeps, AppEnv } from '../../http/context.ts';
import { jsonBodyLimit } from '../../http/middleware.ts';
import { isValidLineSignature } from '../../integrations/line/signature.ts';
import { MalformedWebhook, parseWebhook } from '../../integrations/line/webhook.ts';
import { parkUnreadableWebhook } from '../webhooks/inbox.service.ts';
import { LINE_INBOX_SOURCE, receiveLineEvents } from './line.service.ts';

/** LINE's own webhook bodies are a few KB; anything near this is not LINE. */
const MAX_WEBHOOK_BYTES = 256 * 1024;

export function lineWebhookRoutes(deps: AppDeps) {
	return new Hono<AppEnv>().post(
		'/',
		jsonBodyLimit(MAX_WEBHOOK_BYTES, 'Webhook body'),
		async (c) => {
			const raw = await c.req.text();
			if (!isValidLineSignature(raw, deps.config.line.channelSecret, c.req.header('x-line-signature'))) {
				throw unauthorized('bad_signature', 'x-line-signature does not match the body');
			}
			let parsed;
			try {
				parsed = parseWebhook(JSON.parse(raw));
			} catch (err) {
				if (!(err instanceof SyntaxError || err instanceof MalformedWebhook)) throw err;
				// signed by LINE but unusable as it is: parked with its reason (keyed by the body's
				// hash, so a redelivery is a duplicate), answered 200 so it is not redelivered forever
				const reason = err instanceof SyntaxError ? 'malformed_json: not valid JSON' : `malformed_webhook: ${(err as Error).message}`;
				const externalId = `unreadable:${createHash('sha256').update(raw).digest('hex')}`;
				const parked = await parkUnreadableWebhook(deps.db, { source: LINE_INBOX_SOURCE, externalId, topic: 'unreadable', body: raw }, reason);
				c.get('log').warn({ inboxId: parked.id }, 'line webhook parked on receipt');
				return c.json({ ok: true, parked: true });
			}
			const receipt = await receiveLineEvents(deps.db, parsed, deps.wake.inbox);
			c.get('log').info({ events: parsed.events.length, stored: receipt.stored, ignored: parsed.ignored }, 'line webhook');
			return c.json({ ok: true });
		}
	);
}
