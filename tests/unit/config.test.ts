import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/config.ts';

describe('loadConfig', () => {
	it('defaults to demo mode with the sandbox and an embedded database', () => {
		const c = loadConfig({});
		expect(c.mode).toBe('demo');
		expect(c.sandbox).toBe(true);
		expect(c.database.url).toBeUndefined();
		expect(c.port).toBe(3000);
	});

	it('refuses production without secrets, naming the variable', () => {
		expect(() => loadConfig({ TSUNAGU_MODE: 'production', DATABASE_URL: 'postgres://x/y' })).toThrow(ConfigError);
		expect(() => loadConfig({ TSUNAGU_MODE: 'production' })).toThrow(/SESSION_SECRET/);
	});

	it('reports malformed values clearly', () => {
		expect(() => loadConfig({ PORT: 'abc' })).toThrow(/PORT/);
		expect(() => loadConfig({ TSUNAGU_MODE: 'staging' })).toThrow(/TSUNAGU_MODE/);
	});

	it('never enables the sandbox in production', () => {
		const c = loadConfig({
			TSUNAGU_MODE: 'production',
			SESSION_SECRET: 'x'.repeat(40),
			SHOPIFY_WEBHOOK_SECRET: 'shpss_123456',
			LINE_CHANNEL_SECRET: 'abcdefgh12',
			LINE_CHANNEL_ACCESS_TOKEN: 'token-123456',
			LINE_LOGIN_CHANNEL_ID: '123',
			LIFF_ID: '123-abc',
			MEMBER_QR_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----'
		});
		expect(c.sandbox).toBe(false);
		expect(c.seedOnStart).toBe(false);
		expect(c.line.apiBase).toBe('https://api.line.me');
	});
});
