/**
 * A first day on the floor (issue 15): the tablet installs as an app, an ended session leads
 * back to the staff picker and then to the same screen with the outbox intact, a follow-up
 * cannot go out twice by accident, and Japanese screens carry no English sentences.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from '@playwright/test';
import { chromiumLaunch } from '../../playwright.config.ts';
import { test, expect, expectAccessible, expectTouchTargets, sessionToken } from './fixtures.ts';

test.describe.configure({ timeout: 150_000 });

const MEMBER = '1000000001';

async function enrollAndSignIn(page: Page): Promise<void> {
	await page.goto('/staff');
	await expect(page.getByRole('heading', { name: 'タブレットの登録' })).toBeVisible();
	// Staff codes are printed in capitals but typed either way.
	await page.getByLabel('スタッフコード (店長)').fill('s002');
	await page.getByLabel('PIN').fill('1234');
	await page.getByRole('button', { name: '登録する' }).click();
	await expect(page.getByRole('heading', { name: 'スタッフを選択' })).toBeVisible();
	await page.getByRole('button', { name: /鈴木 健太/ }).click();
	await typePin(page, '1234');
	await expect(page).toHaveURL(/\/staff\/today/);
}

/** A hardware keyboard types the PIN; Enter is the ✓ key. */
async function typePin(page: Page, pin: string): Promise<void> {
	await expect(page.getByTestId('pin-ok')).toBeVisible();
	await page.keyboard.type(pin);
	await page.keyboard.press('Enter');
}

async function customerId(page: Page): Promise<string> {
	const res = await page.request.get(`/api/customers/by-member/${MEMBER}`, { headers: { authorization: `Bearer ${await sessionToken(page)}` } });
	return ((await res.json()) as { id: string }).id;
}

async function outboxCount(page: Page): Promise<number> {
	return page.evaluate(
		() =>
			new Promise<number>((resolve, reject) => {
				const open = indexedDB.open('tsunagu-staff');
				open.onerror = () => reject(open.error);
				open.onsuccess = () => {
					const req = open.result.transaction('outbox').objectStore('outbox').count();
					req.onsuccess = () => {
						open.result.close();
						resolve(req.result);
					};
					req.onerror = () => reject(req.error);
				};
			})
	);
}

/**
 * Three or more English words in a row on a Japanese screen is an untranslated sentence.
 * Product names, codes and numbers are single tokens and pass.
 */
async function expectNoEnglishSentences(page: Page): Promise<void> {
	const text = await page.evaluate(() => document.body.innerText);
	const sentences = text.match(/\b[A-Za-z][a-z']+(?:[ ,]+[A-Za-z][a-z']+){2,}\b/g) ?? [];
	expect(sentences, `English on a ja screen at ${page.url()}`).toEqual([]);
}

test('the tablet is installable: manifest, service worker control, iPad metadata; the LIFF page stays light', async ({ page, baseURL }) => {
	await page.goto('/staff');
	await expect(page.locator('link[rel="manifest"]')).toHaveAttribute('href', '/manifest.webmanifest');
	await expect(page.locator('link[rel="apple-touch-icon"]')).toHaveAttribute('href', /\/apple-touch-icon\.png$/);
	await expect(page.locator('meta[name="apple-mobile-web-app-capable"]')).toHaveAttribute('content', 'yes');
	const manifest = await (await page.request.get('/manifest.webmanifest')).json();
	expect(manifest).toMatchObject({ start_url: '/staff', display: 'standalone', lang: 'ja' });
	await page.waitForFunction(() => navigator.serviceWorker?.controller !== null, undefined, { timeout: 30_000 });

	// Chromium's own installability check, in a normal (not incognito) profile as on a tablet.
	const profile = mkdtempSync(join(tmpdir(), 'tsunagu-pwa-'));
	const browser = await chromium.launchPersistentContext(profile, { ...chromiumLaunch, baseURL, viewport: { width: 1180, height: 820 } });
	try {
		const tablet = browser.pages()[0] ?? (await browser.newPage());
		await tablet.goto('/staff');
		await tablet.waitForFunction(() => navigator.serviceWorker?.controller !== null, undefined, { timeout: 30_000 });
		const cdp = await browser.newCDPSession(tablet);
		const { installabilityErrors } = (await cdp.send('Page.getInstallabilityErrors')) as { installabilityErrors: unknown[] };
		expect(installabilityErrors).toEqual([]);
	} finally {
		await browser.close();
		rmSync(profile, { recursive: true, force: true });
	}

	await page.goto('/manager');
	await expect(page.locator('link[rel="manifest"]')).toHaveCount(1);
	await page.goto('/member');
	await expect(page.locator('link[rel="manifest"]')).toHaveCount(0);
});

test('an ended session returns to the staff picker, keeps the outbox and restores the screen after sign-in', async ({ page, context }) => {
	await enrollAndSignIn(page);
	const id = await customerId(page);
	await page.goto(`/staff/customers/${id}/consult`);
	await expect(page.getByTestId('consult-form')).toBeVisible();

	// An unsent record waits in the outbox (network cut while saving).
	await context.setOffline(true);
	await page.getByLabel('商品名を手入力').fill('レザースニーカー');
	await page.getByRole('button', { name: '手入力で追加' }).click();
	await page.getByLabel('メモ').fill(`e2e session ${Date.now()}`);
	await page.getByRole('button', { name: '保存' }).click();
	await expect(page.getByTestId('sync-status')).toHaveAttribute('data-unsent', '1');
	await expect(page.getByTestId('sync-status')).toContainText('オフライン');

	// The session ends on the server (signed out elsewhere / revoked) while the tablet is away.
	const revoked = await page.request.delete('/api/sessions/current', { headers: { authorization: `Bearer ${await sessionToken(page)}` } });
	expect(revoked.status()).toBe(204);
	await context.setOffline(false);

	// Back online, the first staff call (the unread badge, or any tap) gets 401: the tablet returns
	// by itself to the picker, with the same person's PIN pad ready.
	await expect(page).toHaveURL(/\/staff$/, { timeout: 20_000 });
	await expect(page.getByTestId('signin-again')).toHaveText('もう一度サインインしてください');
	await expect(page.getByRole('heading', { name: /鈴木 健太/ })).toBeVisible();
	await expect(page.locator('header')).not.toContainText('鈴木 健太');
	expect(await outboxCount(page)).toBe(1);
	await expectAccessible(page);
	await expectNoEnglishSentences(page);

	// Signing in again brings back the screen, and the kept record goes out with the new session.
	await typePin(page, '1234');
	await expect(page).toHaveURL(new RegExp(`/staff/customers/${id}/consult$`));
	await expect(page.getByTestId('sync-status')).toHaveAttribute('data-unsent', '0', { timeout: 15_000 });
});

test('a wrong PIN shows attempts left; the ✓ key waits for 4–8 digits', async ({ page }) => {
	await enrollAndSignIn(page);
	await page.getByRole('button', { name: 'ロック' }).click();
	await page.getByRole('button', { name: /鈴木 健太/ }).click();
	for (const d of '123') await page.getByRole('button', { name: d, exact: true }).click();
	await expect(page.getByTestId('pin-ok')).toBeDisabled();
	for (const d of '45678') await page.getByRole('button', { name: d, exact: true }).click();
	// eight digits is the most a PIN has: a ninth is ignored
	await page.getByRole('button', { name: '9', exact: true }).click();
	await expect(page.getByText('8 桁入力済み')).toBeAttached();
	await page.getByTestId('pin-ok').click();
	await expect(page.getByRole('alert')).toContainText('PINが正しくありません');
	await expectNoEnglishSentences(page);
	await page.setViewportSize({ width: 820, height: 1180 });
	await expectTouchTargets(page);
});

test('a follow-up names its recipient, confirms without a template and cannot be sent twice by accident', async ({ page }) => {
	await enrollAndSignIn(page);
	const id = await customerId(page);
	const posts: string[] = [];
	page.on('request', (req) => {
		if (req.method() === 'POST' && new URL(req.url()).pathname === '/api/followups') posts.push(req.postData() ?? '');
	});

	await page.goto(`/staff/customers/${id}/follow-up`);
	const recipient = page.getByTestId('recipient');
	await expect(recipient).toContainText('宛先: 山田 花子 様');
	await expect(recipient).toContainText(`会員番号 ${MEMBER}`);
	await expect(recipient).toContainText('LINEに届きます');

	const text = `本日はご来店ありがとうございました (${Date.now()})`;
	const editor = page.getByRole('textbox', { name: 'メッセージ' });
	await editor.fill(text);
	await page.getByRole('button', { name: '山田 花子 様にLINEで送信' }).click();
	// no template: one tap asks first
	await expect(page.getByTestId('send-confirm')).toContainText('山田 花子 様にこの内容をLINEで送信しますか？');
	expect(posts).toHaveLength(0);
	await expectAccessible(page);
	await page.getByTestId('send-confirm-yes').click();

	await expect(page.getByTestId('followup-status')).toContainText('送信済み: 山田 花子 様');
	await expect(editor).toHaveValue('');
	await expect(page.getByTestId('send-blocked')).toHaveText('メッセージを入力してください');
	expect(posts).toHaveLength(1);
	await expect(page.getByTestId('followup-status')).toHaveAttribute('data-status', 'sent', { timeout: 30_000 });

	// The same message again within minutes: the tablet asks, and "戻る" sends nothing.
	await editor.fill(text);
	await page.getByRole('button', { name: '山田 花子 様にLINEで送信' }).click();
	await expect(page.getByTestId('send-confirm')).toContainText('同じ内容を 1 分前に送信済みです');
	await page.getByRole('button', { name: '戻る' }).click();
	await expect(page.getByTestId('send-confirm')).toHaveCount(0);
	expect(posts).toHaveLength(1);
	await expectNoEnglishSentences(page);

	await page.setViewportSize({ width: 820, height: 1180 });
	await expectTouchTargets(page);
	await page.screenshot({ path: 'test-results/first-day-followup-portrait.png', fullPage: true });
});

test('Japanese screens carry no English sentences (scan, profile, my month, manager sign-in)', async ({ page }) => {
	await enrollAndSignIn(page);
	await expectNoEnglishSentences(page);
	const id = await customerId(page);
	await page.goto(`/staff/customers/${id}`);
	await expect(page.getByTestId('customer-name')).toBeVisible();
	await expectNoEnglishSentences(page);
	await page.goto('/staff/me');
	await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
	await expectNoEnglishSentences(page);
	await page.setViewportSize({ width: 820, height: 1180 });
	await page.screenshot({ path: 'test-results/first-day-me-portrait.png', fullPage: true });
	// a staff member (not a manager) on the manager screens: told where to go instead
	await page.goto('/manager');
	await expect(page.getByRole('link', { name: '今月の成績' }).last()).toBeVisible();
	await expectNoEnglishSentences(page);
});
