import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEMO_SECRETS, loadConfig } from '../../server/config.ts';
import { DEMO_MEMBER_QR_PRIVATE_KEY } from '../../server/modules/members/qr-keys.ts';

const ownQrKey = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

/** A production environment with acceptable secrets of its own. */
const productionEnv = (): Record<string, string> => ({
	TSUNAGU_MODE: 'production',
	SESSION_SECRET: 'x'.repeat(40),
	SHOPIFY_WEBHOOK_SECRET: 'shpss_0123456789abcdef0123456789abcdef',
	LINE_CHANNEL_SECRET: '0123456789abcdef0123456789abcdef',
	LINE_CHANNEL_ACCESS_TOKEN: 't'.repeat(172),
	LINE_LOGIN_CHANNEL_ID: '2000000001',
	LIFF_ID: '2000000001-abcdefgh',
	MEMBER_QR_PRIVATE_KEY: ownQrKey
});

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
		const c = loadConfig(productionEnv());
		expect(c.sandbox).toBe(false);
		expect(c.seedOnStart).toBe(false);
		expect(c.line.apiBase).toBe('https://api.line.me');
	});

	describe('production secrets', () => {
		it('refuses every committed demo value, naming each variable and never echoing a value', () => {
			const env = {
				...productionEnv(),
				SHOPIFY_WEBHOOK_SECRET: DEMO_SECRETS.shopifyWebhookSecret,
				LINE_CHANNEL_SECRET: DEMO_SECRETS.lineChannelSecret,
				LINE_CHANNEL_ACCESS_TOKEN: DEMO_SECRETS.lineChannelAccessToken,
				LIFF_ID: DEMO_SECRETS.liffId,
				MEMBER_QR_PRIVATE_KEY: DEMO_MEMBER_QR_PRIVATE_KEY
			};
			let message = '';
			try {
				loadConfig(env);
			} catch (err) {
				expect(err).toBeInstanceOf(ConfigError);
				message = (err as Error).message;
			}
			for (const name of ['SHOPIFY_WEBHOOK_SECRET', 'LINE_CHANNEL_SECRET', 'LINE_CHANNEL_ACCESS_TOKEN', 'LIFF_ID', 'MEMBER_QR_PRIVATE_KEY']) {
				expect(message).toContain(name);
			}
			expect(message).not.toContain(DEMO_SECRETS.shopifyWebhookSecret);
		});

		it('refuses the demo session secret and secrets shorter than their minimum', () => {
			expect(() => loadConfig({ ...productionEnv(), SESSION_SECRET: 'demo-session-secret-not-for-production-use-0123456789' })).toThrow(
				/SESSION_SECRET is the public demo value/
			);
			expect(() => loadConfig({ ...productionEnv(), SHOPIFY_WEBHOOK_SECRET: 'shpss_123456' })).toThrow(
				/SHOPIFY_WEBHOOK_SECRET must be at least 32 characters/
			);
			expect(() => loadConfig({ ...productionEnv(), LINE_CHANNEL_ACCESS_TOKEN: 'token-123456' })).toThrow(/LINE_CHANNEL_ACCESS_TOKEN/);
		});

		it('refuses a member QR key that does not parse or is not Ed25519', () => {
			expect(() => loadConfig({ ...productionEnv(), MEMBER_QR_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----' })).toThrow(
				/MEMBER_QR_PRIVATE_KEY does not parse/
			);
			const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
			expect(() => loadConfig({ ...productionEnv(), MEMBER_QR_PRIVATE_KEY: rsa })).toThrow(/must be an Ed25519 key/);
		});

		it('demo and test modes keep working with the demo values', () => {
			expect(loadConfig({ TSUNAGU_MODE: 'test' }).shopify.webhookSecret).toBe(DEMO_SECRETS.shopifyWebhookSecret);
		});
	});
});
