/**
 * The full screen walk (issue 15): every staff, manager and member screen at 1180×820 and
 * 820×1180, in Japanese and in English. On each: axe (serious/critical), 44 px touch targets,
 * nothing wider than the screen, no console error, and on Japanese screens no English
 * sentence. Screenshots land in test-results/walk/<lang>-<orientation>-<screen>.png.
 *
 * Problems are collected per screen (soft assertions) so one run lists all of them.
 */
import type { Page } from '@playwright/test';
import { test, expect, expectAccessible, expectTouchTargets } from './fixtures.ts';
import { addDays } from '../../server/shared/jst.ts';

test.describe.configure({ timeout: 420_000 });
test.use({ actionTimeout: 20_000 });

const ORIENTATIONS = {
	landscape: { width: 1180, height: 820 },
	portrait: { width: 820, height: 1180 }
} as const;
type Lang = 'ja' | 'en';
type Orientation = keyof typeof ORIENTATIONS;

/** The first-day suite's scan (tests/e2e/first-day.e2e.ts): three English words in a row. */
async function englishSentences(page: Page): Promise<string[]> {
	const text = await page.evaluate(() => document.body.innerText);
	return text.match(/\b[A-Za-z][a-z']+(?:[ ,]+[A-Za-z][a-z']+){2,}\b/g) ?? [];
}

function walker(page: Page, lang: Lang, orientation: Orientation) {
	const consoleErrors: string[] = [];
	page.on('console', (m) => {
		if (m.type() === 'error') consoleErrors.push(`${new URL(page.url()).pathname}: ${m.text()}`);
	});
	page.on('pageerror', (e) => consoleErrors.push(`${new URL(page.url()).pathname}: ${e.message}`));
	const visited: string[] = [];
	const problems: string[] = [];

	return {
		visited,
		consoleErrors,
		problems,
		/** The checks on the screen as it is now. */
		async check(name: string) {
			// (never 'networkidle': the conversation badge keeps an event stream open)
			await page.waitForTimeout(400);
			await page.evaluate(() => document.fonts.ready);
			visited.push(name);
			await page.screenshot({ path: `test-results/walk/${lang}-${orientation}-${name}.png`, fullPage: true });
			for (const [what, run] of [
				['axe', () => expectAccessible(page)],
				['touch targets', () => expectTouchTargets(page)]
			] as const) {
				try {
					await run();
				} catch (err) {
					problems.push(`${name}: ${what}: ${(err as Error).message.replace(/\u001b\[[0-9;]*m/g, '').replace(/\s+/g, ' ').slice(0, 900)}`);
				}
			}
			// the staff header is one row in both orientations (the screens are in the bottom tab bar)
			const header = await page.evaluate(() => {
				const bar = document.querySelector('.staff-app header.bar');
				const items = bar ? [...bar.children].filter((e) => (e as HTMLElement).offsetParent !== null) : [];
				const centres = items.map((e) => e.getBoundingClientRect().top + e.getBoundingClientRect().height / 2).sort((a, b) => a - b);
				return centres.filter((c, i) => i === 0 || c - centres[i - 1] > 12).length;
			});
			if (header > 1) problems.push(`${name}: the staff header wraps onto ${header} rows`);
			const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
			if (overflow > 0) problems.push(`${name}: wider than the screen by ${overflow}px`);
			if (lang === 'ja') {
				const english = await englishSentences(page);
				if (english.length > 0) problems.push(`${name}: English on a ja screen: ${english.join(' | ')}`);
			}
		}
	};
}

async function setLanguage(page: Page, lang: Lang) {
	await page.evaluate((l) => localStorage.setItem('tsunagu.locale', l), lang);
}

async function typePin(page: Page, pin: string) {
	for (const d of pin) await page.getByRole('button', { name: d, exact: true }).click();
	await page.getByTestId('pin-ok').click();
}

for (const lang of ['ja', 'en'] as const) {
	for (const orientation of ['landscape', 'portrait'] as const) {
		test(`walk: every screen in ${lang}, ${orientation}`, async ({ page }) => {
			await page.setViewportSize(ORIENTATIONS[orientation]);
			const w = walker(page, lang, orientation);
			const en = lang === 'en';

			// ── tablet: enrollment, picker, PIN ────────────────────────────────────────────
			await page.goto('/staff');
			await setLanguage(page, lang);
			// the walk is slow (axe on every screen): no auto-lock in the middle of it
			await page.evaluate(() => localStorage.setItem('tsunagu.autoLockMs', String(3_600_000)));
			await page.reload();
			await expect(page.getByLabel(lang === 'en' ? 'Staff code (manager)' : 'スタッフコード (店長)')).toBeVisible();
			await w.check('staff-enroll');
			await page.getByLabel(en ? 'Staff code (manager)' : 'スタッフコード (店長)').fill('S002');
			await page.getByLabel('PIN').fill('1234');
			await page.getByRole('button', { name: en ? 'Enroll' : '登録する' }).click();
			await expect(page.getByRole('button', { name: /鈴木 健太/ })).toBeVisible();
			await w.check('staff-picker');
			await page.getByRole('button', { name: /鈴木 健太/ }).click();
			await expect(page.getByTestId('pin-ok')).toBeVisible();
			await w.check('staff-pin');
			await typePin(page, '1234');
			await page.waitForURL(/\/staff\/(scan|today)/);
			if (page.url().includes('/staff/today')) await w.check('staff-today');

			// ── scan and search ────────────────────────────────────────────────────────────
			await page.goto('/staff/scan');
			await expect(page.getByTestId('scanner-viewport')).toBeVisible();
			await w.check('staff-scan');
			await page.locator('#customer-q').fill('やまだ');
			await page.locator('form[role=search] button[type=submit]').click();
			await expect(page.getByTestId('search-result').first()).toBeVisible();
			await w.check('staff-search');

			// ── profile, consultation, follow-up ───────────────────────────────────────────
			await page.locator('#member-no').fill('1000000001');
			await page.locator('#member-no').press('Enter');
			await expect(page.getByTestId('customer-name')).toHaveText('山田 花子');
			await expect(page.getByTestId('timeline').locator('li').first()).toBeVisible();
			const id = (await page.getByTestId('profile').getAttribute('data-customer-id'))!;
			await w.check('staff-profile');
			await page.goto(`/staff/customers/${id}/consult`);
			await expect(page.locator('form').first()).toBeVisible();
			await w.check('staff-consult');
			const suggestion = await page.goto(`/staff/customers/${id}`).then(() =>
				page.getByTestId('suggestion-follow-up').or(page.getByTestId('point-follow-up')).first().getAttribute('href')
			);
			await page.goto(suggestion ?? `/staff/customers/${id}/follow-up`);
			await expect(page.getByTestId('recipient')).toBeVisible();
			await page.waitForTimeout(800);
			await w.check('staff-follow-up');

			// ── conversations, my month, PIN change ────────────────────────────────────────
			await page.goto('/staff/conversations');
			await expect(page.locator('h1')).toBeVisible();
			await w.check('staff-conversations');
			const firstConversation = page.locator('a[href^="/staff/conversations/"]').first();
			if (await firstConversation.count()) {
				await firstConversation.click();
				await expect(page).toHaveURL(/\/staff\/conversations\/[0-9a-f-]{36}/);
				await w.check('staff-conversation');
			}
			await page.goto('/staff/me');
			await expect(page.getByTestId('me-definition')).toBeVisible();
			await w.check('staff-me');
			if (en) expect.soft(await page.getByTestId('me-definition').innerText()).not.toMatch(/[\u3040-\u30ff]/);
			await page.goto('/staff/me/pin');
			await expect(page.locator('h1')).toBeVisible();
			await w.check('staff-me-pin');

			// ── manager ────────────────────────────────────────────────────────────────────
			await page.goto('/manager');
			// the tablet's staff session reaches /manager: a plain word that it is for managers
			const staffOnly = page.getByRole('link', { name: en ? 'Go to this month' : '今月の成績へ' });
			const appeared = (l: ReturnType<Page['locator']>) => l.waitFor({ timeout: 8_000 }).then(() => true, () => false);
			if (await appeared(staffOnly)) {
				await w.check('manager-staff-only');
				await page.getByRole('button', { name: en ? 'Sign out' : 'サインアウト' }).click();
			}
			const signIn = page.getByRole('heading', { name: en ? 'Manager sign-in' : 'マネージャーのサインイン' });
			if (await appeared(signIn)) {
				await w.check('manager-sign-in');
				// an enrolled tablet has its store already; a fresh browser picks one
				const store = page.getByLabel(en ? 'Store' : '店舗');
				if (await store.count()) await store.selectOption('shibuya');
				await page.getByLabel(en ? 'Staff code' : 'スタッフコード').fill('S002');
				await page.getByLabel('PIN').fill('1234');
				await page.getByRole('button', { name: en ? 'Sign in' : 'サインイン' }).click();
			}
			await expect(page.getByTestId('date-basis')).toBeVisible();
			await expect(page.locator('table tbody tr').first()).toBeVisible();
			await w.check('manager-sales');
			// an end date before the start date: the charts and the table empty, and the screen says why
			const fromDate = await page.getByLabel(en ? 'From' : '開始日').inputValue();
			await page.getByLabel(en ? 'To' : '終了日', { exact: true }).fill(addDays(fromDate, -1));
			await expect(page.getByRole('alert')).toHaveText(
				en ? 'The end date is before the start date. Choose an end date on or after the start date.' : '終了日が開始日より前になっています。終了日を開始日と同じか後の日付にしてください。'
			);
			await expect(page.locator('figure.chart[data-points="0"]')).toHaveCount(2);
			await expect(page.locator('table tbody tr')).toHaveText([en ? 'Shown once the period is corrected' : '期間を選び直すと表示されます']);
			await w.check('manager-sales-invalid-range');
			await page.getByRole('button', { name: en ? 'This month' : '今月' }).click();
			await expect(page.getByRole('alert')).toHaveCount(0);
			await page.locator('table tbody tr button, table tbody tr a').first().click().catch(() => undefined);
			await page.waitForTimeout(800);
			await w.check('manager-sales-drill');
			for (const screen of ['funnel', 'kpis', 'line']) {
				await page.goto(`/manager/${screen}`);
				await expect(page.locator('h1')).toBeVisible();
				await page.waitForTimeout(800);
				await w.check(`manager-${screen}`);
			}

			// ── member card (LIFF) and the demo LINE inbox ─────────────────────────────────
			await page.goto('/member');
			await expect(page.getByRole('button', { name: /山田 花子/ })).toBeVisible();
			await w.check('member-pick');
			await page.getByRole('button', { name: /山田 花子/ }).click();
			await expect(page.locator('.member-no strong')).toHaveText('1000000001');
			await w.check('member-card');
			await page.goto('/demo/line-inbox');
			await expect(page.locator('h1')).toBeVisible();
			await w.check('demo-line-inbox');

			expect.soft(w.consoleErrors, 'console errors').toEqual([]);
			expect.soft(w.problems, 'problems found on the walk').toEqual([]);
			test.info().annotations.push({ type: 'screens', description: `${lang} ${orientation}: ${w.visited.join(', ')}` });
		});
	}
}
