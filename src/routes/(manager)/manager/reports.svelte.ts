/**
 * The manager screens' shared state and calls: one period (kept while switching tabs), the
 * store filter, JSON fetches and CSV downloads with the session credential.
 */
import { addDays, DAY_MS, jstDate, jstDateTime as jstDateTimeOf, jstMidnight } from '../../../../server/shared/jst.ts';
import { MAX_PERIOD_DAYS } from '../../../../server/modules/reports/period.ts';
import type { InferRequestType } from 'hono/client';
import { api, ApiError, call, callRaw } from '$lib/api/client.ts';
import { errorMessage } from '$lib/api/errors.ts';
import type { FunnelReport, KpiReport, MeReport, SalesOrdersReport, SalesReport } from '$lib/api/types.ts';

export type { FunnelReport, KpiReport, MeReport, SalesOrdersReport, SalesReport };
export type Bucket = 'day' | 'week' | 'month';
export type Preset = 'today' | 'thisWeek' | 'thisMonth' | 'lastMonth' | 'last12' | 'custom';

/** Today's date in Japan (the reports' calendar), whatever the browser's zone. */
export function jstToday(now = new Date()): string {
	return jstDate(now);
}
const monthStart = (date: string) => `${date.slice(0, 7)}-01`;

export function presetRange(preset: Exclude<Preset, 'custom'>, today = jstToday()): { from: string; to: string; bucket: Bucket } {
	switch (preset) {
		case 'today':
			return { from: today, to: today, bucket: 'day' };
		case 'thisWeek': {
			const weekday = (new Date(`${today}T00:00:00Z`).getUTCDay() + 6) % 7;
			return { from: addDays(today, -weekday), to: today, bucket: 'day' };
		}
		case 'thisMonth':
			return { from: monthStart(today), to: today, bucket: 'day' };
		case 'lastMonth': {
			const last = addDays(monthStart(today), -1);
			return { from: monthStart(last), to: last, bucket: 'day' };
		}
		case 'last12': {
			const [y, m] = today.split('-').map(Number);
			const from = m === 12 ? `${y}-01-01` : `${y - 1}-${String(m + 1).padStart(2, '0')}-01`;
			return { from, to: today, bucket: 'month' };
		}
	}
}

const initial = presetRange('thisMonth');
export const filters = $state({ preset: 'thisMonth' as Preset, from: initial.from, to: initial.to, bucket: initial.bucket, storeId: '' });

/** The period and store filter every report takes (the store only when one is chosen). */
export function query(): { from: string; to: string; storeId?: string } {
	return { from: filters.from, to: filters.to, ...(filters.storeId ? { storeId: filters.storeId } : {}) };
}

type Query<F extends (args: { query: object }, ...rest: never[]) => unknown> = InferRequestType<F>['query'];
export type SalesQuery = Query<typeof api.reports.sales.$get>;
export type OrdersQuery = Query<typeof api.reports.sales.orders.$get>;
export type FunnelQuery = Query<typeof api.reports.funnel.$get>;
export type KpiQuery = Query<typeof api.reports.kpis.$get>;
export type WorklistOutcomesQuery = Query<typeof api.worklist.outcomes.$get>;

/** Reports can take a while on a big brand: a longer timeout than the tablet's calls. */
const REPORT_TIMEOUT = { timeoutMs: 30_000 };

/**
 * A reversed or too long period is answered here, with the server's codes and messages, before
 * any request: the screen clears its charts and says which date to change (and the browser logs
 * no failed request).
 */
export function periodProblem(q: { from?: string; to?: string }): 'period_reversed' | 'period_too_long' | null {
	if (!q.from || !q.to) return null;
	const from = jstMidnight(q.from);
	const to = jstMidnight(q.to);
	if (!from || !to) return null; // the server names a malformed date
	if (to < from) return 'period_reversed';
	return Math.round((to.getTime() - from.getTime()) / DAY_MS) + 1 > MAX_PERIOD_DAYS ? 'period_too_long' : null;
}

function checked<Q extends { from?: string; to?: string }, R>(fetch: (query: Q) => Promise<R>): (query: Q) => Promise<R> {
	return (query) => {
		const problem = periodProblem(query);
		return problem ? Promise.reject(new ApiError(400, problem, problem)) : fetch(query);
	};
}

export const reports = {
	sales: checked((query: SalesQuery) => call((o) => api.reports.sales.$get({ query }, o), REPORT_TIMEOUT)),
	orders: checked((query: OrdersQuery) => call((o) => api.reports.sales.orders.$get({ query }, o), REPORT_TIMEOUT)),
	funnel: checked((query: FunnelQuery) => call((o) => api.reports.funnel.$get({ query }, o), REPORT_TIMEOUT)),
	kpis: checked((query: KpiQuery) => call((o) => api.reports.kpis.$get({ query }, o), REPORT_TIMEOUT)),
	worklist: checked((query: WorklistOutcomesQuery) => call((o) => api.worklist.outcomes.$get({ query }, o), REPORT_TIMEOUT))
};

/**
 * Lets only the newest request's answer land: a slow answer for an earlier period that arrives
 * after the range was changed (to another period, or to an invalid one whose error cleared the
 * charts) is dropped, never drawn over the newer state.
 */
export function newestOnly(): <T>(request: Promise<T>) => Promise<T> {
	let latest = 0;
	return <T>(request: Promise<T>) => {
		const mine = ++latest;
		return new Promise<T>((resolve, reject) => {
			request.then(
				(value) => mine === latest && resolve(value),
				(err: unknown) => mine === latest && reject(err)
			);
		});
	};
}

/**
 * A report screen's data: loaded again whenever what `load` reads changes (the period, the store,
 * the page's own filters); a failure clears the report and keeps the translated message.
 * Call it while the component initialises (it registers an effect).
 */
export function liveReport<T>(load: () => Promise<T>): { readonly report: T | null; readonly error: string } {
	const view = $state({ report: null as T | null, error: '' });
	const newest = newestOnly();
	$effect(() => {
		view.error = '';
		newest(load())
			.then((r) => (view.report = r))
			.catch((err: unknown) => {
				view.report = null;
				view.error = errorMessage(err);
			});
	});
	return view;
}

export type CsvRequest =
	| { report: 'sales'; query: SalesQuery }
	| { report: 'orders'; query: OrdersQuery }
	| { report: 'funnel'; query: FunnelQuery }
	| { report: 'kpis'; query: KpiQuery }
	| { report: 'worklist'; query: WorklistOutcomesQuery };

function csvResponse(req: CsvRequest) {
	const options = REPORT_TIMEOUT;
	switch (req.report) {
		case 'sales':
			return callRaw((o) => api.reports.sales.$get({ query: { ...req.query, format: 'csv' } }, o), options);
		case 'orders':
			return callRaw((o) => api.reports.sales.orders.$get({ query: { ...req.query, format: 'csv' } }, o), options);
		case 'funnel':
			return callRaw((o) => api.reports.funnel.$get({ query: { ...req.query, format: 'csv' } }, o), options);
		case 'kpis':
			return callRaw((o) => api.reports.kpis.$get({ query: { ...req.query, format: 'csv' } }, o), options);
		case 'worklist':
			return callRaw((o) => api.worklist.outcomes.$get({ query: { ...req.query, format: 'csv' } }, o), options);
	}
}

/** Fetches the CSV with the session (a plain link cannot carry it) and saves it under the server's file name. */
export async function downloadCsv(req: CsvRequest): Promise<void> {
	const res = await csvResponse(req);
	const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? 'report.csv';
	const url = URL.createObjectURL(await res.blob());
	const a = document.createElement('a');
	a.href = url;
	a.download = name;
	document.body.append(a);
	a.click();
	a.remove();
	setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export const percent = (value: number | null) => (value === null ? '—' : `${(value * 100).toFixed(1)}%`);
export const jstDateTime = (at: string | null) => (at ? jstDateTimeOf(at) : '—');
