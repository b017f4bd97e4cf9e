import { test as base, expect, type Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';

/** Fails on any serious or critical axe violation, listing them readably. */
export async function expectAccessible(page: Page): Promise<void> {
	const results = await new AxeBuilder({ page }).analyze();
	const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
	expect(serious.map((v) => `${v.id}: ${v.help} (${v.nodes.length} nodes: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')})`)).toEqual([]);
}

/** Every visible button, link styled as a button, and input is at least 44×44 px. */
export async function expectTouchTargets(page: Page): Promise<void> {
	const small = await page.evaluate(() => {
		const els = Array.from(document.querySelectorAll<HTMLElement>('button, a.button, a.card, input:not([type=hidden]), select, [role=button]'));
		return els
			.filter((el) => el.offsetParent !== null)
			.map((el) => ({ el, r: el.getBoundingClientRect() }))
			.filter(({ r }) => r.width > 0 && (r.height < 44 || r.width < 44))
			.map(({ el, r }) => `${el.tagName.toLowerCase()} "${(el.textContent ?? '').trim().slice(0, 30)}" ${Math.round(r.width)}×${Math.round(r.height)}`);
	});
	expect(small).toEqual([]);
}

/**
 * Every e2e test runs under the server's Content-Security-Policy and fails on any violation,
 * so each screen any test opens is checked (`securitypolicyviolation` events, reported from the
 * page through a binding).
 */
export const test = base.extend<{ cspGuard: void }>({
	cspGuard: [
		async ({ context }, use) => {
			const violations: string[] = [];
			await context.exposeBinding('__tsunaguCspViolation', (_source, text: string) => {
				violations.push(text);
			});
			await context.addInitScript(() => {
				document.addEventListener('securitypolicyviolation', (e) => {
					const report = (window as unknown as { __tsunaguCspViolation?: (t: string) => void }).__tsunaguCspViolation;
					report?.(`${e.effectiveDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber}) on ${location.pathname}`);
				});
			});
			await use();
			expect(violations, 'Content-Security-Policy violations').toEqual([]);
		},
		{ auto: true }
	]
});
export { expect };

/**
 * Enrols the tablet with the store manager's code (S002) and signs a staff member in with PIN
 * 1234 — S003 鈴木 健太 unless another name is given; sign-in lands on today's list.
 */
export async function enrollAndSignIn(page: Page, staffName: RegExp = /鈴木 健太/): Promise<void> {
	await page.goto('/staff');
	await expect(page.getByRole('heading', { name: 'タブレットの登録' })).toBeVisible();
	await page.getByLabel('スタッフコード (店長)').fill('S002');
	await page.getByLabel('PIN').fill('1234');
	await page.getByRole('button', { name: '登録する' }).click();
	await expect(page.getByRole('heading', { name: 'スタッフを選択' })).toBeVisible();
	await page.getByRole('button', { name: staffName }).click();
	for (const d of '1234') await page.getByRole('button', { name: d, exact: true }).click();
	await page.getByTestId('pin-ok').click();
	await expect(page).toHaveURL(/\/staff\/today/, { timeout: 20_000 });
}

/** The signed-in tablet's session token (for API calls beside the screen). */
export function sessionToken(page: Page): Promise<string> {
	return page.evaluate(() => (JSON.parse(localStorage.getItem('tsunagu.session') ?? '{}') as { token: string }).token);
}

/**
 * Signs in on /manager for the Shibuya store with PIN 1234 — S002 (the store manager) unless
 * another code is given (S001 is the admin); lands on the first report.
 */
export async function signInManager(page: Page, staffCode = 'S002'): Promise<void> {
	await page.goto('/manager');
	await page.getByLabel('店舗').selectOption('shibuya');
	await page.getByLabel('スタッフコード').fill(staffCode);
	await page.getByLabel('PIN').fill('1234');
	await page.getByRole('button', { name: 'サインイン' }).click();
	await expect(page.getByRole('heading', { level: 1, name: 'スタッフ経由EC売上' })).toBeVisible();
}
