/**
 * Every error `code` the server can send has a Japanese and an English message in the UI
 * (src/lib/i18n/messages/errors.ts). The codes are read from server/ source, so a new
 * `badRequest('some_code', …)` anywhere fails this test until both translations exist.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { en, ja } from '../../src/lib/i18n/messages/errors.ts';

const SERVER = join(import.meta.dirname, '../../server');

/** Where a code is written in server source (first argument of a helper, the envelope, AppError). */
const CODE_PATTERNS = [
	/\b(?:badRequest|unauthorized|forbidden|notFound|conflict|tooMany)\(\s*'([a-z][a-z0-9_]*)'/g,
	/new AppError\(\s*\d{3}\s*,\s*'([a-z][a-z0-9_]*)'/g,
	/errorBody\(\s*c\s*,\s*'([a-z][a-z0-9_]*)'/g,
	// `{ error: { code: 'x', … } }` written by hand (sandbox) and `{ code: 'x', message: … }` tables
	/\bcode:\s*'([a-z][a-z0-9_]*)'\s*,\s*message:/g,
	// onError's mapping of Hono's own HTTP errors: `const code = status === 413 ? 'a' : … 'b'`
	/const code = [^;\n]*/g
];

/**
 * Call sites whose code is computed: each is listed with every code it can produce. A new
 * computed site fails the test until it is listed here (with its codes translated).
 */
const COMPUTED_SITES: Record<string, string[]> = {
	'conflict(`not_allowed_${prepared.eligibility.reason}`': [
		'not_allowed_no_consent',
		'not_allowed_no_line',
		'not_allowed_blocked',
		'not_allowed_not_friend',
		'not_allowed_merged',
		// the consent ledger's reasons (privacy.service messageConsent), when consent changes between the checks
		'not_allowed_consent_withdrawn',
		'not_allowed_member_left'
	],
	// the one input rule (server/shared/safe-input.ts) in validate() and the URL guard
	'badRequest(unsafe.code': ['invalid_text', 'invalid_date'],
	// a conversation answer to a customer who cannot receive it (conversations.service blockReason)
	'conflict(`recipient_${blocked}`': ['recipient_blocked', 'recipient_merged'],
	'badRequest(sender.problem!': ['sender_name_empty', 'sender_name_too_long', 'sender_name_reserved'],
	// a follow-up over the contact limit (contact.service reserveFollowUp): the full window
	'conflict(`contact_limit_${d.over!}`': ['contact_limit_7d', 'contact_limit_30d'],
	// the Shopify webhook reader's reasons (server/integrations/shopify/webhook.ts)
	'unauthorized(read.reason': ['invalid_signature'],
	'badRequest(read.reason': ['missing_header', 'unknown_topic', 'malformed_json'],
	// errors.ts's helpers themselves, and QR_ERRORS[reason].code (its table is matched above)
	'new AppError(400, code': [],
	'new AppError(401, code': [],
	'new AppError(403, code': [],
	'new AppError(404, code': [],
	'new AppError(409, code': [],
	'new AppError(429, code': [],
	"new AppError(result.reason === 'malformed' ? 400 : 422, code": []
};
const COMPUTED_PATTERN = /\b(?:(?:badRequest|unauthorized|forbidden|notFound|conflict|tooMany)\(|new AppError\([^,]+,\s*)(?!['\s])[^,)]+(?=,)/g;

function computedSites(): string[] {
	return sourceFiles(SERVER).flatMap((file) => [...readFileSync(file, 'utf8').matchAll(COMPUTED_PATTERN)].map((m) => m[0].replace(/\s+/g, ' ')));
}

function sourceFiles(dir: string): string[] {
	return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
		const path = join(dir, entry.name);
		if (entry.isDirectory()) return sourceFiles(path);
		return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
	});
}


export function serverErrorCodes(): Set<string> {
	const codes = new Set<string>();
	for (const file of sourceFiles(SERVER)) {
		const text = readFileSync(file, 'utf8');
		for (const pattern of CODE_PATTERNS) {
			for (const match of text.matchAll(pattern)) {
				if (match[1]) codes.add(match[1]);
				else for (const literal of match[0].matchAll(/'([a-z][a-z0-9_]*)'/g)) codes.add(literal[1]);
			}
		}
	}
	for (const site of computedSites()) for (const code of COMPUTED_SITES[site] ?? []) codes.add(code);
	return codes;
}

/** The client's own codes: no answer (offline, timeout), an answer that is not our JSON. */
const CLIENT_CODES = ['offline', 'timeout', 'bad_response'];
/** The member-QR reasons the tablet finds offline (server/shared/member-qr.ts) become `qr_<reason>`. */
const OFFLINE_QR_CODES = ['qr_malformed', 'qr_unknown_key', 'qr_bad_signature', 'qr_expired', 'qr_not_yet_valid', 'qr_wrong_issuer', 'qr_no_keys'];

describe('error messages', () => {
	const codes = serverErrorCodes();

	it('finds the codes the server sends (the scan itself works)', () => {
		for (const known of ['validation_failed', 'customer_not_found', 'pin_locked', 'qr_bad_signature', 'payload_too_large', 'internal_error', 'unauthorized']) {
			expect(codes, known).toContain(known);
		}
		expect(codes.size).toBeGreaterThan(40);
	});

	it('knows every code a computed call site can produce', () => {
		const unknown = computedSites().filter((site) => !(site in COMPUTED_SITES));
		expect(unknown, 'list these in COMPUTED_SITES with the codes they produce').toEqual([]);
	});

	it('has a Japanese and an English message for every code', () => {
		const all = [...codes, ...CLIENT_CODES, ...OFFLINE_QR_CODES].sort();
		const missingJa = all.filter((code) => !(`err.${code}` in ja));
		const missingEn = all.filter((code) => !en[`err.${code}` as keyof typeof en]);
		expect({ missingJa, missingEn }).toEqual({ missingJa: [], missingEn: [] });
	});

	it('speaks Japanese in ja and says what to do next', () => {
		for (const [key, text] of Object.entries(ja)) {
			expect(text, key).toMatch(/[\u3040-\u30ff\u4e00-\u9fff]/);
			expect(text, key).not.toBe(en[key as keyof typeof en]);
		}
	});
});
