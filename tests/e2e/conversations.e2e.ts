/**
 * Two-way LINE conversation on one machine: 山田 花子 writes to the store in the demo LINE
 * inbox (a signed webhook) → the unread badge appears on S003's tablet (event stream) → S003
 * answers inside the reply window: the sandbox records a free reply → she writes again and the
 * (shortened, brand-setting) window passes → the next answer is a push → both reach her inbox.
 */
import type { Page } from '@playwright/test';
import { test, expect, expectAccessible, expectTouchTargets, enrollAndSignIn } from './fixtures.ts';

const WINDOW_SECONDS = 25;

/** The brand shortens the free-reply window (a manager's setting) so the test need not wait 50 s. */
async function shortenReplyWindow(page: Page): Promise<void> {
	const device = await page.evaluate(() => (JSON.parse(localStorage.getItem('tsunagu.device') ?? '{}') as { token: string }).token);
	const staff = await (await page.request.get('/api/devices/me', { headers: { authorization: `Device ${device}` } })).json();
	const manager = staff.staff.find((s: { staffCode: string }) => s.staffCode === 'S002');
	const session = await (await page.request.post('/api/sessions', { headers: { authorization: `Device ${device}` }, data: { staffId: manager.id, pin: '1234' } })).json();
	const res = await page.request.put('/api/conversations/settings', { headers: { authorization: `Bearer ${session.token}` }, data: { replyWindowSeconds: WINDOW_SECONDS } });
	expect(res.status()).toBe(200);
}

type InboxEntry = { message: { text?: string }; from?: string; delivery?: string; readAt?: string };
async function hanakosInbox(page: Page): Promise<InboxEntry[]> {
	const { inboxes } = (await (await page.request.get('/sandbox/line/inboxes')).json()) as { inboxes: Array<{ name: string; messages: InboxEntry[] }> };
	return inboxes.find((i) => i.name === '山田 花子')?.messages ?? [];
}

test('customer writes in LINE → badge → free reply inside the window → push after it → both in her inbox', async ({ page, context }) => {
	test.setTimeout(120_000);
	await enrollAndSignIn(page);
	await shortenReplyWindow(page);
	await expect(page.getByTestId('unread-badge')).toHaveCount(0);

	// 山田 花子 writes to the store in LINE (the demo inbox sends a signed webhook)
	const line = await context.newPage();
	await line.goto('/demo/line-inbox');
	const chat = line.getByRole('region', { name: '山田 花子' });
	await chat.getByLabel('メッセージを入力').fill('ありがとうございます。週末に来店します！');
	await chat.getByRole('button', { name: '送信', exact: true }).click();
	await expect(chat.getByTestId('user-message').last()).toContainText('週末に来店します');

	// the badge appears on the tablet without reloading
	await expect(page.getByTestId('unread-badge')).toHaveText('1', { timeout: 15_000 });
	await page.screenshot({ path: 'test-results/conv-1-badge.png' });
	await page.getByTestId('conversations-link').click();
	// no follow-up or 担当 ties her to S003 yet: her message waits in the 渋谷店 queue
	await page.getByRole('tab', { name: '店舗' }).click();
	await expect(page.getByTestId('conversation-list')).toContainText('山田 花子');
	await expect(page.getByTestId('conversation-list')).toContainText('週末に来店します');
	await page.getByTestId('conversation-list').getByRole('link').filter({ hasText: '山田 花子' }).click();

	// inside the window: the compose box says it is free, and the sandbox records a reply
	const panel = page.getByTestId('conversation');
	await expect(panel.getByTestId('conversation-messages')).toContainText('週末に来店します');
	await expect(panel.getByTestId('delivery-hint')).toHaveText(/^無料で返信できます（残り \d+ 秒）$/);
	await expect(page.getByTestId('unread-badge')).toHaveCount(0);
	await page.screenshot({ path: 'test-results/conv-2-free-reply.png', fullPage: true });
	await panel.getByLabel('返信').fill('{customerName}様、お待ちしております！');
	await panel.getByRole('button', { name: '送信', exact: true }).click();
	await expect(panel.getByTestId('compose-notice')).toHaveText('無料返信で送信しました');
	await expect.poll(async () => (await hanakosInbox(page)).filter((e) => e.delivery === 'reply').map((e) => e.message.text)).toEqual(['山田 花子様、お待ちしております！']);
	await expectAccessible(page);
	await expectTouchTargets(page);

	// she writes again; once the window has passed, the next answer is a (counted) push
	await chat.getByLabel('メッセージを入力').fill('駐車場はありますか？');
	await chat.getByRole('button', { name: '送信', exact: true }).click();
	await expect(panel.getByTestId('conversation-messages')).toContainText('駐車場はありますか？', { timeout: 15_000 });
	await expect(panel.getByTestId('delivery-hint')).toHaveText('通常メッセージとして送信（月間通数を消費）', { timeout: (WINDOW_SECONDS + 5) * 1000 });
	await page.setViewportSize({ width: 820, height: 1180 });
	await expectTouchTargets(page);
	await page.screenshot({ path: 'test-results/conv-3-push-portrait.png', fullPage: true });
	await panel.getByLabel('返信').fill('近隣のコインパーキングをご利用ください。');
	await panel.getByRole('button', { name: '送信', exact: true }).click();
	await expect(panel.getByTestId('compose-notice')).toHaveText('通常メッセージとして送信しました');

	// it appears in her LINE, as a push
	await expect(chat).toContainText('近隣のコインパーキングをご利用ください。', { timeout: 20_000 });
	const entries = await hanakosInbox(page);
	expect(entries.filter((e) => e.delivery === 'push').map((e) => e.message.text)).toContain('近隣のコインパーキングをご利用ください。');
	expect(entries.filter((e) => e.delivery === 'reply')).toHaveLength(1);
	await line.screenshot({ path: 'test-results/conv-4-line-inbox.png', fullPage: true });

	// the same conversation sits on her profile, beside the timeline
	const token = await page.evaluate(() => (JSON.parse(localStorage.getItem('tsunagu.session') ?? '{}') as { token: string }).token);
	const list = await (await page.request.get('/api/conversations?tab=store', { headers: { authorization: `Bearer ${token}` } })).json();
	const customerId = list.conversations.find((c: { name: string }) => c.name === '山田 花子').customerId;
	await page.setViewportSize({ width: 1180, height: 820 });
	await page.goto(`/staff/customers/${customerId}`);
	await expect(page.getByTestId('conversation')).toContainText('近隣のコインパーキングをご利用ください。');
	await expect(page.getByTestId('timeline')).toBeVisible();
	await page.screenshot({ path: 'test-results/conv-5-profile.png', fullPage: true });

	// offline: the answer waits in the tablet's outbox and goes out (as a push) when the network is back
	await context.setOffline(true);
	const onProfile = page.getByTestId('conversation');
	await onProfile.getByLabel('返信').fill('オフラインで書いた返信です');
	await onProfile.getByRole('button', { name: '送信', exact: true }).click();
	await expect(onProfile.getByTestId('compose-notice')).toHaveText('オフラインです。接続が戻ると通常メッセージとして送信します');
	await context.setOffline(false);
	await expect.poll(async () => (await hanakosInbox(page)).filter((e) => e.delivery === 'push').map((e) => e.message.text), { timeout: 30_000 }).toContain('オフラインで書いた返信です');
});
