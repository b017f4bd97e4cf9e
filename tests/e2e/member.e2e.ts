import { test, expect, expectAccessible, expectTouchTargets } from './fixtures.ts';

// The LIFF member card runs inside LINE on phones.
test.use({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });

test('a new LINE user consents, gets a member card with a rotating QR, and keeps it on reopening', async ({ page }) => {
	await page.goto('/member');
	await expect(page.getByRole('heading', { name: 'デモ: LINEユーザーを選択' })).toBeVisible();
	await expectAccessible(page);
	await expectTouchTargets(page);

	await page.getByRole('button', { name: '新しいLINEユーザー (未登録)' }).click();
	await expect(page.getByRole('heading', { name: '会員登録' })).toBeVisible();
	await expectAccessible(page);
	await expectTouchTargets(page);

	// terms are required
	await page.getByRole('button', { name: '同意して会員になる' }).click();
	await expect(page.getByRole('alert')).toHaveText('会員規約への同意が必要です。');
	await page.getByLabel('会員規約とプライバシーポリシーに同意する').check();
	await page.getByLabel('担当スタッフからのLINEメッセージを受け取る').check();
	await page.getByRole('button', { name: '同意して会員になる' }).click();
	// the profile screen right after joining can be put off (the card then reminds)
	await expect(page.getByRole('heading', { name: 'お客様情報の登録' })).toBeVisible();
	await page.getByRole('button', { name: 'あとで' }).click();

	await expect(page.getByRole('heading', { name: 'LINE ユーザー' })).toBeVisible();
	await expect(page.getByText('フリガナが未登録です。', { exact: false })).toBeVisible();
	await expect(page.getByText(/^会員番号/)).toContainText(/\d{10}/);
	const qr = page.getByRole('img', { name: '会員QRコード (レジでご提示ください)' });
	await expect(qr.locator('svg')).toBeVisible();
	await expect(page.getByText(/秒後に更新/)).toBeVisible();
	await expect(page.getByText('まだお買い物の記録はありません。')).toBeVisible();
	await expectAccessible(page);
	await expectTouchTargets(page);
	await page.screenshot({ path: 'test-results/member-card-phone.png' });

	// opened again: the member session is reused, straight to the card
	const memberNo = await page.locator('.member-no strong').textContent();
	await page.reload();
	await expect(page.locator('.member-no strong')).toHaveText(memberNo!);
});

test('a featured demo member sees store and EC purchases with their staff', async ({ page }) => {
	await page.goto('/member');
	await page.getByRole('button', { name: /山田 花子/ }).click();
	await expect(page.getByRole('heading', { name: '山田 花子' })).toBeVisible();
	await expect(page.locator('.member-no strong')).toHaveText('1000000001');
	await expect(page.getByRole('heading', { name: '最近のお買い物' })).toBeVisible();
	await expect(page.locator('.purchases li').first()).toBeVisible();
	await expectAccessible(page);
	await expectTouchTargets(page);
});

test('an existing member links by member number and birthday, with a clear error first', async ({ page, request }) => {
	await page.goto('/member');
	await page.getByRole('button', { name: '新しいLINEユーザー (未登録)' }).click();
	await page.getByRole('button', { name: 'すでに会員の方(会員番号をお持ちの方)' }).click();
	await expect(page.getByRole('heading', { name: '会員番号で連携' })).toBeVisible();
	await page.getByLabel('会員規約とプライバシーポリシーに同意する').check();
	await page.getByLabel('会員番号').fill('1000000099');
	await page.getByLabel('生年月日').fill('1900-01-01');
	await page.getByRole('button', { name: '連携する' }).click();
	await expect(page.getByRole('alert')).toHaveText('会員番号と生年月日が一致しません。');
	await expectAccessible(page);
	await expectTouchTargets(page);
});

test('the demo LINE inbox renders each demo member like LINE', async ({ page }) => {
	await page.setViewportSize({ width: 1194, height: 834 });
	await page.goto('/demo/line-inbox');
	await expect(page.getByRole('heading', { level: 1, name: 'デモ: LINEの受信箱' })).toBeVisible();
	await expect(page.getByRole('region', { name: '山田 花子' })).toBeVisible();
	// a message the member sends reaches the server as a signed webhook
	await page.getByRole('region', { name: '山田 花子' }).getByRole('button', { name: '店舗にメッセージを送る' }).click();
	await expectAccessible(page);
	await expectTouchTargets(page);
});
