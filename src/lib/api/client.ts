/**
 * The SPA's one path to the server: Hono's typed client over `AppType` (server/app.ts), so
 * request and response shapes come from the routes themselves (`c.json(...)`, dates as the ISO
 * strings JSON carries), and one `call()` that adds the credential, applies a timeout, and turns
 * every failure into one `ApiError` (server envelope, HTTP status without envelope, offline,
 * timeout). Screens show `errorMessage(err)` (./errors.ts), never `err.message`.
 */
import { hc, type ClientResponse } from 'hono/client';
import type { AppType } from '../../../server/app.ts';
import type { Api, Ok } from './contract.ts';
import { credentials } from './credentials.svelte.ts';

export type { Ok };

/** The typed API rooted at /api: `api.customers[':id'].profile.$get({ param, query })`. */
export const api: Api = hc<AppType>('/api');

export type AuthMode = 'none' | 'device' | 'session' | { bearer: string };

export interface CallOptions {
	/** Which credential to send; 'session' (the signed-in staff member) by default. */
	auth?: AuthMode;
	timeoutMs?: number;
}

/** Codes the client itself produces when no envelope arrived. */
export type ClientErrorCode = 'offline' | 'timeout' | 'bad_response';

export class ApiError extends Error {
	constructor(
		/** HTTP status, or null when no response arrived at all. */
		readonly status: number | null,
		/** The server's stable `error.code`, `http_<status>` without an envelope, or a ClientErrorCode. */
		readonly code: string,
		message: string,
		readonly fields: Record<string, unknown> = {}
	) {
		super(message);
		this.name = 'ApiError';
	}

	/** No answer at all: network down or timed out; screens fall back to the cache. */
	get offline(): boolean {
		return this.status === null;
	}
}

const DEFAULT_TIMEOUT_MS = 8_000;

function authHeader(auth: AuthMode): string | null {
	if (auth === 'none') return null;
	if (auth === 'device') return credentials.deviceToken ? `Device ${credentials.deviceToken}` : null;
	if (auth === 'session') return credentials.session ? `Bearer ${credentials.session.token}` : null;
	return `Bearer ${auth.bearer}`;
}

/** The options object hc's methods take as their second argument. */
export interface RequestInitOptions {
	headers: Record<string, string>;
	init: RequestInit;
}

type UnauthorizedListener = (err: ApiError) => void;
let onSessionRejected: UnauthorizedListener | null = null;

/**
 * The staff layout registers what a rejected staff session means (back to the staff picker);
 * the fetch layer only reports it, for calls made with the current session.
 */
export function onUnauthorized(listener: UnauthorizedListener | null): void {
	onSessionRejected = listener;
}


/**
 * Runs one typed request and returns its success body:
 * `await call((o) => api.customers.search.$get({ query: { q } }, o))`.
 */
export async function call<R extends ClientResponse<unknown, number, string>>(
	request: (options: RequestInitOptions) => Promise<R>,
	options: CallOptions = {}
): Promise<Ok<R>> {
	const res = await send(request, options);
	if (res.status === 204) return undefined as Ok<R>;
	return (await res.json().catch(() => {
		throw new ApiError(res.status, 'bad_response', 'The server answer was not JSON');
	})) as Ok<R>;
}

/** Like call(), for non-JSON answers (CSV downloads): the raw, successful Response. */
export async function callRaw<R extends ClientResponse<unknown, number, string>>(
	request: (options: RequestInitOptions) => Promise<R>,
	options: CallOptions = {}
): Promise<R> {
	return send(request, options);
}

async function send<R extends ClientResponse<unknown, number, string>>(
	request: (options: RequestInitOptions) => Promise<R>,
	options: CallOptions
): Promise<R> {
	const auth = options.auth ?? 'session';
	const headers: Record<string, string> = { accept: 'application/json' };
	const authorization = authHeader(auth);
	if (authorization) headers.authorization = authorization;
	let res: R;
	try {
		res = await request({ headers, init: { signal: AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS), cache: 'no-store' } });
	} catch (err) {
		throw networkError(err);
	}
	if (res.ok) return res;
	const error = toApiError(res.status, await res.json().catch(() => null));
	if (res.status === 401 && auth === 'session' && onSessionRejected) onSessionRejected(error);
	throw error;
}

/** What a fetch that got no answer becomes (also used by the few calls outside `api`). */
export function networkError(err: unknown): ApiError {
	const timedOut = err instanceof DOMException && err.name === 'TimeoutError';
	return timedOut ? new ApiError(null, 'timeout', 'timeout') : new ApiError(null, 'offline', 'network error');
}

export function toApiError(status: number, json: unknown): ApiError {
	const envelope = (json as { error?: { code?: string; message?: string; fields?: Record<string, unknown> } } | null)?.error;
	return new ApiError(status, envelope?.code ?? `http_${status}`, envelope?.message ?? `HTTP ${status}`, envelope?.fields ?? {});
}
