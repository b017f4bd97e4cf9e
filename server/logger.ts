/**
 * Structured JSON logs (pino). Redaction is a safety net: code logs ids, never personal data
 * or secrets, but headers and bodies that slip through are masked.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
	'req.headers.authorization',
	'req.headers.cookie',
	'req.headers["x-line-signature"]',
	'req.headers["x-shopify-hmac-sha256"]',
	'*.password',
	'*.pin',
	'*.token',
	'*.idToken',
	'*.id_token',
	'*.secret',
	'*.accessToken',
	'*.email',
	'*.phone',
	'*.name'
];

export function createLogger(level: string = 'info'): Logger {
	return pino({
		level,
		base: { service: 'tsunagu' },
		redact: { paths: REDACT_PATHS, censor: '[redacted]' },
		timestamp: pino.stdTimeFunctions.isoTime
	});
}
