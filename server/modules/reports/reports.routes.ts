/**
 * /api/reports/* — sales (+ drill-down), funnel, KPIs and the staff member's own month.
 * Any signed-in staff member may call them; the service narrows what each role sees.
 * `?format=csv` returns the same table as a UTF-8 (BOM) CSV download.
 */
import { Hono } from 'hono';
import * as v from 'valibot';
import type { AppDeps, AppEnv } from '../../http/context.ts';
import { validate } from '../../http/validate.ts';
import { requireStaff } from '../staff/auth.middleware.ts';
import { csvResponse } from './csv.ts';
import { funnelCsv, kpisCsv, meCsv, salesCsv, salesOrdersCsv } from './reports.export.ts';
import * as service from './reports.service.ts';

const JstDate = v.pipe(v.string(), v.regex(/^\d{4}-\d{2}-\d{2}$/, 'Use YYYY-MM-DD'));
const Format = v.optional(v.picklist(['json', 'csv']), 'json');
const Filters = {
	from: v.optional(JstDate),
	to: v.optional(JstDate),
	storeId: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(64))),
	staffId: v.optional(v.pipe(v.string(), v.uuid('Not a staff id'))),
	format: Format
};

const SalesQuery = v.object({ ...Filters, groupBy: v.optional(v.picklist(['staff', 'store', 'day', 'week', 'month']), 'staff') });
const OrdersQuery = v.object({
	...Filters,
	limit: v.optional(v.pipe(v.string(), v.regex(/^\d{1,5}$/), v.transform(Number), v.minValue(1)))
});
const FunnelQuery = v.object({ ...Filters, groupBy: v.optional(v.picklist(['staff', 'store', 'total']), 'staff') });
const KpiQuery = v.object({
	from: Filters.from,
	to: Filters.to,
	storeId: Filters.storeId,
	format: Format,
	table: v.optional(v.picklist(['kpis', 'transitions']), 'kpis')
});
const MeQuery = v.object({ month: v.optional(v.pipe(v.string(), v.regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'Use YYYY-MM'))), format: Format });

const name = (report: string, period: { from: string; to: string }) => `${report}_${period.from}_${period.to}.csv`;

export function reportRoutes(deps: AppDeps) {
	const { db } = deps;
	return new Hono<AppEnv>()
		.use(requireStaff(deps))
		.get('/sales', validate('query', SalesQuery), async (c) => {
			const q = c.req.valid('query');
			const report = await service.salesReport(db, c.get('staff')!, q);
			return q.format === 'csv' ? csvResponse(salesCsv(report), name(`sales-${q.groupBy}`, report.period)) : c.json(report);
		})
		.get('/sales/orders', validate('query', OrdersQuery), async (c) => {
			const q = c.req.valid('query');
			const report = await service.salesOrders(db, c.get('staff')!, {
				...q,
				limit: q.limit ?? (q.format === 'csv' ? service.MAX_DRILL_DOWN_ROWS : undefined)
			});
			return q.format === 'csv' ? csvResponse(salesOrdersCsv(report), name('sales-orders', report.period)) : c.json(report);
		})
		.get('/funnel', validate('query', FunnelQuery), async (c) => {
			const q = c.req.valid('query');
			const report = await service.funnelReport(db, c.get('staff')!, q);
			return q.format === 'csv' ? csvResponse(funnelCsv(report), name(`funnel-${q.groupBy}`, report.period)) : c.json(report);
		})
		.get('/kpis', validate('query', KpiQuery), async (c) => {
			const q = c.req.valid('query');
			const report = await service.kpiReport(db, c.get('staff')!, deps.config.dormantDays, q);
			return q.format === 'csv' ? csvResponse(kpisCsv(report, q.table), name(q.table, report.period)) : c.json(report);
		})
		.get('/me', validate('query', MeQuery), async (c) => {
			const q = c.req.valid('query');
			const report = await service.meReport(db, c.get('staff')!, q);
			return q.format === 'csv' ? csvResponse(meCsv(report), name('me', report.period)) : c.json(report);
		});
}
