/**
 * The API's type, taken from the server's routes (server/app.ts `AppType`), with no runtime
 * code: types.ts and the offline layer use it without loading the client or its credentials.
 */
import type { ClientResponse, hc } from 'hono/client';
import type { SuccessStatusCode } from 'hono/utils/http-status';
import type { AppType } from '../../../server/app.ts';

/** The typed client rooted at /api. */
export type Api = ReturnType<typeof hc<AppType>>;

/** The JSON body of a typed response union (2xx JSON only; errors are thrown, CSV is read raw). */
export type Ok<R> = R extends ClientResponse<infer T, infer S, infer F> ? (S extends SuccessStatusCode ? (F extends 'json' ? T : never) : never) : never;
