/**
 * The environment, parsed once with a schema. Nothing else in the server reads process.env:
 * modules receive the parts of `Config` they need.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import * as v from 'valibot';
import { parseTrustProxy, type TrustProxy } from './http/client-address.ts';
import { DEMO_MEMBER_QR_PRIVATE_KEY } from './modules/members/qr-keys.ts';

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
	/** Opening a PostgreSQL connection (or waiting for a free one) gives up after this. */
	DATABASE_CONNECT_TIMEOUT_MS: int(3000),
	/** PostgreSQL cancels any statement of the server process running longer (0 = never). */
	DATABASE_STATEMENT_TIMEOUT_MS: int(15000),
	/** A query whose answer has not arrived by then fails and its connection is dropped (0 = never). */
	DATABASE_QUERY_TIMEOUT_MS: int(20000),
	/** Startup waits this long for the database to answer, then exits non-zero. */
	DATABASE_STARTUP_TIMEOUT_MS: int(15000),
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
	database: {
		url?: string;
		pgliteDir: string;
		poolSize: number;
		timeouts: { connectMs: number; statementMs: number; queryMs: number };
		startupTimeoutMs: number;
	};
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

const DEMO_SESSION_SECRET = 'demo-session-secret-not-for-production-use-0123456789';

export class ConfigError extends Error {}

/** Minimum lengths in production: what the vendors issue (LINE/Shopify secrets are 32 hex characters). */
const PRODUCTION_MIN_LENGTH = {
	SESSION_SECRET: 32,
	SHOPIFY_WEBHOOK_SECRET: 32,
	LINE_CHANNEL_SECRET: 32,
	LINE_CHANNEL_ACCESS_TOKEN: 64
} as const;

/**
 * Everything wrong with production secrets at once (an operator fixes them in one go): a value
 * committed in this repository (the demo ones), one shorter than its minimum, or a member QR
 * key that is not an Ed25519 PKCS#8 PEM. Values themselves never appear in the message.
 */
export function productionSecretProblems(e: Env): string[] {
	const problems: string[] = [];
	const demoValues = new Set<string>([...Object.values(DEMO_SECRETS), DEMO_SESSION_SECRET]);
	for (const [name, min] of Object.entries(PRODUCTION_MIN_LENGTH) as Array<[keyof typeof PRODUCTION_MIN_LENGTH, number]>) {
		const value = e[name]?.trim();
		if (!value) continue; // reported as missing by `need`
		if (demoValues.has(value)) problems.push(`${name} is the public demo value from the repository; set your own`);
		else if (value.length < min) problems.push(`${name} must be at least ${min} characters (got ${value.length})`);
	}
	for (const name of ['LINE_LOGIN_CHANNEL_ID', 'LIFF_ID'] as const) {
		if (e[name] && demoValues.has(e[name]!.trim())) problems.push(`${name} is the demo value; set your LINE channel's`);
	}
	const qrProblem = e.MEMBER_QR_PRIVATE_KEY ? memberQrKeyProblem(e.MEMBER_QR_PRIVATE_KEY) : null;
	if (qrProblem) problems.push(`MEMBER_QR_PRIVATE_KEY ${qrProblem}`);
	return problems;
}

function memberQrKeyProblem(pem: string): string | null {
	let publicKey: string;
	try {
		const key = createPrivateKey({ key: pem.trim(), format: 'pem' });
		if (key.asymmetricKeyType !== 'ed25519') return `must be an Ed25519 key (got ${key.asymmetricKeyType ?? 'unknown'})`;
		publicKey = createPublicKey(key).export({ format: 'der', type: 'spki' }).toString('base64');
	} catch {
		return 'does not parse as a PKCS#8 PEM private key (-----BEGIN PRIVATE KEY-----)';
	}
	const demo = createPublicKey(createPrivateKey(DEMO_MEMBER_QR_PRIVATE_KEY)).export({ format: 'der', type: 'spki' }).toString('base64');
	return publicKey === demo ? 'is the public demo key from the repository (its key id is public); generate your own' : null;
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
	const parsed = v.safeParse(EnvSchema, env);
	if (!parsed.success) {
		const lines = parsed.issues.map((i) => `${v.getDotPath(i) ?? '?'}: ${i.message}`);
		throw new ConfigError(`Invalid configuration:\n  ${lines.join('\n  ')}`);
	}
	const e = parsed.output;
	const production = e.TSUNAGU_MODE === 'production';
	if (production) {
		const problems = productionSecretProblems(e);
		if (problems.length > 0) throw new ConfigError(`Refusing to start in production:\n  ${problems.join('\n  ')}`);
	}
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
		database: {
			url: e.DATABASE_URL,
			pgliteDir: e.PGLITE_DIR,
			poolSize: e.DATABASE_POOL_SIZE,
			timeouts: {
				connectMs: e.DATABASE_CONNECT_TIMEOUT_MS,
				statementMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
				queryMs: e.DATABASE_QUERY_TIMEOUT_MS
			},
			startupTimeoutMs: e.DATABASE_STARTUP_TIMEOUT_MS
		},
		seedOnStart: e.SEED_ON_START && !production,
		logLevel: e.LOG_LEVEL,
		sessionSecret: need('SESSION_SECRET', e.SESSION_SECRET, DEMO_SESSION_SECRET),
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
