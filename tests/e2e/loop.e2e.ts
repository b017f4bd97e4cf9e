/**
 * The whole follow-up loop on one machine: S003 composes a LINE follow-up with an EC product
 * for member 1000000001 on the tablet → it arrives in the demo LINE inbox → the customer taps
 * "ECで見る" → the demo shop's product page (ref carried by /sdk/ref.js into the cart) → buys →
 * the order is attributed to S003 (checked through the database-backed API state).
 */
import { test, expect, expectAccessible, expectTouchTargets, enrollAndSignIn, sessionToken } from './fixtures.ts';

const MEMBER = '1000000001';


test('compose → LINE inbox → tap → demo shop → buy → attributed to S003', async ({ page, context }) => {
	test.setTimeout(120_000);
	await enrollAndSignIn(page);
	const auth = { authorization: `Bearer ${await sessionToken(page)}` };
	const member = await (await page.request.get(`/api/customers/by-member/${MEMBER}`, { headers: auth })).json();
	const customerId: string = member.id ?? member.customer?.id ?? member.customerId;
	expect(customerId).toBeTruthy();

	// compose on the tablet
	await page.goto(`/staff/customers/${customerId}/follow-up`);
	await expect(page.getByRole('heading', { name: 'LINEでフォロー' })).toBeVisible();
	await expect(page.getByTestId('send-blocked')).toHaveText('メッセージを入力してください');
	await page.getByRole('button', { name: '入荷のお知らせ' }).click();
	await expect(page.getByTestId('line-preview')).toContainText('山田 花子様');
	await page.getByLabel('商品を検索').fill('コート');
	await page.getByRole('button', { name: '検索', exact: true }).click();
	const firstResult = page.locator('.results li').first();
	await expect(firstResult).toBeVisible();
	const productName = (await firstResult.locator('span').first().innerText()).split(' ')[0];
	await firstResult.getByRole('button', { name: '追加' }).click();
	await expect(page.getByTestId('line-preview')).toContainText('ECで見る');
	await expectAccessible(page);
	await expectTouchTargets(page);
	await page.setViewportSize({ width: 834, height: 1194 });
	await expectTouchTargets(page);
	await page.getByRole('button', { name: /LINEで送信/ }).click();
	await expect(page.getByTestId('followup-status')).toHaveAttribute('data-status', 'sent', { timeout: 30_000 });
	await page.screenshot({ path: 'test-results/loop-1-compose-portrait.png', fullPage: true });

	// the customer's LINE
	await page.goto('/demo/line-inbox');
	const ecButton = page.getByRole('link', { name: 'ECで見る' }).last();
	await expect(ecButton).toBeVisible({ timeout: 15_000 });
	const href = await ecButton.getAttribute('href');
	expect(href).toMatch(/\/l\/[0-9A-Za-z]{22}$/);
	const code = href!.split('/l/')[1];
	await page.screenshot({ path: 'test-results/loop-2-line-inbox.png', fullPage: true });

	// tap → redirect → demo shop product page with the ref; ref.js puts it into the cart
	const shop = await context.newPage();
	await shop.goto(new URL(href!).pathname);
	await expect(shop).toHaveURL(new RegExp(`/shop/products/.+tsunagu_ref=${code}`));
	await expect(shop.getByRole('heading', { level: 1 })).toContainText(productName.slice(0, 4));
	await shop.waitForFunction(() => (window as unknown as { tsunaguRefReady?: Promise<unknown> }).tsunaguRefReady !== undefined);
	await shop.evaluate(() => (window as unknown as { tsunaguRefReady: Promise<unknown> }).tsunaguRefReady);
	await shop.screenshot({ path: 'test-results/loop-3-shop-product.png', fullPage: true });
	await shop.getByRole('button', { name: 'カートに入れる' }).click();
	await expect(shop.getByRole('heading', { name: 'カート' })).toBeVisible();
	await shop.getByLabel('メールアドレス').fill('guest.buyer@example.jp');
	await shop.getByRole('button', { name: '注文を確定する' }).click();
	const orderId = await shop.getByTestId('order-id').innerText();
	await shop.screenshot({ path: 'test-results/loop-4-order-placed.png', fullPage: true });

	// attributed to S003 by the ref rule (polls the API until the webhook inbox has processed it)
	await expect
		.poll(async () => {
			const res = await page.request.get(`/shop/api/attribution/${orderId}`);
			return res.ok() ? (await res.json()).staffCode : null;
		}, { timeout: 30_000 })
		.toBe('S003');
	const attribution = await (await page.request.get(`/shop/api/attribution/${orderId}`)).json();
	expect(attribution).toMatchObject({ rule: 'ref', linkCode: code, status: 'active' });
});
