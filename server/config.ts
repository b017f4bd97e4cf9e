/**
 * The environment, parsed once with a schema. Nothing else in the server reads process.env:
 * modules receive the parts of `Config` they need.
 */
import * as v from 'valibot';
import { parseTrustProxy, type TrustProxy } from './http/client-address.ts';

const bool = (fallback: boolean) =>
	v.pipe(
		v.optional(v.string(), String(fallback)),
		v.transform((s) => ['1', 'true', 'yes', 'on'].includes(s.toLowerCase()))
	);
const int = (fallback: number) =>
	v.pipe(v.optional(v.string(), String(fallback)), v.transform(Number), v.integer(), v.minValue(0));
const optionalUrl = v.optional(v.pipe(v.string(), v.url()));

const EnvSchema = v.object({
	/** `demo` runs the local LINE/EC sandboxes and seeds demo data; `production` never does. */
	TSUNAGU_MODE: v.optional(v.picklist(['demo', 'production', 'test']), 'demo'),
	PORT: int(3000),
	HOST: v.optional(v.string(), '0.0.0.0'),
	/** Public origin used in links sent to customers (tracked links, LIFF). */
	PUBLIC_BASE_URL: v.optional(v.pipe(v.string(), v.url())),
	/** PostgreSQL connection; when unset an embedded PGlite database lives in PGLITE_DIR. */
	DATABASE_URL: v.optional(v.pipe(v.string(), v.minLength(1))),
	PGLITE_DIR: v.optional(v.string(), './data/pglite'),
	DATABASE_POOL_SIZE: int(10),
	/** Seed demo data automatically when the database is empty (demo mode only). */
	SEED_ON_START: bool(true),
	LOG_LEVEL: v.optional(v.picklist(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), 'info'),
	/** Secret for staff session tokens; generated per process in demo mode when unset. */
	SESSION_SECRET: v.optional(v.pipe(v.string(), v.minLength(32))),
	SHOPIFY_WEBHOOK_SECRET: v.optional(v.pipe(v.string(), v.minLength(8))),
	LINE_CHANNEL_SECRET: v.optional(v.pipe(v.string(), v.minLength(8))),
	LINE_CHANNEL_ACCESS_TOKEN: v.optional(v.pipe(v.string(), v.minLength(8))),
	LINE_LOGIN_CHANNEL_ID: v.optional(v.string()),
	LIFF_ID: v.optional(v.string()),
	/** Origins of the LINE Platform APIs; in demo mode they point at the local sandbox. */
	LINE_API_BASE: optionalUrl,
	LINE_LOGIN_API_BASE: optionalUrl,
	/** Port of the local LINE Platform stand-in (demo: PORT+1; test: 0 = random). Never used in production. */
	LINE_SANDBOX_PORT: v.optional(v.pipe(v.string(), v.transform(Number), v.integer(), v.minValue(0))),
	/** Ed25519 private key (PKCS#8 PEM) that signs member QR codes; generated in demo mode. */
	MEMBER_QR_PRIVATE_KEY: v.optional(v.string()),
	ATTRIBUTION_WINDOW_DAYS: int(30),
	DORMANT_DAYS: int(180),
	/** Background workers (webhook inbox, LINE outbox) in this process. */
	WORKERS: bool(true),
	/**
	 * Which X-Forwarded-For hops to believe: unset/false = none (the socket address is the
	 * client's); a hop count (1 = one load balancer in front); or a comma list of proxy CIDRs.
	 */
	TRUST_PROXY: v.optional(v.string()),
	/** Enrolling a tablet needs a one-time code from a manager/admin (default: on in production). */
	ENROLLMENT_CODE_REQUIRED: v.optional(v.picklist(['1', 'true', 'yes', 'on', '0', 'false', 'no', 'off']))
});

export type Env = v.InferOutput<typeof EnvSchema>;

export interface Config {
	mode: 'demo' | 'production' | 'test';
	port: number;
	host: string;
	publicBaseUrl: string;
	database: { url?: string; pgliteDir: string; poolSize: number };
	seedOnStart: boolean;
	logLevel: Env['LOG_LEVEL'];
	sessionSecret: string;
	shopify: { webhookSecret: string };
	line: {
		channelSecret: string;
		channelAccessToken: string;
		loginChannelId: string;
		liffId: string;
		apiBase: string;
		loginApiBase: string;
		/** Where the LINE sandbox listens (demo/test only); 0 = pick a free port at start. */
		sandboxPort: number;
	};
	memberQrPrivateKey?: string;
	attributionWindowDays: number;
	dormantDays: number;
	workers: boolean;
	/** How the client address is read (server/http/client-address.ts). */
	trustProxy: TrustProxy;
	/** Tablet enrollment needs a one-time enrollment code as well as a manager's code + PIN. */
	enrollmentCodeRequired: boolean;
	/** True when the local stand-ins for LINE and the EC platform are mounted. */
	sandbox: boolean;
}

/** Demo-only secrets: fixed so the sandbox and docs agree; refused in production. */
export const DEMO_SECRETS = {
	shopifyWebhookSecret: 'demo-shopify-webhook-secret',
	lineChannelSecret: 'demo-line-channel-secret',
	lineChannelAccessToken: 'demo-line-channel-access-token',
	lineLoginChannelId: '1650000000',
	liffId: '1650000000-demo'
} as const;

export class ConfigError extends Error {}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
	const parsed = v.safeParse(EnvSchema, env);
	if (!parsed.success) {
		const lines = parsed.issues.map((i) => `${v.getDotPath(i) ?? '?'}: ${i.message}`);
		throw new ConfigError(`Invalid configuration:\n  ${lines.join('\n  ')}`);
	}
	const e = parsed.output;
	const production = e.TSUNAGU_MODE === 'production';
	const publicBaseUrl = (e.PUBLIC_BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/$/, '');
	const need = (name: keyof Env, value: string | undefined, demo: string): string => {
		if (value) return value;
		if (production) throw new ConfigError(`${name} is required when TSUNAGU_MODE=production`);
		return demo;
	};
	const sandbox = !production;
	let trustProxy: TrustProxy;
	try {
		trustProxy = parseTrustProxy(e.TRUST_PROXY);
	} catch (err) {
		throw new ConfigError(`Invalid configuration:\n  ${(err as Error).message}`);
	}
	const enrollmentCodeRequired = e.ENROLLMENT_CODE_REQUIRED
		? ['1', 'true', 'yes', 'on'].includes(e.ENROLLMENT_CODE_REQUIRED)
		: production;
	// The bot-sdk keeps only the origin of its baseURL, so the sandbox has its own origin.
	const lineSandboxPort = e.LINE_SANDBOX_PORT ?? (e.TSUNAGU_MODE === 'test' ? 0 : e.PORT + 1);
	const lineDefaultBase = production ? 'https://api.line.me' : `http://127.0.0.1:${lineSandboxPort}`;
	return {
		mode: e.TSUNAGU_MODE,
		port: e.PORT,
		host: e.HOST,
		publicBaseUrl,
		database: { url: e.DATABASE_URL, pgliteDir: e.PGLITE_DIR, poolSize: e.DATABASE_POOL_SIZE },
		seedOnStart: e.SEED_ON_START && !production,
		logLevel: e.LOG_LEVEL,
		sessionSecret: need('SESSION_SECRET', e.SESSION_SECRET, 'demo-session-secret-not-for-production-use-0123456789'),
		shopify: { webhookSecret: need('SHOPIFY_WEBHOOK_SECRET', e.SHOPIFY_WEBHOOK_SECRET, DEMO_SECRETS.shopifyWebhookSecret) },
		line: {
			channelSecret: need('LINE_CHANNEL_SECRET', e.LINE_CHANNEL_SECRET, DEMO_SECRETS.lineChannelSecret),
			channelAccessToken: need('LINE_CHANNEL_ACCESS_TOKEN', e.LINE_CHANNEL_ACCESS_TOKEN, DEMO_SECRETS.lineChannelAccessToken),
			loginChannelId: need('LINE_LOGIN_CHANNEL_ID', e.LINE_LOGIN_CHANNEL_ID, DEMO_SECRETS.lineLoginChannelId),
			liffId: need('LIFF_ID', e.LIFF_ID, DEMO_SECRETS.liffId),
			// In demo/test they default to the LINE sandbox (runtime.ts fills in a random port 0).
			apiBase: (e.LINE_API_BASE ?? lineDefaultBase).replace(/\/$/, ''),
			loginApiBase: (e.LINE_LOGIN_API_BASE ?? lineDefaultBase).replace(/\/$/, ''),
			sandboxPort: lineSandboxPort
		},
		memberQrPrivateKey: production
			? need('MEMBER_QR_PRIVATE_KEY', e.MEMBER_QR_PRIVATE_KEY, '')
			: e.MEMBER_QR_PRIVATE_KEY,
		attributionWindowDays: e.ATTRIBUTION_WINDOW_DAYS,
		dormantDays: e.DORMANT_DAYS,
		workers: e.WORKERS,
		trustProxy,
		enrollmentCodeRequired,
		sandbox
	};
}
