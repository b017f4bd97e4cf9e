/**
 * Manager reports end to end at tablet size: a manager signs in from a fresh browser (which
 * enrolls it with the manager's code + PIN), sees the leaderboard and both charts, downloads
 * the CSV (UTF-8 with BOM), opens the funnel and KPI screens; axe and touch targets on each.
 */
import { readFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { test, expect, expectAccessible, expectTouchTargets } from './fixtures.ts';

// axe over a report page takes a while on a shared CI machine
test.describe.configure({ timeout: 180_000 });

async function signInAsManager(page: Page, checks = false): Promise<void> {
	await page.goto('/manager');
	await expect(page.getByRole('heading', { name: 'マネージャーのサインイン' })).toBeVisible();
	if (checks) {
		await expectAccessible(page);
		await expectTouchTargets(page);
	}
	await page.getByLabel('店舗').selectOption('shibuya');
	await page.getByLabel('スタッフコード').fill('S002');
	await page.getByLabel('PIN').fill('1234');
	await page.getByRole('button', { name: 'サインイン' }).click();
	await expect(page.getByRole('heading', { level: 1, name: 'スタッフ経由EC売上' })).toBeVisible();
}

test('a manager signs in, sees the leaderboard and charts, downloads CSV', async ({ page }) => {
	await signInAsManager(page, true);
	await expect(page.getByRole('heading', { level: 1, name: 'スタッフ経由EC売上' })).toBeVisible();
	await expect(page.getByRole('heading', { name: 'ランキング' })).toBeVisible();
	const table = page.locator('table.leaderboard');
	await expect(table.getByRole('columnheader', { name: '純売上で並べ替え' })).toBeVisible();
	await expect(page.getByRole('img', { name: '売上推移（純売上）' })).toBeVisible();
	await expect(page.getByRole('img', { name: 'スタッフ別純売上' })).toBeVisible();
	// the chart code arrives as its own chunk and draws on the canvas
	await expect.poll(() => page.locator('canvas').first().evaluate((c: HTMLCanvasElement) => c.width > 0)).toBe(true);
	await expect(table.locator('tbody tr').first()).not.toContainText('読み込み中');

	await page.getByRole('button', { name: '先月' }).click();
	await expect(page.getByRole('button', { name: '先月' })).toHaveAttribute('aria-pressed', 'true');
	const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'CSVダウンロード' }).first().click()]);
	expect(download.suggestedFilename()).toMatch(/^sales-staff_\d{4}-\d{2}-01_\d{4}-\d{2}-\d{2}\.csv$/);
	const bytes = readFileSync((await download.path())!);
	expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
	expect(bytes.subarray(3).toString('utf8').split('\r\n')[0]).toBe('スタッフ,スタッフコード,注文数,総額（円）,返金（円）,純売上（円）');

	await expectAccessible(page);
	await expectTouchTargets(page);
	await page.screenshot({ path: 'test-results/manager-sales-landscape.png', fullPage: true });
	await page.setViewportSize({ width: 834, height: 1194 });
	await expectTouchTargets(page);
	await page.screenshot({ path: 'test-results/manager-sales-portrait.png', fullPage: true });
});

test('the funnel and the KPI screens show their definitions', async ({ page }) => {
	await signInAsManager(page);
	await page.getByRole('link', { name: 'フォローアップ' }).click();
	await expect(page.getByRole('heading', { level: 1, name: 'フォローアップのファネル' })).toBeVisible();
	await expect(page.getByText('LINEのプッシュには到達通知がない', { exact: false })).toBeVisible();
	await expectAccessible(page);
	await expectTouchTargets(page);

	await page.getByRole('link', { name: 'OMO指標' }).click();
	await expect(page.getByRole('heading', { name: 'F2転換率' })).toBeVisible();
	await expect(page.getByRole('heading', { name: '顧客の状態と移動' })).toBeVisible();
	await expect(page.getByText('初回購入（店舗・EC通算）が期間内だった顧客', { exact: false })).toBeVisible();
	await expectAccessible(page);
	await expectTouchTargets(page);
	await page.screenshot({ path: 'test-results/manager-kpis-portrait.png', fullPage: true });
});
