/**
 * The merge suggestions queue end to end at tablet size: the admin opens 重複候補 on the demo
 * brand (planted duplicate pairs), sees both records side by side with their evidence, merges a
 * pair, finds it in 統合履歴 and undoes it; axe and touch targets, landscape and portrait.
 */
import { test, expect, expectAccessible, expectTouchTargets, enrollAndSignIn, sessionToken, signInManager } from './fixtures.ts';

test.describe.configure({ timeout: 180_000 });

test('an admin merges a demo pair from the queue and undoes it', async ({ page }) => {
	await signInManager(page, 'S001');

	await page.getByRole('link', { name: '重複候補' }).click();
	await expect(page.getByRole('heading', { level: 1, name: '同一人物の候補' })).toBeVisible();
	const first = page.getByTestId('suggestion').first();
	await expect(first).toBeVisible();
	await expect(first.getByRole('heading', { name: '根拠' })).toBeVisible();
	await expect(first.locator('.side')).toHaveCount(2);
	await expectAccessible(page);
	await expectTouchTargets(page);
	await page.screenshot({ path: 'test-results/identity-queue-landscape.png' });

	const id = await first.getAttribute('data-suggestion-id');
	await first.getByTestId('keep').first().click();
	await expect(page.getByRole('status')).toHaveText('統合しました');
	await expect(page.locator(`[data-suggestion-id="${id}"]`)).toHaveCount(0);

	await page.getByRole('button', { name: '統合履歴' }).click();
	const row = page.getByTestId('merge-ledger').locator('tr').first();
	await expect(row.getByRole('button', { name: '取り消す' })).toBeVisible();
	await expectAccessible(page);
	await row.getByRole('button', { name: '取り消す' }).click();
	await expect(page.getByRole('status')).toHaveText('統合を取り消しました');
	await expect(row).toContainText('取り消し済み');

	await page.setViewportSize({ width: 834, height: 1194 });
	await page.getByRole('button', { name: '未判断' }).click();
	await expect(page.getByTestId('suggestion').first()).toBeVisible();
	await expectTouchTargets(page);
	await page.screenshot({ path: 'test-results/identity-queue-portrait.png' });
});

test('the tablet shows 「同一人物の可能性」 on a profile and sends the in-store confirmation to the queue', async ({ page, request }) => {
	await enrollAndSignIn(page, /佐藤 美咲/);
	const token = await sessionToken(page);
	const queue = await request.get('/api/identity/suggestions', { headers: { authorization: `Bearer ${token}` } });
	expect(queue.status()).toBe(200);
	const suggestion = ((await queue.json()) as { suggestions: Array<{ id: string; a: { id: string } }> }).suggestions.find((s) => s);
	expect(suggestion).toBeDefined();

	await page.goto(`/staff/customers/${suggestion!.a.id}`);
	const badge = page.getByTestId('duplicate-badge');
	await expect(badge).toHaveText(/同一人物の可能性: \d+件/);
	await badge.click();
	await expect(page.getByTestId('duplicate-panel')).toContainText('お客様に確認し');
	await expectAccessible(page);
	await expectTouchTargets(page);
	await page.screenshot({ path: 'test-results/identity-tablet-notice.png' });
	await page.getByTestId('duplicate-confirm').first().click();
	await expect(page.getByText('確認を送りました。店長の判断を待っています。').first()).toBeVisible();
	const after = await request.get('/api/identity/suggestions', { headers: { authorization: `Bearer ${token}` } });
	const confirmed = ((await after.json()) as { suggestions: Array<{ id: string; staffConfirmedAt: string | null }> }).suggestions[0];
	expect(confirmed.staffConfirmedAt).not.toBeNull();
});
