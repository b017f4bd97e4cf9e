import { Hono } from 'hono';
import { pingDatabase } from '../../db/ready.ts';
import type { AppDeps, AppEnv } from '../../http/context.ts';

/** The probe's own bound: a load balancer gets its 503 well within 2 s even when the database stalls. */
const HEALTH_TIMEOUT_MS = 1500;

/** GET /healthz: 200 only when the database answers; load balancers and `npm start` wait on it. */
export function healthRoutes({ db }: AppDeps) {
	return new Hono<AppEnv>().get('/', async (c) => {
		try {
			await pingDatabase(db, HEALTH_TIMEOUT_MS);
			return c.json({ status: 'ok', database: 'ok' });
		} catch {
			c.header('cache-control', 'no-store');
			return c.json({ status: 'unavailable', database: 'unreachable' }, 503);
		}
	});
}
