import { defineConfig, devices } from '@playwright/test';

const PORT = Number(process.env.E2E_PORT ?? 4173);

/** Chromium from Debian (/usr/bin/chromium): Playwright's own browser download is not used. */
export const chromiumLaunch = {
	executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
	args: [
		'--no-sandbox',
		'--headless',
		'--disable-gpu',
		'--disable-quic',
		'--disable-background-networking',
		'--disable-component-update',
		'--disable-sync',
		'--no-first-run'
	]
};

export default defineConfig({
	testDir: 'tests/e2e',
	testMatch: '**/*.e2e.ts',
	fullyParallel: false,
	workers: 1,
	retries: 0,
	timeout: 60_000,
	reporter: [['list']],
	globalSetup: './tests/e2e/setup.ts',
	globalTeardown: './tests/e2e/teardown.ts',
	use: {
		baseURL: `http://127.0.0.1:${PORT}`,
		launchOptions: chromiumLaunch,
		// iPad Pro 11" class tablet, landscape by default; specs switch to portrait where it matters.
		viewport: { width: 1194, height: 834 },
		hasTouch: true,
		locale: 'ja-JP',
		timezoneId: 'Asia/Tokyo',
		trace: 'off',
		screenshot: 'only-on-failure'
	},
	projects: [{ name: 'tablet-chromium', use: { ...devices['Desktop Chrome'], viewport: { width: 1194, height: 834 }, hasTouch: true } }],
	webServer: {
		command: 'node --import tsx tests/e2e/server.ts',
		url: `http://127.0.0.1:${PORT}/healthz`,
		timeout: 120_000,
		reuseExistingServer: false,
		stdout: 'ignore',
		stderr: 'pipe',
		env: { PORT: String(PORT), E2E_PORT: String(PORT) }
	}
});
