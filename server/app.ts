/**
 * Builds the Hono app: middleware, the single error handler and one sub-app per domain.
 * `AppType` is imported (as a type only) by the SvelteKit client for an end-to-end typed API.
 */
import { Hono } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import type { AppDeps, AppEnv } from './http/context.ts';
import { errorBody, jsonBodyLimit, onError, rejectUnsafeUrl, requestContext } from './http/middleware.ts';
import { contentSecurityPolicy } from './http/csp.ts';
import { mountStatic } from './http/static.ts';
import { healthRoutes } from './modules/health/health.routes.ts';
import { lineWebhookRoutes } from './modules/line/line.routes.ts';
import { memberQrRoutes } from './modules/members/member-qr.routes.ts';
import { memberRoutes } from './modules/members/members.routes.ts';
import { staffRoutes } from './modules/staff/staff.routes.ts';
import { customerRoutes } from './modules/customers/customers.routes.ts';
import { productRoutes } from './modules/products/products.routes.ts';
import { consultationRoutes } from './modules/consultations/consultations.routes.ts';
import { shopifyWebhookRoutes } from './modules/webhooks/webhooks.routes.ts';
import { parkedWebhookRoutes } from './modules/webhooks/parked.routes.ts';
import { reportRoutes } from './modules/reports/reports.routes.ts';
import { linkRoutes } from './modules/links/links.routes.ts';
import { refSdkRoutes } from './modules/attribution/ref-sdk.routes.ts';
import { followUpRoutes } from './modules/followups/followups.routes.ts';
import { auditRoutes } from './modules/audit/audit.routes.ts';
import { conversationRoutes } from './modules/conversations/conversations.routes.ts';
import { contactRoutes } from './modules/contact/contact.routes.ts';
import { clientBookRoutes } from './modules/clientbook/clientbook.routes.ts';
import { worklistRoutes } from './modules/worklist/worklist.routes.ts';
import { privacyRoutes } from './modules/privacy/privacy.routes.ts';
import { identityRoutes } from './modules/identity/identity.routes.ts';

export interface AppOptions {
	/** Directory of the built SPA; omitted in API-only tests. */
	staticDir?: string;
	/** Extra sub-apps mounted before the SPA fallback (the sandbox in demo/test mode). */
	extraRoutes?: Array<{ path: string; app: Hono<any> }>;
}

const MAX_BODY_BYTES = 512 * 1024;

export function buildApi(deps: AppDeps) {
	return new Hono<AppEnv>()
		.use(jsonBodyLimit(MAX_BODY_BYTES))
		.route('/member', memberRoutes(deps))
		.route('/member-qr', memberQrRoutes(deps))
		.route('/', staffRoutes(deps))
		.route('/customers', customerRoutes(deps))
		.route('/products', productRoutes(deps))
		.route('/consultations', consultationRoutes(deps))
		.route('/followups', followUpRoutes(deps))
		.route('/reports', reportRoutes(deps))
		.route('/audit', auditRoutes(deps))
		.route('/webhooks', parkedWebhookRoutes(deps))
		.route('/conversations', conversationRoutes(deps))
		.route('/contact', contactRoutes(deps))
		.route('/client-book', clientBookRoutes(deps))
		.route('/worklist', worklistRoutes(deps))
		.route('/privacy', privacyRoutes(deps))
		.route('/identity', identityRoutes(deps));
	// Domain modules: one line each, `.route('/customers', customersRoutes(deps))`, chained so
	// that AppType carries every route for the typed client.
}

export function createApp(deps: AppDeps, options: AppOptions = {}) {
	const app = new Hono<AppEnv>();
	app.onError(onError);
	// NUL, lone surrogates, undecodable escapes and impossible dates in a path or query are
	// refused before any route (the redirect included) can hand them to the database.
	app.use(rejectUnsafeUrl());
	// The tracked-link redirect is the hot public path (bench:redirect): mounted ahead of the
	// request-context/access-log and security-header middleware, which a body-less 302 does not
	// need (its click is recorded in link_clicks; the 404 page sets its own headers).
	app.route('/l', linkRoutes(deps));
	app.use(requestContext(deps.logger));
	app.use(
		secureHeaders({
			crossOriginEmbedderPolicy: false,
			crossOriginResourcePolicy: false,
			contentSecurityPolicy: contentSecurityPolicy({ staticDir: options.staticDir })
		})
	);
	app.route('/healthz', healthRoutes(deps));
	app.route('/api', buildApi(deps));
	// Vendor-facing endpoints (signed webhooks) and public links; mounted one line each.
	app.route('/webhooks/shopify', shopifyWebhookRoutes(deps));
	app.route('/webhooks/line', lineWebhookRoutes(deps));
	app.route('/sdk', refSdkRoutes());
	for (const extra of options.extraRoutes ?? []) app.route(extra.path, extra.app);
	app.notFound((c) => c.json(errorBody(c, 'not_found', `No route for ${c.req.method} ${c.req.path}`), 404));
	if (options.staticDir) mountStatic(app, options.staticDir);
	return app;
}

export type AppType = ReturnType<typeof buildApi>;
