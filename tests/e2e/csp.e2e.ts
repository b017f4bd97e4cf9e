/**
 * The Content-Security-Policy is sent on every page and holds on the screens no other spec
 * walks through (the fixture in fixtures.ts fails any test on a violation, so the staff,
 * manager, member and demo-loop specs check theirs).
 */
import { test, expect } from './fixtures.ts';

const SCREENS = ['/', '/staff', '/manager', '/member', '/demo/line-inbox', '/shop', '/shop/cart', '/staff/scan', '/no-such-page'];

test('every screen loads under a strict CSP without violations', async ({ page, request }) => {
	const home = await request.get('/');
	const csp = home.headers()['content-security-policy'] ?? '';
	expect(csp).toContain("script-src 'self' 'sha256-");
	expect(csp).not.toContain("'unsafe-inline' 'self'"); // scripts never get unsafe-inline
	expect(csp).toMatch(/script-src[^;]*;/);
	expect(csp.split(';').find((d) => d.trim().startsWith('script-src'))).not.toContain('unsafe');
	expect(csp).toContain("frame-ancestors 'none'");
	expect((await request.get('/api/stores')).headers()['content-security-policy']).toBeTruthy();
	for (const path of SCREENS) {
		await page.goto(path);
		await page.waitForLoadState('networkidle');
		await expect(page.locator('body')).not.toBeEmpty();
	}
	// an inline script an attacker managed to inject is refused
	const blocked = await page.evaluate(
		() =>
			new Promise<boolean>((resolve) => {
				document.addEventListener('securitypolicyviolation', (e) => {
					e.stopImmediatePropagation();
					resolve(true);
				}, { capture: true, once: true });
				const s = document.createElement('script');
				s.textContent = 'window.__injected = true';
				document.body.append(s);
				setTimeout(() => resolve(false), 1000);
			})
	);
	expect(blocked).toBe(true);
	expect(await page.evaluate(() => (window as unknown as { __injected?: boolean }).__injected)).toBeUndefined();
});
