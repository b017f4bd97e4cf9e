/**
 * The staff tablet end to end at tablet size: enroll, sign in (and a wrong PIN), scan a member
 * QR through the scanner's test hook, see the unified profile, record a consultation with the
 * network cut, reload offline (the shell comes from the service worker), come back online and
 * find the record on the server exactly once.
 */
import type { Page } from '@playwright/test';
import { test, expect, expectAccessible, expectTouchTargets, enrollAndSignIn, sessionToken } from './fixtures.ts';
import { memberQrSigner, mintMemberQr } from '../../server/modules/members/qr-keys.ts';

// Long flows (enroll → sign in → scan → offline → reload → sync) on a shared 2-core CI machine.
test.describe.configure({ timeout: 150_000 });

/** The scanner's test hook (src/lib/scanner/index.ts), seen from the test's side. */
declare global {
	interface Window {
		__tsunaguScanner?: { inject(text: string): void };
	}
}

const FEATURED = { memberNo: '1000000001', name: '山田 花子' };
const OTHER_MEMBER = '1000000002';
/** Not a member of the demo brand: typed by hand, offline. */
const TYPED_UNKNOWN = '1999999990';

async function memberQr(memberNo: string, customerId: string): Promise<string> {
	// The demo server signs with the committed demo key (MEMBER_QR_PRIVATE_KEY unset); so does this.
	return (await mintMemberQr(await memberQrSigner(undefined), { customerId, memberNo })).token;
}

/** Profile views shown offline, waiting for the audit log (src/lib/offline/audit-views.ts). */
async function pendingAuditViews(page: Page): Promise<Array<{ customerId: string; via: string }>> {
	return page.evaluate(
		() =>
			new Promise<Array<{ customerId: string; via: string }>>((resolve, reject) => {
				const open = indexedDB.open('tsunagu-staff');
				open.onerror = () => reject(open.error);
				open.onsuccess = () => {
					const req = open.result.transaction('auditViews').objectStore('auditViews').getAll();
					req.onsuccess = () => {
						open.result.close();
						resolve(req.result);
					};
					req.onerror = () => reject(req.error);
				};
			})
	);
}

async function outboxIds(page: Page): Promise<string[]> {
	return page.evaluate(
		() =>
			new Promise<string[]>((resolve, reject) => {
				const open = indexedDB.open('tsunagu-staff');
				open.onerror = () => reject(open.error);
				open.onsuccess = () => {
					const req = open.result.transaction('outbox').objectStore('outbox').getAllKeys();
					req.onsuccess = () => resolve(req.result as string[]);
					req.onerror = () => reject(req.error);
				};
			})
	);
}

test('enrollment and sign-in screens are accessible, and a wrong PIN is refused with attempts left', async ({ page }) => {
	await page.goto('/staff');
	await expect(page.getByRole('heading', { name: 'タブレットの登録' })).toBeVisible();
	await expect(page.getByLabel('店舗')).toHaveValue('shibuya');
	await expectAccessible(page);
	await expectTouchTargets(page);

	await page.getByLabel('スタッフコード (店長)').fill('S003');
	await page.getByLabel('PIN').fill('1234');
	await page.getByRole('button', { name: '登録する' }).click();
	await expect(page.getByRole('alert')).toHaveText('この操作は店長または管理者のみ行えます。店長にサインインしてもらってください。');

	await page.getByLabel('スタッフコード (店長)').fill('S002');
	await page.getByLabel('PIN').fill('1234');
	await page.getByRole('button', { name: '登録する' }).click();
	await expect(page.getByRole('heading', { name: 'スタッフを選択' })).toBeVisible();
	await expectAccessible(page);
	await expectTouchTargets(page);

	await page.getByRole('button', { name: /高橋 彩/ }).click();
	await expectAccessible(page);
	await expectTouchTargets(page);
	for (const d of '9999') await page.getByRole('button', { name: d, exact: true }).click();
	await page.getByTestId('pin-ok').click();
	await expect(page.getByRole('alert')).toContainText('PINが正しくありません');
	await expect(page.getByRole('alert')).toContainText('残り 4 回');
	await page.setViewportSize({ width: 834, height: 1194 });
	await expectTouchTargets(page);
	await page.screenshot({ path: 'test-results/staff-pin-portrait.png' });

	// Auto-lock: with a 2 s idle limit configured on this tablet, the session ends by itself.
	await page.evaluate(() => localStorage.setItem('tsunagu.autoLockMs', '2000'));
	await page.reload();
	await page.getByRole('button', { name: /高橋 彩/ }).click();
	for (const d of '1234') await page.getByRole('button', { name: d, exact: true }).click();
	await page.getByTestId('pin-ok').click();
	await expect(page).toHaveURL(/\/staff\/today/);
	await expect(page.getByRole('heading', { name: 'スタッフを選択' })).toBeVisible({ timeout: 15_000 });
	expect(await page.evaluate(() => localStorage.getItem('tsunagu.session'))).toBeNull();
});

test('scan → profile → consultation offline → reload → online: synced exactly once', async ({ page, context, request }) => {
	await enrollAndSignIn(page);
	// The service worker takes the page over on first install (clientsClaim) so reloads work offline.
	await page.waitForFunction(() => navigator.serviceWorker?.controller !== null, undefined, { timeout: 20_000 });
	const token = await sessionToken(page);
	const auth = { authorization: `Bearer ${token}` };
	const byMember = await request.get(`/api/customers/by-member/${FEATURED.memberNo}`, { headers: auth });
	expect(byMember.status()).toBe(200);
	const { id: customerId } = (await byMember.json()) as { id: string };

	await page.goto('/staff/scan?scannerTest=1');
	await expect(page.getByRole('heading', { name: '会員QRを読み取る' })).toBeVisible();
	await expectAccessible(page);
	await expectTouchTargets(page);
	await page.waitForFunction(() => window.__tsunaguScanner !== undefined);
	const qr = await memberQr(FEATURED.memberNo, customerId);
	await page.evaluate((text) => window.__tsunaguScanner!.inject(text), qr);

	await expect(page).toHaveURL(new RegExp(`/staff/customers/${customerId}\\?via=scan`));
	await expect(page.getByTestId('customer-name')).toHaveText(FEATURED.name);
	await expect(page.getByTestId('state-badge').first()).toHaveAttribute('data-state', 'cross_channel');
	await expect(page.getByTestId('timeline').locator('li').first()).toBeVisible();
	await expectAccessible(page);
	await expectTouchTargets(page);
	await page.getByRole('group', { name: '履歴の絞り込み' }).getByRole('button', { name: 'EC注文' }).click();
	await expect(page.getByTestId('timeline').locator('li.ec_order').first()).toBeVisible();
	expect(await page.getByTestId('timeline').locator('li:not(.ec_order)').count()).toBe(0);
	await page.setViewportSize({ width: 834, height: 1194 });
	await expectTouchTargets(page);
	await page.screenshot({ path: 'test-results/staff-profile-portrait.png', fullPage: true });
	await page.setViewportSize({ width: 1194, height: 834 });

	await page.getByRole('link', { name: '接客記録を書く' }).click();
	await expect(page.getByTestId('consult-form')).toBeVisible();
	await expectAccessible(page);
	await expectTouchTargets(page);

	// Network cut: the record goes to the outbox.
	await context.setOffline(true);
	await expect(page.getByTestId('sync-status')).toContainText('オフライン');
	const note = `e2e offline note ${Date.now()}`;
	await page.getByLabel('商品名を手入力').fill('レザースニーカー');
	await page.getByRole('button', { name: '手入力で追加' }).click();
	await page.getByLabel('メモ').fill(note);
	// sizes come from the brand's lists (kept on the tablet), one picker per category, not free text
	await expect(page.getByTestId('consult-sizes').getByRole('textbox')).toHaveCount(0);
	await page.getByTestId('size-shoes').selectOption('24.5');
	await page.getByLabel('次回アクション').fill('新色入荷の連絡');
	await page.getByLabel('期日').fill('2030-01-15');
	await page.getByRole('button', { name: '保存' }).click();
	await expect(page.getByTestId('consult-saved')).toHaveText('端末に保存しました。オンラインになると送信されます');
	await expect(page.getByTestId('sync-status')).toHaveAttribute('data-unsent', '1');
	const ids = await outboxIds(page);
	expect(ids).toHaveLength(1);

	// Reload while offline: the app shell comes from the service worker, the record from IndexedDB.
	await page.reload();
	await expect(page.getByTestId('consult-form')).toBeVisible();
	await expect(page.getByTestId('sync-status')).toHaveAttribute('data-unsent', '1');
	await expect(page.getByTestId('unsent-count')).toContainText('未送信 1件');

	// Offline scan of a member this tablet never opened: "not on this tablet", still recordable.
	await page.goto('/staff/scan?scannerTest=1');
	await page.waitForFunction(() => window.__tsunaguScanner !== undefined);
	await page.evaluate((text) => window.__tsunaguScanner!.inject(text), await memberQr(OTHER_MEMBER, 'unknown'));
	await expect(page.getByTestId('not-cached')).toContainText(OTHER_MEMBER);
	await expectAccessible(page);

	// A typed member number the tablet does not hold: a warning, an unconfirmed number (no 「さん」), still recordable.
	await page.goto('/staff/scan');
	await page.getByLabel('会員番号', { exact: true }).fill(TYPED_UNKNOWN);
	await page.getByRole('button', { name: '開く' }).click();
	await expect(page.getByTestId('not-cached').getByRole('heading')).toHaveText('この会員番号はこの端末にありません');
	await expect(page.getByTestId('consult-subject')).toHaveText(`未確認の会員番号 ${TYPED_UNKNOWN}`);
	await expectAccessible(page);
	await expectTouchTargets(page);
	await page.screenshot({ path: 'test-results/staff-typed-unknown-member.png' });
	await page.getByLabel('メモ').fill(`${note} typed`);
	await page.getByRole('button', { name: '保存' }).click();
	await expect(page.getByTestId('consult-saved')).toHaveText('端末に保存しました。オンラインになると送信されます');

	// Offline scan of the cached member opens the saved profile.
	await page.goto('/staff/scan?scannerTest=1');
	await page.waitForFunction(() => window.__tsunaguScanner !== undefined);
	await page.evaluate((text) => window.__tsunaguScanner!.inject(text), qr);
	await expect(page.getByTestId('customer-name')).toHaveText(FEATURED.name);
	await expect(page.getByRole('status').filter({ hasText: '保存データ' })).toBeVisible();
	// That opening reached no server, so the tablet queued its audit entry.
	await expect.poll(() => pendingAuditViews(page)).toEqual([expect.objectContaining({ customerId, via: 'scan' })]);

	// Back online: the outbox drains, and so do the queued profile views.
	await context.setOffline(false);
	await expect(page.getByTestId('sync-status')).toHaveAttribute('data-unsent', '0', { timeout: 15_000 });
	await expect.poll(() => pendingAuditViews(page), { timeout: 15_000 }).toEqual([]);

	const list = await request.get(`/api/customers/${customerId}/consultations`, { headers: auth });
	expect(list.status()).toBe(200);
	const { consultations } = (await list.json()) as { consultations: Array<{ id: string; notes: string; staffName: string; sizes: Record<string, string> }> };
	const mine = consultations.filter((c) => c.notes === note);
	expect(mine).toHaveLength(1);
	expect(mine[0].id).toBe(ids[0]);
	expect(mine[0].sizes).toEqual({ shoes: '24.5' });
	expect(mine[0].staffName).toBe('鈴木 健太');

	// A late duplicate replay (lost ack) is answered 200 and still stored once.
	const replay = await request.put(`/api/consultations/${ids[0]}`, {
		headers: auth,
		data: { customerId, occurredAt: new Date().toISOString(), items: [], sizes: {}, notes: note, tags: [] }
	});
	expect(replay.status()).toBe(200);
	const again = (await (await request.get(`/api/customers/${customerId}/consultations`, { headers: auth })).json()) as { consultations: Array<{ notes: string }> };
	expect(again.consultations.filter((c) => c.notes === note)).toHaveLength(1);
});
