/**
 * `npm run bench:scan`: in headless Chromium at tablet size (1194×834) with 4× CPU throttling
 * (CDP Emulation.setCPUThrottlingRate), the time from a decoded member QR (delivered through
 * the scanner's test hook, the same path as the camera) to the rendered profile:
 * Between scans the page goes back to the scan screen inside the SPA, as on the floor.
 *   - online, warm (app chunks loaded; no cached copy, so QR check → by-member → profile API → render)
 *   - offline from the tablet's IndexedDB cache
 * Targets: ≤ 1 s online, ≤ 300 ms offline. Prints median and p95; asserts nothing.
 * Runs the demo server (PGlite in memory) on a free port; needs a build (`npm run build`).
 *
 *   npm run bench:scan [-- --runs 15]
 */
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';
import { chromium, type Page } from 'playwright-core';
import { memberQrSigner, mintMemberQr } from '../../server/modules/members/qr-keys.ts';
import { startDemoServer } from './demo-server.ts';

/** The scanner's test hook (src/lib/scanner/index.ts), seen from the test's side. */
declare global {
	interface Window {
		__tsunaguScanner?: { inject(text: string): void };
	}
}

const { values } = parseArgs({ options: { runs: { type: 'string', default: '15' } } });
const runs = Math.max(3, Number(values.runs));
const MEMBER_NO = '1000000001';

function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const srv = createServer();
		srv.listen(0, '127.0.0.1', () => {
			const port = (srv.address() as { port: number }).port;
			srv.close(() => resolve(port));
		});
		srv.on('error', reject);
	});
}

async function json<T>(res: Response): Promise<T> {
	if (!res.ok) throw new Error(`${res.url} → ${res.status} ${await res.text()}`);
	return (await res.json()) as T;
}

/** Enroll + sign in through the API, as the tablet would have done earlier in the day. */
async function credentials(base: string) {
	const enroll = await json<{ device: unknown; deviceToken: string }>(
		await fetch(`${base}/api/devices/enroll`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ storeId: 'shibuya', deviceName: 'bench', staffCode: 'S002', pin: '1234' })
		})
	);
	const me = await json<{ staff: Array<{ id: string; staffCode: string }> }>(
		await fetch(`${base}/api/devices/me`, { headers: { authorization: `Device ${enroll.deviceToken}` } })
	);
	const staffId = me.staff.find((s) => s.staffCode === 'S003')!.id;
	const session = await json<{ token: string }>(
		await fetch(`${base}/api/sessions`, {
			method: 'POST',
			headers: { 'content-type': 'application/json', authorization: `Device ${enroll.deviceToken}` },
			body: JSON.stringify({ staffId, pin: '1234' })
		})
	);
	const { id: customerId } = await json<{ id: string }>(
		await fetch(`${base}/api/customers/by-member/${MEMBER_NO}`, { headers: { authorization: `Bearer ${session.token}` } })
	);
	return { enroll, session, customerId };
}

/**
 * In-page timer, as source text: tsx would wrap named inner functions with a `__name` helper
 * that does not exist in the page.
 */
const TIME_SCAN = `(text) => new Promise((resolve) => {
	const t0 = performance.now();
	window.__tsunaguScanner.inject(text);
	requestAnimationFrame(function poll() {
		if (document.querySelector('[data-testid="customer-name"]')) requestAnimationFrame(() => resolve(performance.now() - t0));
		else requestAnimationFrame(poll);
	});
})`;

/** Injects the decoded text and resolves when the profile header is painted (ms, page clock). */
function timeScan(page: Page, qr: string): Promise<number> {
	return page.evaluate(`(${TIME_SCAN})(${JSON.stringify(qr)})`) as Promise<number>;
}

async function clearProfileCache(page: Page): Promise<void> {
	await page.evaluate(
		() =>
			new Promise<void>((resolve, reject) => {
				const open = indexedDB.open('tsunagu-staff');
				open.onsuccess = () => {
					const tx = open.result.transaction('profiles', 'readwrite');
					tx.objectStore('profiles').clear();
					tx.oncomplete = () => resolve();
					tx.onerror = () => reject(tx.error);
				};
			})
	);
}

/** Back to the scan screen inside the app (the tablet stays in the SPA between customers). */
async function backToScan(page: Page): Promise<void> {
	await page.getByRole('link', { name: 'スキャン' }).click();
	await page.waitForURL(/\/staff\/scan/);
	await page.waitForFunction(() => window.__tsunaguScanner !== undefined);
}

async function openScan(page: Page): Promise<void> {
	await page.goto('/staff/scan?scannerTest=1');
	await page.waitForFunction(() => window.__tsunaguScanner !== undefined).catch(async (err) => {
		throw new Error(`scan screen not ready at ${page.url()}: ${(await page.content()).slice(0, 600)}`, { cause: err });
	});
}

function stats(samples: number[]): string {
	const s = [...samples].sort((a, b) => a - b);
	const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
	return `median ${at(0.5).toFixed(0)} ms, p95 ${at(0.95).toFixed(0)} ms, max ${s[s.length - 1].toFixed(0)} ms (n=${s.length})`;
}

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const server = await startDemoServer(port);
const browser = await chromium.launch({
	executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
	args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--no-first-run']
});
try {
	const { enroll, session, customerId } = await credentials(base);
	const qr = (await mintMemberQr(await memberQrSigner(undefined), { customerId, memberNo: MEMBER_NO })).token;
	const context = await browser.newContext({ baseURL: base, viewport: { width: 1194, height: 834 }, hasTouch: true, locale: 'ja-JP' });
	await context.addInitScript(
		([device, sess]) => {
			localStorage.setItem('tsunagu.device', device);
			localStorage.setItem('tsunagu.session', sess);
		},
		[JSON.stringify({ token: enroll.deviceToken, device: enroll.device }), JSON.stringify(session)]
	);
	const page = await context.newPage();
	const cdp = await context.newCDPSession(page);
	await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
	await openScan(page);
	await page.waitForFunction(() => navigator.serviceWorker?.controller !== null, undefined, { timeout: 30_000 });

	// Warm-up: loads the profile route's chunks and the keys once.
	await timeScan(page, qr);

	const online: number[] = [];
	for (let i = 0; i < runs; i++) {
		await backToScan(page);
		await clearProfileCache(page);
		online.push(await timeScan(page, qr));
	}

	await backToScan(page);
	await timeScan(page, qr); // caches the profile
	await context.setOffline(true);
	const offline: number[] = [];
	for (let i = 0; i < runs; i++) {
		await backToScan(page);
		offline.push(await timeScan(page, qr));
	}
	await context.setOffline(false);

	console.log('\nDecoded member QR → rendered profile, Chromium 1194×834, CPU throttled 4×');
	console.log(`  online, warm (no cached copy):  ${stats(online)}   target ≤ 1000 ms`);
	console.log(`  offline, from IndexedDB cache:  ${stats(offline)}   target ≤ 300 ms`);
} finally {
	await browser.close();
	server.kill();
}
