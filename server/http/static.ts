/**
 * Serves the built SvelteKit SPA from build/. Hashed assets are cached for a year; the shell
 * and the service worker are always revalidated so updates reach tablets. Unknown paths that
 * are not API/webhook paths get the SPA fallback so deep links work.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Hono } from 'hono';
import type { AppEnv } from './context.ts';

const SERVER_PREFIXES = ['/api/', '/webhooks/', '/l/', '/sandbox/', '/sdk/', '/healthz'];

export function mountStatic(app: Hono<AppEnv>, dir: string): void {
	const fallbackPath = join(dir, 'index.html');
	if (!existsSync(fallbackPath)) return;
	const fallback = readFileSync(fallbackPath, 'utf8');

	app.use('/_app/immutable/*', async (c, next) => {
		await next();
		if (c.res.status === 200) c.header('cache-control', 'public, max-age=31536000, immutable');
	});
	app.use(
		'/*',
		serveStatic({
			root: dir,
			onFound: (path, c) => {
				if (!path.includes('/_app/immutable/')) c.header('cache-control', 'no-cache');
			}
		})
	);
	app.get('*', (c, next) => {
		if (SERVER_PREFIXES.some((p) => c.req.path.startsWith(p))) return next();
		c.header('cache-control', 'no-cache');
		return c.html(fallback);
	});
}
