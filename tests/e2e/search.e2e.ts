/**
 * Customer search on the tablet (issue 15): a full name without a space in any kana/width finds
 * the member first, rows tell namesakes apart (phone last 4, birthday, last visit, home store),
 * a count and a "next 20" button page through a common family name.
 */
import type { Page } from '@playwright/test';
import { test, expect, expectAccessible, expectTouchTargets, enrollAndSignIn } from './fixtures.ts';

test.describe.configure({ timeout: 120_000 });

/** Signed in (today's list), then the scan screen the search lives on. */
async function signInToScan(page: Page): Promise<void> {
	await enrollAndSignIn(page);
	await page.goto('/staff/scan');
}

test('search: full name without a space, rows that tell people apart, a count and paging', async ({ page }) => {
	await signInToScan(page);
	const box = page.getByLabel('名前・カナ・電話番号下4桁で検索');
	const results = page.getByTestId('search-result');

	for (const q of ['やまだはなこ', 'ﾔﾏﾀﾞﾊﾅｺ', '山田花子']) {
		await box.fill(q);
		await page.getByRole('button', { name: '検索', exact: true }).click();
		await expect(results.first()).toContainText('山田 花子');
		await expect(results.first()).toContainText('1000000001');
	}
	// the row carries what tells namesakes apart
	await expect(results.first()).toContainText(/電話 …\d{4}|最終来店|来店なし/);
	await expect(results.first()).toContainText(/最終来店 \d{4}年\d{1,2}月\d{1,2}日|来店なし/);

	// a common family name: a count, the first 20, and the next ones on demand
	await box.fill('やまだ');
	await page.getByRole('button', { name: '検索', exact: true }).click();
	const count = page.getByTestId('search-count');
	// the previous query's rows and count stay until this one's answer arrives
	await expect(count).toHaveAttribute('data-query', 'やまだ');
	await expect(count).toContainText(/\d+件/);
	const total = Number((await count.textContent())!.match(/(\d+)件/)![1]);
	await expect(results).toHaveCount(Math.min(total, 20));
	if (total > 20) {
		await page.getByRole('button', { name: /次の\d+件を表示/ }).click();
		await expect(results).toHaveCount(Math.min(total, 40));
	}
	await expectAccessible(page);
	await expectTouchTargets(page);
	await page.screenshot({ path: 'test-results/search-ja.png', fullPage: true });

	// portrait: the rows still fit
	await page.setViewportSize({ width: 834, height: 1194 });
	await page.screenshot({ path: 'test-results/search-ja-portrait.png', fullPage: true });
	const overflow = await page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);
	expect(overflow).toBe(false);
});

test('profile: birthday and home store, JST times and words in the timeline, one tap from a suggestion to a follow-up', async ({ page }) => {
	await signInToScan(page);
	await page.getByLabel('会員番号').fill('1000000001');
	await page.getByRole('button', { name: '開く' }).click();
	await expect(page.getByTestId('customer-name')).toHaveText('山田 花子');
	await expect(page.getByTestId('birthday')).toHaveText(/\d{4}年\d{1,2}月\d{1,2}日/);
	await expect(page.getByTestId('home-store')).not.toHaveText('');
	const timeline = page.getByTestId('timeline');
	await expect(timeline.locator('time').first()).toHaveText(/\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}/);
	// no raw event codes
	const text = await timeline.innerText();
	expect(text).not.toMatch(/\bfollow\b|\bunfollow\b|message:/);
	await page.screenshot({ path: 'test-results/profile-ja.png', fullPage: true });

	const oneTap = page.getByTestId('suggestion-follow-up').or(page.getByTestId('point-follow-up')).first();
	await expect(oneTap).toBeVisible();
	await oneTap.click();
	await expect(page).toHaveURL(/follow-up\?sku=/);
	await expect(page.getByRole('heading', { name: /EC商品 \([1-9]\d*\/10\)/ })).toBeVisible();
	await page.screenshot({ path: 'test-results/followup-picked-ja.png', fullPage: true });
});
