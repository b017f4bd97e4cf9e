import { randomUUID } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { AppError, badRequest } from '../errors.ts';
import { isDatabaseUnavailable } from '../db/unavailable.ts';
import { findUnsafeInput } from '../shared/safe-input.ts';
import type { Logger } from '../logger.ts';
import type { AppEnv } from './context.ts';

const REQUEST_ID = /^[\w.-]{8,64}$/;

/** Request id (trusted from a proxy only when well-formed), a child logger and one access log line. */
export function requestContext(logger: Logger): MiddlewareHandler<AppEnv> {
	return async (c, next) => {
		const incoming = c.req.header('x-request-id');
		const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
		const log = logger.child({ requestId });
		c.set('requestId', requestId);
		c.set('log', log);
		c.header('x-request-id', requestId);
		const started = performance.now();
		await next();
		// Paths only, never query strings: they can carry tokens or personal data.
		log.info(
			{ method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(performance.now() - started) },
			'request'
		);
	};
}

export function errorBody(c: Context<AppEnv>, code: string, message: string, fields?: Record<string, string>) {
	return { error: { code, message, requestId: c.get('requestId'), ...(fields ? { fields } : {}) } };
}

/** The single onError: AppError → its status; Hono's own HTTP errors keep theirs; the rest is 500. */
export function onError(err: Error, c: Context<AppEnv>): Response {
	if (err instanceof AppError) {
		return c.json(errorBody(c, err.code, err.message, err.fields), err.status);
	}
	if (err instanceof HTTPException) {
		const status = err.status;
		const code = status === 413 ? 'payload_too_large' : status === 401 ? 'unauthorized' : 'bad_request';
		return c.json(errorBody(c, code, err.message || 'Bad request'), status);
	}
	if (err instanceof SyntaxError) {
		return c.json(errorBody(c, 'malformed_json', 'The request body is not valid JSON'), 400);
	}
	if (isDatabaseUnavailable(err)) {
		// the client may retry; the cause is logged, never sent
		(c.get('log') ?? console).warn({ err: { name: err.name, message: err.message } }, 'database unavailable');
		c.header('retry-after', '5');
		return c.json(errorBody(c, 'database_unavailable', 'The database is not answering; try again shortly'), 503);
	}
	(c.get('log') ?? console).error({ err: { name: err.name, message: err.message, stack: err.stack } }, 'unhandled error');
	return c.json(errorBody(c, 'internal_error', 'Something went wrong on our side'), 500);
}

/** A request body limit that answers with the API's 413 envelope (`what` names the body in the message). */
export function jsonBodyLimit(maxBytes: number, what = 'Request body'): MiddlewareHandler<AppEnv> {
	return bodyLimit({
		maxSize: maxBytes,
		onError: (c) => c.json(errorBody(c, 'payload_too_large', `${what} exceeds ${maxBytes} bytes`), 413)
	});
}

/**
 * The URL half of the shared input rule (safe-input.ts): path segments and query values are
 * checked once for every route, including those that read `c.req.param()` / `c.req.query()`
 * without a validator. A percent-encoding that does not decode is refused too.
 */
export function rejectUnsafeUrl(): MiddlewareHandler<AppEnv> {
	return async (c, next) => {
		const url = c.req.url;
		const queryAt = url.indexOf('?');
		const rawPath = url.slice(url.indexOf('/', url.indexOf('//') + 2), queryAt === -1 ? undefined : queryAt);
		if (rawPath.includes('%')) for (const segment of rawPath.split('/')) checkUrlPart(segment, 'path', false);
		if (queryAt !== -1) {
			for (const pair of url.slice(queryAt + 1).split('&')) {
				const eq = pair.indexOf('=');
				checkUrlPart(eq === -1 ? pair : pair.slice(0, eq), 'query', false);
				if (eq !== -1) checkUrlPart(pair.slice(eq + 1), `query.${pair.slice(0, eq)}`, true);
			}
		}
		await next();
	};
}

function checkUrlPart(encoded: string, where: string, isValue: boolean): void {
	if (!encoded.includes('%') && !isValue) return;
	let decoded: string;
	try {
		decoded = decodeURIComponent(encoded.replaceAll('+', ' '));
	} catch {
		throw badRequest('malformed_url', `The ${where.split('.')[0]} is not valid percent-encoding`);
	}
	const unsafe = findUnsafeInput(decoded);
	if (unsafe) throw badRequest(unsafe.code, `Invalid ${where.split('.')[0]}: ${unsafe.message}`, { [where.slice(0, 80)]: unsafe.message });
}
