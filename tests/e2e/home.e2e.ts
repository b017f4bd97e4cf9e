import { test, expect, expectAccessible, expectTouchTargets } from './fixtures.ts';

test('home speaks Japanese by default and switches to English', async ({ page }) => {
	await page.goto('/');
	await expect(page.getByRole('heading', { level: 1 })).toHaveText('つなぐ');
	await expect(page.locator('html')).toHaveAttribute('lang', 'ja');
	await expectAccessible(page);
	await expectTouchTargets(page);
	await page.getByRole('button', { name: 'English' }).click();
	await expect(page.getByRole('heading', { level: 1 })).toHaveText('Tsunagu');
	await expect(page.locator('html')).toHaveAttribute('lang', 'en');
	await page.screenshot({ path: 'test-results/home-landscape.png' });
});

test('the server answers health and unknown API paths with the error envelope', async ({ request }) => {
	const health = await request.get('/healthz');
	expect(health.status()).toBe(200);
	const missing = await request.get('/api/does-not-exist');
	expect(missing.status()).toBe(404);
	expect((await missing.json()).error.code).toBe('not_found');
});
