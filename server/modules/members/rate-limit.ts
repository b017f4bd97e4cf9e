/**
 * In-memory token buckets, per process: enough to blunt a script hammering the member
 * endpoints or guessing member numbers. Several processes each keep their own buckets.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { tooMany } from '../../errors.ts';

export interface TokenBucketOptions {
	capacity: number;
	refillPerSecond: number;
	/** Oldest keys are dropped beyond this many (memory bound under a flood of keys). */
	maxKeys?: number;
}

export class TokenBuckets {
	private buckets = new Map<string, { tokens: number; at: number }>();
	constructor(private readonly opts: TokenBucketOptions) {}

	take(key: string, nowMs = Date.now()): boolean {
		const b = this.buckets.get(key) ?? { tokens: this.opts.capacity, at: nowMs };
		b.tokens = Math.min(this.opts.capacity, b.tokens + ((nowMs - b.at) / 1000) * this.opts.refillPerSecond);
		b.at = nowMs;
		const ok = b.tokens >= 1;
		if (ok) b.tokens -= 1;
		this.buckets.delete(key);
		this.buckets.set(key, b);
		if (this.buckets.size > (this.opts.maxKeys ?? 50_000)) {
			this.buckets.delete(this.buckets.keys().next().value!);
		}
		return ok;
	}

	/** True when the key has no tokens left (without taking one). */
	exhausted(key: string, nowMs = Date.now()): boolean {
		const b = this.buckets.get(key);
		if (!b) return false;
		return Math.min(this.opts.capacity, b.tokens + ((nowMs - b.at) / 1000) * this.opts.refillPerSecond) < 1;
	}
}

export function rateLimit(buckets: TokenBuckets, keyOf: (c: Context<any>) => string): MiddlewareHandler {
	return async (c, next) => {
		if (!buckets.take(keyOf(c))) {
			c.header('retry-after', '10');
			throw tooMany('rate_limited', 'Too many requests; try again shortly');
		}
		await next();
	};
}

/** The client address: the first X-Forwarded-For hop (behind the load balancer) or the socket's. */
export function clientAddress(c: Context<any>): string {
	const forwarded = c.req.header('x-forwarded-for')?.split(',')[0]?.trim();
	if (forwarded) return forwarded;
	const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
	return incoming?.socket?.remoteAddress ?? 'local';
}
