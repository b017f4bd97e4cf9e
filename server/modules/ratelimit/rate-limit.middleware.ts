/** `rateLimit(deps, policy, keyOf)`: 429 rate_limited once the caller's shared bucket is empty. */
import type { Context, MiddlewareHandler } from 'hono';
import type { AppDeps } from '../../http/context.ts';
import { tooMany } from '../../errors.ts';
import { take, type LimitPolicy } from './rate-limit.service.ts';

export function rateLimit(deps: AppDeps, policy: LimitPolicy, keyOf: (c: Context<any>) => string): MiddlewareHandler {
	return async (c, next) => {
		const result = await take(deps.db, policy, keyOf(c));
		if (!result.allowed) {
			c.header('retry-after', String(result.retryAfterSeconds));
			throw tooMany('rate_limited', 'Too many requests; try again shortly');
		}
		await next();
	};
}
