/** `GET /l/{code}`: records the click (buffered) and redirects to the EC page with the ref. */
import { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../../http/context.ts';
import { followLink } from './links.service.ts';

const NOT_FOUND_PAGE = `<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>リンクが見つかりません / Link not found</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222;line-height:1.7}h1{font-size:1.3rem}</style>
</head><body><main>
<h1>リンクが見つかりません</h1>
<p>このリンクは無効か、有効期限が切れています。お手数ですが、担当スタッフまでLINEでお問い合わせください。</p>
<p lang="en">This link is not valid. Please reply to the staff member on LINE.</p>
</main></body></html>`;

export function linkRoutes(deps: AppDeps) {
	return new Hono<AppEnv>().get('/:code', async (c) => {
		const target = await followLink(deps, c.req.param('code'), c.req.header('user-agent'));
		c.header('cache-control', 'no-store');
		c.header('referrer-policy', 'no-referrer');
		if (!target) {
			// this route runs ahead of the app's secureHeaders (see createApp): the page sets its own
			c.header('x-content-type-options', 'nosniff');
			c.header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'");
			return c.html(NOT_FOUND_PAGE, 404);
		}
		return c.redirect(target, 302);
	});
}
