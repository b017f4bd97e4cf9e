/**
 * 担当顧客 on the tablet: S003 (鈴木 健太) opens his client book from the header, filters it by
 * state and LINE reachability, switches to the store's unassigned customers and claims one,
 * who then shows in his own book. Accessible and touch-sized in landscape and portrait.
 */
import { test, expect, expectAccessible, expectTouchTargets, enrollAndSignIn, signInManager } from './fixtures.ts';

test('staff opens 担当顧客, filters the book, and claims an unassigned customer of the store', async ({ page }) => {
	test.setTimeout(90_000);
	await enrollAndSignIn(page);
	await page.getByTestId('clients-link').click();
	await expect(page).toHaveURL(/\/staff\/clients/);
	await expect(page.getByRole('heading', { name: '担当顧客' })).toBeVisible();

	// the demo gives every staff member a book of 100–200 customers
	const rows = page.getByTestId('book-row');
	await expect(rows.first()).toBeVisible({ timeout: 15_000 });
	const total = await rows.count();
	expect(total).toBeGreaterThanOrEqual(100);
	expect(total).toBeLessThanOrEqual(200);
	await expectAccessible(page);
	await expectTouchTargets(page);
	await page.screenshot({ path: 'test-results/book-1-mine.png' });

	// filter: dormant customers only
	await page.getByTestId('book-state-dormant').click();
	await expect(page.getByTestId('book-state-dormant')).toHaveAttribute('aria-pressed', 'true');
	await expect(async () => {
		const states = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-state')));
		expect(states.length).toBeGreaterThan(0);
		expect(states.length).toBeLessThan(total);
		expect(new Set(states)).toEqual(new Set(['dormant']));
	}).toPass({ timeout: 10_000 });
	// and reachable on LINE
	await page.getByTestId('book-line').selectOption('reachable');
	await expect(async () => {
		const lines = await page.getByTestId('book-line-status').allTextContents();
		expect(lines.every((l) => l === '送信可')).toBe(true);
	}).toPass({ timeout: 10_000 });
	await page.getByRole('button', { name: '条件をクリア' }).click();
	await expect(page.getByTestId('book-state-dormant')).toHaveAttribute('aria-pressed', 'false');

	// the store's unassigned customers: claim one
	await page.getByTestId('book-tab-store').click();
	await expect(page.getByTestId('book-tab-store')).toHaveAttribute('aria-selected', 'true');
	const first = rows.first();
	await expect(first.getByTestId('book-claim')).toBeVisible({ timeout: 10_000 });
	const name = (await first.locator('.name').textContent())!.trim();
	await page.screenshot({ path: 'test-results/book-2-store.png' });
	await first.getByTestId('book-claim').click();
	await expect(page.getByTestId('book-notice')).toContainText('担当になりました');
	await expect(page.getByTestId('book-list').getByText(name, { exact: true })).toHaveCount(0);

	// now in his own book
	await page.getByTestId('book-tab-mine').click();
	await expect(page.getByTestId('book-list').getByText(name, { exact: true })).toBeVisible({ timeout: 10_000 });

	// portrait
	await page.setViewportSize({ width: 834, height: 1194 });
	await expectTouchTargets(page);
	await expectAccessible(page);
	await page.screenshot({ path: 'test-results/book-3-portrait.png' });
});

test('a manager hands two of a member’s customers over to another member; the shares must add up to 100%', async ({ page }) => {
	test.setTimeout(120_000);
	await signInManager(page);
	await page.getByRole('link', { name: '担当の引き継ぎ' }).click();
	await expect(page.getByRole('heading', { level: 1, name: '担当顧客の引き継ぎ' })).toBeVisible();

	await page.getByTestId('handover-from-S005').click();
	const boxes = page.locator('table.book input[type=checkbox]');
	await expect(boxes.first()).toBeVisible({ timeout: 15_000 });
	const before = Number((await page.getByRole('heading', { level: 2 }).textContent())!.match(/担当 (\d+) 人/)![1]);
	await boxes.nth(0).check();
	await boxes.nth(1).check();
	await page.getByTestId('share-S004').fill('60');
	await expect(page.getByTestId('share-total')).toContainText('100%になるように');
	await expect(page.getByTestId('handover-run')).toBeDisabled();
	await page.getByTestId('share-S004').fill('100');
	await expect(page.getByTestId('share-total')).toHaveText('合計 100%');
	await expectAccessible(page);
	await expectTouchTargets(page);
	await page.screenshot({ path: 'test-results/book-4-manager.png' });
	await page.getByTestId('handover-run').click();
	await expect(page.getByTestId('handover-notice')).toContainText('2 人の担当を引き継ぎました');
	await expect(page.getByRole('heading', { level: 2 })).toContainText(`担当 ${before - 2} 人`);
	await expect(page.getByTestId('owner-history').locator('li').first()).toContainText('引き継ぎ');
});
