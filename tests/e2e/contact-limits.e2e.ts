/**
 * Contact limits on the tablet (issue 11 §3): with the brand's limit at one message per 7 days
 * (set here through the settings API), S003 sends a follow-up → the compose screen says who
 * contacted the customer last and blocks a second send with the Japanese reason; a second
 * tablet that opened the screen before the send is refused by the server, in Japanese; then the
 * manager signs in on the tablet and sends over the limit with a reason.
 */
import type { Page } from '@playwright/test';
import { test, expect, expectAccessible, expectTouchTargets, enrollAndSignIn, sessionToken } from './fixtures.ts';
import { E2E_CONTACT_SETTINGS, managerToken, putContactSettings } from './setup.ts';


/** A demo member S003 may message now (LINE friend, consent, no contact yet in this run). */
async function reachableMember(page: Page): Promise<string> {
	const auth = { authorization: `Bearer ${await sessionToken(page)}` };
	for (let n = 1000000040; n < 1000000200; n++) {
		const res = await page.request.get(`/api/customers/by-member/${n}`, { headers: auth });
		if (!res.ok()) continue;
		const m = await res.json();
		const id: string = m.id ?? m.customer?.id ?? m.customerId;
		const ctx = await (await page.request.get(`/api/followups/compose/${id}`, { headers: auth })).json();
		if (ctx.eligibility?.allowed && ctx.contact?.allowed && ctx.contact.lastContact === null) return id;
	}
	throw new Error('no reachable demo member');
}

test('send once → the second send to the same customer is blocked with the reason; a manager overrides with a reason', async ({ page, context, baseURL }) => {
	test.setTimeout(120_000);
	const manager = await managerToken(baseURL!);
	// the production limit, any hour of the day
	await putContactSettings(baseURL!, manager, { maxPer7Days: 1, maxPer30Days: 4, quietHours: null });
	try {
		await enrollAndSignIn(page);
		const customerId = await reachableMember(page);
		const url = `/staff/customers/${customerId}/follow-up`;

		// a second tablet opens the same customer before anything is sent
		const other = await context.newPage();
		await other.goto(url);
		await expect(other.getByTestId('last-contact')).toHaveText('最終連絡: まだスタッフからの連絡はありません');

		await page.goto(url);
		await expect(page.getByTestId('contact-panel')).toContainText('7日間: あと 1 回（7日間で1回まで）');
		await page.getByRole('button', { name: '入荷のお知らせ' }).click();
		await page.getByRole('button', { name: /LINEで送信/ }).click();
		await expect(page.getByTestId('followup-status')).toHaveAttribute('data-status', /queued|sending|sent/);

		// the screen now says who contacted last and refuses a second send, in Japanese
		await expect(page.getByTestId('last-contact')).toHaveText('最終連絡: 今日 鈴木 健太（渋谷店）LINE');
		await page.getByRole('button', { name: '入荷のお知らせ' }).click();
		const blocked = page.getByTestId('send-blocked');
		await expect(blocked).toContainText('このお客様には直近7日間に1回連絡済みのため、送信できません（全スタッフ合計）。次に送信できるのは');
		await expect(blocked).toContainText('店長にサインインしてもらうと');
		await expect(blocked).not.toContainText('contact_limit');
		await expect(page.getByRole('button', { name: /LINEで送信/ })).toBeDisabled();
		await expectAccessible(page);
		await expectTouchTargets(page);
		await page.screenshot({ path: 'test-results/contact-limits-1-blocked.png', fullPage: true });

		// the other tablet still shows the old allowance: the server refuses its send
		await other.getByRole('button', { name: '入荷のお知らせ' }).click();
		await other.getByRole('button', { name: /LINEで送信/ }).click();
		await expect(other.getByRole('alert')).toContainText('直近7日間に送れる回数のメッセージを送信済み');
		await expect(other.getByTestId('send-blocked')).toContainText('直近7日間に1回連絡済み');
		await other.close();

		// the manager signs in on this tablet: the override asks for a reason
		const device = await page.evaluate(() => (JSON.parse(localStorage.getItem('tsunagu.device') ?? '{}') as { token: string }).token);
		const staff = await (await page.request.get('/api/devices/me', { headers: { authorization: `Device ${device}` } })).json();
		const s002 = staff.staff.find((s: { staffCode: string }) => s.staffCode === 'S002');
		const signedIn = await (await page.request.post('/api/sessions', { headers: { authorization: `Device ${device}` }, data: { staffId: s002.id, pin: '1234' } })).json();
		await page.evaluate((s) => localStorage.setItem('tsunagu.session', JSON.stringify(s)), signedIn);
		await page.goto(url);
		await expect(page.getByTestId('last-contact')).toHaveText('最終連絡: 今日 鈴木 健太（渋谷店）LINE');
		await page.getByRole('button', { name: '入荷のお知らせ' }).click();
		const override = page.getByTestId('override');
		await expect(override.getByRole('button', { name: '理由を記録して送信' })).toBeDisabled();
		await override.getByLabel('上限を超えて送る理由（記録されます）').fill('お取り置き商品の入荷をお客様からご依頼いただいたため');
		await expectAccessible(page);
		await page.screenshot({ path: 'test-results/contact-limits-2-override.png', fullPage: true });
		await override.getByRole('button', { name: '理由を記録して送信' }).click();
		await expect(page.getByTestId('followup-status')).toHaveAttribute('data-status', /queued|sending|sent/);
		const overrides = await (await page.request.get('/api/contact/overrides', { headers: { authorization: `Bearer ${signedIn.token}` } })).json();
		expect(overrides.overrides[0]).toMatchObject({ customerId, reason: 'お取り置き商品の入荷をお客様からご依頼いただいたため', by: '佐藤 美咲' });
	} finally {
		await putContactSettings(baseURL!, manager, E2E_CONTACT_SETTINGS);
	}
});

test('a message composed during quiet hours is scheduled for their end and shown as 予約済み', async ({ page, baseURL }) => {
	test.setTimeout(120_000);
	const manager = await managerToken(baseURL!);
	// quiet hours around the current JST time, whatever the hour the suite runs at
	const hhmm = (ms: number) => new Date(ms + 9 * 3_600_000).toISOString().slice(11, 16);
	const end = hhmm(Date.now() + 60 * 60_000);
	await putContactSettings(baseURL!, manager, { maxPer7Days: 1, maxPer30Days: 4, quietHours: { start: hhmm(Date.now() - 60 * 60_000), end } });
	try {
		await enrollAndSignIn(page);
		const customerId = await reachableMember(page);
		await page.goto(`/staff/customers/${customerId}/follow-up`);
		const endLabel = end.replace(/^0/, '');
		await expect(page.getByTestId('send-scheduled')).toContainText(`今は配信停止時間のため、`);
		await expect(page.getByTestId('send-scheduled')).toContainText(`${endLabel} に送信します（予約）`);
		await page.getByRole('button', { name: '入荷のお知らせ' }).click();
		await page.getByRole('button', { name: /様に予約送信/ }).click();
		const status = page.getByTestId('followup-status');
		await expect(status).toHaveAttribute('data-status', 'scheduled');
		await expect(status).toContainText(`予約済み（`);
		await expect(status).toContainText(`${endLabel} に送信）`);
		await expectAccessible(page);
		await page.screenshot({ path: 'test-results/contact-limits-3-scheduled.png', fullPage: true });
	} finally {
		await putContactSettings(baseURL!, manager, E2E_CONTACT_SETTINGS);
	}
});
