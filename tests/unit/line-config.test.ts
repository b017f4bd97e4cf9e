import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.ts';

describe('LINE base URLs and the sandbox port', () => {
	it('points demo mode at the sandbox on PORT+1', () => {
		const c = loadConfig({ PORT: '4000' });
		expect(c.line.sandboxPort).toBe(4001);
		expect(c.line.apiBase).toBe('http://127.0.0.1:4001');
		expect(c.line.loginApiBase).toBe('http://127.0.0.1:4001');
	});

	it('lets test mode pick a free port, and explicit settings win', () => {
		expect(loadConfig({ TSUNAGU_MODE: 'test' }).line.sandboxPort).toBe(0);
		const c = loadConfig({ LINE_SANDBOX_PORT: '5555', LINE_LOGIN_API_BASE: 'https://login.example.test/' });
		expect(c.line.apiBase).toBe('http://127.0.0.1:5555');
		expect(c.line.loginApiBase).toBe('https://login.example.test');
	});

	it('uses api.line.me in production', () => {
		const c = loadConfig({
			TSUNAGU_MODE: 'production',
			SESSION_SECRET: 'x'.repeat(40),
			SHOPIFY_WEBHOOK_SECRET: 'shpss_0123456789abcdef0123456789abcdef',
			LINE_CHANNEL_SECRET: '0123456789abcdef0123456789abcdef',
			LINE_CHANNEL_ACCESS_TOKEN: 't'.repeat(172),
			LINE_LOGIN_CHANNEL_ID: '123',
			LIFF_ID: '123-abc',
			MEMBER_QR_PRIVATE_KEY: generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
		});
		expect(c.line.apiBase).toBe('https://api.line.me');
		expect(c.line.loginApiBase).toBe('https://api.line.me');
	});
});
