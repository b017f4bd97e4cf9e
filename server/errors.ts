/**
 * One error class for the API. Services throw `AppError` with a stable `code`; the app's
 * onError turns it into `{ error: { code, message, requestId, fields? } }` with its status.
 */
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export type FieldErrors = Record<string, string>;

export class AppError extends Error {
	constructor(
		readonly status: ContentfulStatusCode,
		readonly code: string,
		message: string,
		readonly fields?: FieldErrors
	) {
		super(message);
		this.name = 'AppError';
	}
}

export const badRequest = (code: string, message: string, fields?: FieldErrors) =>
	new AppError(400, code, message, fields);
export const unauthorized = (code: string, message: string) => new AppError(401, code, message);
export const forbidden = (code: string, message: string) => new AppError(403, code, message);
export const notFound = (code: string, message: string) => new AppError(404, code, message);
export const conflict = (code: string, message: string) => new AppError(409, code, message);
export const tooMany = (code: string, message: string) => new AppError(429, code, message);
