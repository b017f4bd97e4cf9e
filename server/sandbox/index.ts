/**
 * Local stand-ins for the LINE Platform and the EC platform, mounted under /sandbox in demo
 * and test mode only (never in production). They implement the documented contracts,
 * including error responses, so the real SDKs and our integration code run unchanged.
 *
 * The LINE Platform itself runs on its own origin (see line/server.ts); the routes here are
 * the small JSON API the demo pages use through the main server (/sandbox/line/*).
 */
import { Hono } from 'hono';
import type { Config } from '../config.ts';
import type { AppDeps } from '../http/context.ts';
import { startLineSandbox, type RunningLineSandbox } from './line/server.ts';
import { lineDemoRoutes } from './line/demo.routes.ts';

export function sandboxRoutes(deps: AppDeps, lineSandbox?: RunningLineSandbox) {
	const app = new Hono();
	if (lineSandbox) app.route('/line', lineDemoRoutes(deps, lineSandbox));
	return app;
}

/** Starts the LINE sandbox for this config; its webhooks go to `fetch` (the app, in-process). */
export function startLineSandboxFor(config: Config, fetch: (req: Request) => Response | Promise<Response>): Promise<RunningLineSandbox> {
	return startLineSandbox({
		port: config.line.sandboxPort,
		channelAccessToken: config.line.channelAccessToken,
		channelSecret: config.line.channelSecret,
		loginChannelId: config.line.loginChannelId,
		deliverWebhook: async (body, signature) => {
			const res = await fetch(
				new Request('http://sandbox.internal/webhooks/line', {
					method: 'POST',
					headers: { 'content-type': 'application/json', 'x-line-signature': signature },
					body
				})
			);
			return { status: res.status, body: await res.text() };
		}
	});
}

/** Points the LINE base URLs that defaulted to the sandbox at the port it actually got. */
export function pointLineAtSandbox(config: Config, sandbox: RunningLineSandbox): Config {
	const planned = `http://127.0.0.1:${config.line.sandboxPort}`;
	const fix = (base: string) => (base === planned ? sandbox.url : base);
	return { ...config, line: { ...config.line, apiBase: fix(config.line.apiBase), loginApiBase: fix(config.line.loginApiBase) } };
}
