/**
 * The tablet's fetch client: adds the device or session credential, turns the server's error
 * envelope into an `ApiError` with code/message/fields, and maps "no answer" (network down,
 * timeout) to an `ApiError` with code 'offline' so screens can fall back to the cache.
 */
import { credentials } from './credentials.svelte.ts';

export type AuthMode = 'none' | 'device' | 'session' | { bearer: string };

export interface RequestOptions {
	method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
	body?: unknown;
	auth?: AuthMode;
	timeoutMs?: number;
}

export class ApiError extends Error {
	constructor(
		/** HTTP status, or null when no response arrived at all. */
		readonly status: number | null,
		readonly code: string,
		message: string,
		readonly fields: Record<string, unknown> = {}
	) {
		super(message);
		this.name = 'ApiError';
	}

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

export async function api<T>(path: string, options: RequestOptions = {}): Promise<{ status: number; data: T }> {
	const headers: Record<string, string> = { accept: 'application/json' };
	const authorization = authHeader(options.auth ?? 'session');
	if (authorization) headers.authorization = authorization;
	if (options.body !== undefined) headers['content-type'] = 'application/json';
	let res: Response;
	try {
		res = await fetch(path, {
			method: options.method ?? 'GET',
			headers,
			body: options.body === undefined ? undefined : JSON.stringify(options.body),
			signal: AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
			cache: 'no-store'
		});
	} catch (err) {
		const timedOut = err instanceof DOMException && err.name === 'TimeoutError';
		throw new ApiError(null, 'offline', timedOut ? 'timeout' : 'network error');
	}
	if (res.status === 204) return { status: 204, data: undefined as T };
	const json = (await res.json().catch(() => null)) as unknown;
	if (!res.ok) throw toApiError(res.status, json);
	return { status: res.status, data: json as T };
}

function toApiError(status: number, json: unknown): ApiError {
	const envelope = (json as { error?: { code?: string; message?: string; fields?: Record<string, unknown> } } | null)?.error;
	return new ApiError(status, envelope?.code ?? `http_${status}`, envelope?.message ?? `HTTP ${status}`, envelope?.fields ?? {});
}

/** Convenience for screens: the body only. */
export async function getJson<T>(path: string, auth: AuthMode = 'session'): Promise<T> {
	return (await api<T>(path, { auth })).data;
}
