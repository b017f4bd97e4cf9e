/** /api/products: search and JAN/SKU lookup (any signed-in staff). */
import { Hono } from 'hono';
import * as v from 'valibot';
import type { AppDeps, AppEnv } from '../../http/context.ts';
import { validate } from '../../http/validate.ts';
import { requireStaff } from '../staff/auth.middleware.ts';
import * as service from './products.service.ts';

const Query = v.object({ q: v.pipe(v.string(), v.maxLength(100)) });
const Code = v.object({ code: v.pipe(v.string(), v.minLength(1), v.maxLength(64)) });

export function productRoutes(deps: AppDeps) {
	return new Hono<AppEnv>()
		.use(requireStaff(deps))
		.get('/search', validate('query', Query), async (c) => c.json(await service.searchProducts(deps.db, c.req.valid('query').q)))
		.get('/by-code/:code', validate('param', Code), async (c) =>
			c.json(await service.productByCode(deps.db, c.req.valid('param').code))
		);
}
