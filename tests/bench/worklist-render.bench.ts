/**
 * `npm run bench:worklist-render`: how long today's list (今日の連絡) takes to appear on a tablet,
 * in headless Chromium (/usr/bin/chromium, the flags of playwright.config.ts) driven over CDP
 * with the CPU slowed 4× (`Emulation.setCPUThrottlingRate`), a stand-in for a mid-range tablet.
 * Needs a build (`npm run build`); starts the e2e server (demo brand, in-memory PGlite) on
 * BENCH_PORT (default 4230) and stops it at the end.
 *
 * Each figure over `--runs` tries after two warm-up ones, up to the first list item in the DOM
 * (read in the page by a MutationObserver), online (the list from GET /api/worklist/today) and
 * offline (the browser offline, the list from the tablet's saved copy in IndexedDB):
 *  - opening the app on the list: a reload, from navigation start (the document's time origin),
 *    the app shell from the service worker's cache — boot and list together;
 *  - in the open app: a tap on 今日の連絡 in the header (from the client book), from the tap.
 * Targets: ≤ 1 s at 4× throttle; ≤ 300 ms from the offline cache.
 *
 *   npm run build && npm run bench:worklist-render [-- --runs 15] [-- --throttle 4]
 */
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { chromium, type Page } from '@playwright/test';
import { chromiumLaunch } from '../../playwright.config.ts';
import { startDemoServer } from './demo-server.ts';

const { values } = parseArgs({
	options: {
		runs: { type: 'string', default: '15' },
		throttle: { type: 'string', default: '4' }
	}
});
const RUNS = Number(values.runs);
const THROTTLE = Number(values.throttle);
const PORT = Number(process.env.BENCH_PORT ?? 4230);
const BASE = `http://127.0.0.1:${PORT}`;

/** Records, in every document, when the first list item enters the DOM (ms since navigation start). */
const OBSERVER = () => {
	const w = window as unknown as { __listAt?: number };
	new MutationObserver((_, observer) => {
		if (document.querySelector('[data-testid="worklist-item"]')) {
			w.__listAt = performance.now();
			observer.disconnect();
		}
	}).observe(document, { childList: true, subtree: true });
};

async function signIn(page: Page): Promise<void> {
	await page.goto('/staff');
	await page.getByLabel('スタッフコード (店長)').fill('S002');
	await page.getByLabel('PIN').fill('1234');
	await page.getByRole('button', { name: '登録する' }).click();
	await page.getByRole('button', { name: /鈴木 健太/ }).click();
	for (const d of '1234') await page.getByRole('button', { name: d, exact: true }).click();
	await page.getByTestId('pin-ok').click();
	await page.waitForURL(/\/staff\/today/, { timeout: 30_000 });
	await page.getByTestId('worklist-item').first().waitFor({ timeout: 30_000 });
	// the service worker controls the page from here on: reloads come from its cache
	await page.waitForFunction(() => navigator.serviceWorker?.controller !== null, undefined, { timeout: 30_000 });
}

async function timeReloads(page: Page, ready: string): Promise<number[]> {
	const times: number[] = [];
	for (let i = 0; i < RUNS + 2; i++) {
		await page.reload();
		await page.locator(ready).first().waitFor({ timeout: 30_000 });
		const at = await page.evaluate(() => (window as unknown as { __listAt?: number }).__listAt ?? null);
		if (at === null) throw new Error('the list item was not seen by the observer');
		if (i >= 2) times.push(at); // two warm-up loads
	}
	return times.sort((a, b) => a - b);
}

/**
 * In-app: the app already open on the client book, a tap on 今日の連絡 in the header; from the
 * tap to the first list item in the DOM.
 */
async function timeTaps(page: Page): Promise<number[]> {
	const times: number[] = [];
	for (let i = 0; i < RUNS + 2; i++) {
		await page.getByTestId('clients-link').click();
		await page.waitForURL(/\/staff\/clients/);
		await page.locator('[data-testid="worklist-item"]').first().waitFor({ state: 'detached' });
		const ms = await page.evaluate(
			() =>
				new Promise<number>((resolve) => {
					const t0 = performance.now();
					const observer = new MutationObserver(() => {
						if (document.querySelector('[data-testid="worklist-item"]')) {
							observer.disconnect();
							resolve(performance.now() - t0);
						}
					});
					observer.observe(document.body, { childList: true, subtree: true });
					(document.querySelector('[data-testid="today-link"]') as HTMLAnchorElement).click();
				})
		);
		if (i >= 2) times.push(ms);
	}
	return times.sort((a, b) => a - b);
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const summary = (t: number[]) => `median ${percentile(t, 50).toFixed(0)} ms   p95 ${percentile(t, 95).toFixed(0)} ms   max ${t[t.length - 1].toFixed(0)} ms`;

async function main() {
	const server = await startDemoServer(PORT);
	const browser = await chromium.launch(chromiumLaunch);
	try {
		const context = await browser.newContext({
			baseURL: BASE,
			viewport: { width: 1194, height: 834 },
			hasTouch: true,
			locale: 'ja-JP',
			timezoneId: 'Asia/Tokyo'
		});
		const page = await context.newPage();
		await signIn(page);
		const items = await page.getByTestId('worklist-item').count();
		await context.addInitScript(OBSERVER);
		const cdp = await context.newCDPSession(page);
		await cdp.send('Emulation.setCPUThrottlingRate', { rate: THROTTLE });

		const online = await timeReloads(page, '[data-testid="worklist-item"]');
		const onlineTap = await timeTaps(page);
		await context.setOffline(true);
		const offline = await timeReloads(page, '[data-testid="worklist-cached"]');
		const offlineTap = await timeTaps(page);
		await context.setOffline(false);

		console.log(`\ntoday's list on the tablet: headless Chromium, CPU throttled ${THROTTLE}×, 1194×834, ${items} open items, ${RUNS} reloads each after 2 warm-up`);
		console.log(`  opening the app on the list (reload: boot + list), navigation start → first item:`);
		console.log(`    online (shell from the service worker, list from the API): ${summary(online)}   (target ≤ 1 s)`);
		console.log(`    offline (list from the tablet's saved copy):               ${summary(offline)}`);
		console.log(`  in the open app, a tap on 今日の連絡 → first item:`);
		console.log(`    online:                                                   ${summary(onlineTap)}   (target ≤ 1 s)`);
		console.log(`    offline (from the saved copy):                            ${summary(offlineTap)}   (target ≤ 300 ms)`);
		console.log(`  machine: ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' / ')} (1/5/15 min)`);
	} finally {
		await browser.close();
		server.kill();
	}
}

await main();
