import { Hono } from 'hono';
import { sql } from 'kysely';
import type { AppDeps, AppEnv } from '../../http/context.ts';

/** GET /healthz: 200 only when the database answers; load balancers and `npm start` wait on it. */
export function healthRoutes({ db }: AppDeps) {
	return new Hono<AppEnv>().get('/', async (c) => {
		try {
			await sql`select 1`.execute(db);
			return c.json({ status: 'ok', database: 'ok' });
		} catch {
			return c.json({ status: 'unavailable', database: 'unreachable' }, 503);
		}
	});
}
