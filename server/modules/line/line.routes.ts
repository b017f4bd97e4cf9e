/**
 * POST /webhooks/line: size limit → signature (x-line-signature over the raw body) → JSON →
 * store each event once → 200. Processing happens in the inbox worker, so LINE gets its answer
 * fast and a crash between receipt and processing loses nothing.
 */
import { Hono } from 'hono';
import { badRequest, unauthorized } from '../../errors.ts';
import type { AppDeps, AppEnv } from '../../http/context.ts';
import { jsonBodyLimit } from '../../http/middleware.ts';
import { isValidLineSignature } from '../../integrations/line/signature.ts';
import { MalformedWebhook, parseWebhook } from '../../integrations/line/webhook.ts';
import { receiveLineEvents } from './line.service.ts';

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
			let json: unknown;
			try {
				json = JSON.parse(raw);
			} catch {
				throw badRequest('malformed_json', 'The webhook body is not valid JSON');
			}
			let parsed;
			try {
				parsed = parseWebhook(json);
			} catch (err) {
				if (err instanceof MalformedWebhook) throw badRequest('malformed_webhook', err.message);
				throw err;
			}
			const receipt = await receiveLineEvents(deps.db, parsed, deps.wake.inbox);
			c.get('log').info({ events: parsed.events.length, stored: receipt.stored, ignored: parsed.ignored }, 'line webhook');
			return c.json({ ok: true });
		}
	);
}
