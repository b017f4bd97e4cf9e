/**
 * Manager reports: staff-attributed EC sales, the follow-up funnel, the OMO KPIs and the
 * staff member's own month. Every function starts with the access check (`scopeFor`):
 * staff → their own staff id only, managers → their home store only, admins → everything.
 */
import { sql } from 'kysely';
import type { Db } from '../../db/index.ts';
import { forbidden } from '../../errors.ts';
import type { StaffPrincipal } from '../../http/context.ts';
import { CUSTOMER_STATES, type CustomerState } from '../customers/state.ts';
import { FUNNEL_DEFINITIONS, kpiDefinitions, SALES_DEFINITION } from './definitions.ts';
import { bucketStarts, jstMonth, parsePeriod, type Bucket, type Period } from './period.ts';
import * as repo from './reports.repository.ts';
import type { Scope } from './reports.repository.ts';
import * as rollup from './rollup.repository.ts';
import * as facts from './customer-facts.repository.ts';
import { confirmedBefore, creditHistories, type CreditHistoryEntry } from '../attribution/attribution.service.ts';

/**
 * Sales and funnel figures come from the daily rollups. Before reading them a report makes
 * sure they include every order, refund, cancellation, click and follow-up committed before the
 * request started: nothing to do when no dirty marker is visible, otherwise it rebuilds the
 * marked days itself (waiting for a refresh already running). Writes that commit while the
 * report runs may or may not be in it; the next request has them (docs/report-freshness.md).
 */
async function freshRollups(db: Db): Promise<void> {
	if (await rollup.rollupsAreFresh(db)) return;
	await db.transaction().execute((trx) => rollup.refreshRollups(trx));
}

/** The same for the per-customer facts behind the KPIs (receipts, orders, customers). */
async function freshCustomerFacts(db: Db): Promise<void> {
	if (await facts.factsAreFresh(db)) return;
	await db.transaction().execute((trx) => facts.refreshCustomerFacts(trx));
}

/**
 * Brings the rollups and the KPI facts up to date now (after a customer merge or its undo, so
 * the next report does not pay for it). Freshness does not depend on it.
 */
export async function refreshReportsNow(db: Db): Promise<void> {
	await freshRollups(db);
	await freshCustomerFacts(db);
}

export type Who = Pick<StaffPrincipal, 'id' | 'role'>;

export interface PeriodQuery {
	from?: string;
	to?: string;
	storeId?: string;
	staffId?: string;
}

/**
 * Narrows the requested filters to what the caller may see, or throws 403. Managers' store
 * comes from their staff record (not the tablet), so a manager signed in elsewhere still
 * sees only their own store.
 */
export async function scopeFor(db: Db, who: Who, requested: Scope): Promise<Scope> {
	if (who.role === 'admin') return requested;
	if (who.role === 'staff') {
		if (requested.staffId && requested.staffId !== who.id) throw forbidden('forbidden', 'Staff see only their own numbers');
		const me = await repo.findStaff(db, who.id);
		if (requested.storeId && requested.storeId !== me?.home_store_id) {
			throw forbidden('forbidden', 'Staff see only their own numbers');
		}
		return { staffId: who.id, storeId: requested.storeId };
	}
	const me = await repo.findStaff(db, who.id);
	const home = me?.home_store_id;
	if (!home) throw forbidden('forbidden', 'This manager has no home store');
	if (requested.storeId && requested.storeId !== home) throw forbidden('forbidden', 'Managers see only their own store');
	if (requested.staffId) {
		const other = await repo.findStaff(db, requested.staffId);
		if (!other || other.home_store_id !== home) throw forbidden('forbidden', 'This staff member is not in your store');
	}
	return { storeId: home, staffId: requested.staffId };
}

const rate = (numerator: number, denominator: number): number | null =>
	denominator > 0 ? Math.round((numerator / denominator) * 10_000) / 10_000 : null;

const periodOut = (p: Period) => ({ from: p.from, to: p.to, timeZone: 'Asia/Tokyo' as const });

// ---------------------------------------------------------------- sales

export type SalesGroupBy = 'staff' | 'store' | Bucket;

export interface SalesRow {
	/** By staff only: net credit split at the brand's holding period (確定 / 未確定). */
	confirmedNetYen?: number;
	pendingNetYen?: number;
	key: string;
	label: string;
	labelEn: string;
	storeId: string | null;
	staffCode: string | null;
	orders: number;
	grossYen: number;
	refundedYen: number;
	netYen: number;
}

export interface SalesReport {
	period: ReturnType<typeof periodOut>;
	groupBy: SalesGroupBy;
	scope: Scope;
	rows: SalesRow[];
	totals: { orders: number; grossYen: number; refundedYen: number; netYen: number };
	definition: { ja: string; en: string };
}

export async function salesReport(db: Db, who: Who, query: PeriodQuery & { groupBy: SalesGroupBy }, now = new Date()): Promise<SalesReport> {
	const scope = await scopeFor(db, who, query);
	const period = parsePeriod(query, now);
	await freshRollups(db);
	const rows = await salesRows(db, period, scope, query.groupBy);
	if (query.groupBy === 'staff') await addCreditSplit(db, period, scope, rows, now);
	const totals = rows.reduce(
		(t, r) => ({ orders: t.orders + r.orders, grossYen: t.grossYen + r.grossYen, refundedYen: t.refundedYen + r.refundedYen, netYen: t.netYen + r.netYen }),
		{ orders: 0, grossYen: 0, refundedYen: 0, netYen: 0 }
	);
	return { period: periodOut(period), groupBy: query.groupBy, scope, rows, totals, definition: SALES_DEFINITION };
}

/** Per staff row, its net credit split into 確定 (past the holding period) and 未確定. */
async function addCreditSplit(db: Db, period: Period, scope: Scope, rows: SalesRow[], now: Date): Promise<void> {
	const split = new Map((await repo.creditSplitByStaff(db, period, scope, await confirmedBefore(db, now))).map((r) => [r.staffId, r]));
	for (const row of rows) {
		row.confirmedNetYen = split.get(row.key)?.confirmedNetYen ?? 0;
		row.pendingNetYen = split.get(row.key)?.pendingNetYen ?? 0;
	}
}

/**
 * Every active staff member in scope stays on the leaderboard, ¥0 included: staff who sent
 * follow-ups but sold nothing yet must not vanish from the board.
 */
async function withIdleStaff(db: Db, scope: Scope, rows: Awaited<ReturnType<typeof rollup.salesByStaff>>) {
	const present = new Set(rows.map((r) => r.key));
	const idle = (await repo.activeStaffInScope(db, scope))
		.filter((s) => !present.has(s.id))
		.map((s) => ({ key: s.id, label: s.display_name, labelEn: s.display_name, storeId: s.home_store_id, staffCode: s.staff_code, orders: 0, grossYen: 0, refundedYen: 0 }));
	return [...rows, ...idle];
}

async function salesRows(db: Db, period: Period, scope: Scope, groupBy: SalesGroupBy): Promise<SalesRow[]> {
	const withNet = <T extends { grossYen: number; refundedYen: number }>(r: T) => ({ ...r, netYen: r.grossYen - r.refundedYen });
	if (groupBy === 'staff' || groupBy === 'store') {
		const rows = groupBy === 'staff' ? await withIdleStaff(db, scope, await rollup.salesByStaff(db, period, scope)) : await rollup.salesByStore(db, period, scope);
		// leaderboard order: net, then gross, then name (stable for equal figures)
		return rows.map(withNet).sort((a, b) => b.netYen - a.netYen || b.grossYen - a.grossYen || a.label.localeCompare(b.label));
	}
	const found = new Map((await rollup.salesByTime(db, period, scope, groupBy)).map((r) => [r.key, r]));
	// every bucket of the period, empty ones as zero, so the chart's x axis is continuous
	return bucketStarts(period, groupBy).map((key) => {
		const r = found.get(key) ?? { orders: 0, grossYen: 0, refundedYen: 0 };
		return withNet({ key, label: key, labelEn: key, storeId: null, staffCode: null, orders: r.orders, grossYen: r.grossYen, refundedYen: r.refundedYen });
	});
}

// ---------------------------------------------------------------- drill-down

export interface AttributedOrder extends repo.AttributedOrderRow {
	netYen: number;
	/** Past the brand's holding period (確定); pending (未確定) otherwise. */
	confirmed: boolean;
	/** Every change of this order's credit, oldest first (the attribution ledger). */
	creditHistory: CreditHistoryEntry[];
}

/** The drill-down rows with their 確定 flag and credit history (one ledger query for all). */
async function withCredit(db: Db, rows: repo.AttributedOrderRow[], now: Date): Promise<AttributedOrder[]> {
	const before = await confirmedBefore(db, now);
	const histories = new Map<string, Map<string, CreditHistoryEntry[]>>();
	for (const platform of new Set(rows.map((r) => r.platform))) {
		histories.set(platform, await creditHistories(db, platform, rows.filter((r) => r.platform === platform).map((r) => r.ecOrderId)));
	}
	return rows.map((r) => ({
		...r,
		netYen: r.grossYen - r.refundedYen,
		confirmed: new Date(r.orderedAt).getTime() < before.getTime(),
		creditHistory: histories.get(r.platform)?.get(r.ecOrderId) ?? []
	}));
}

export const MAX_DRILL_DOWN_ROWS = 5_000;

export async function salesOrders(db: Db, who: Who, query: PeriodQuery & { limit?: number }, now = new Date()) {
	const scope = await scopeFor(db, who, query);
	const period = parsePeriod(query, now);
	// a screenful by default (the CSV asks for everything up to the cap)
	const limit = Math.min(query.limit ?? 200, MAX_DRILL_DOWN_ROWS);
	const rows = await repo.attributedOrders(db, period, scope, limit + 1);
	return {
		period: periodOut(period),
		scope,
		truncated: rows.length > limit,
		orders: await withCredit(db, rows.slice(0, limit), now),
		definition: SALES_DEFINITION
	};
}

// ---------------------------------------------------------------- funnel

export type FunnelGroupBy = 'staff' | 'store' | 'total';

export interface FunnelRowOut {
	key: string;
	label: string;
	labelEn: string;
	created: number;
	sent: number;
	failed: number;
	delivered: number;
	clicked: number;
	ordered: number;
	orders: number;
	grossYen: number;
	refundedYen: number;
	netYen: number;
	clickRate: number | null;
	conversionRate: number | null;
}

function funnelRow(r: rollup.FunnelSums): FunnelRowOut {
	return {
		...r,
		delivered: r.sent,
		netYen: r.grossYen - r.refundedYen,
		clickRate: rate(r.clicked, r.sent),
		conversionRate: rate(r.ordered, r.clicked)
	};
}

export async function funnelReport(db: Db, who: Who, query: PeriodQuery & { groupBy: FunnelGroupBy }, now = new Date()) {
	const scope = await scopeFor(db, who, query);
	const period = parsePeriod(query, now);
	await freshRollups(db);
	const [rows, total] = await Promise.all([
		query.groupBy === 'total' ? Promise.resolve([]) : rollup.funnel(db, period, scope, query.groupBy),
		rollup.funnel(db, period, scope, 'total')
	]);
	const empty: rollup.FunnelSums = { key: 'total', label: 'total', labelEn: 'total', created: 0, sent: 0, failed: 0, clicked: 0, ordered: 0, orders: 0, grossYen: 0, refundedYen: 0 };
	return {
		period: periodOut(period),
		groupBy: query.groupBy,
		scope,
		rows: rows.map(funnelRow).sort((a, b) => b.sent - a.sent || a.label.localeCompare(b.label)),
		totals: funnelRow(total[0] ?? empty),
		definitions: FUNNEL_DEFINITIONS
	};
}

// ---------------------------------------------------------------- KPIs

export interface Ratio {
	value: number | null;
	numerator: number;
	denominator: number;
}

export async function kpiReport(db: Db, who: Who, dormantDays: number, query: { from?: string; to?: string; storeId?: string }, now = new Date()) {
	if (who.role === 'staff') throw forbidden('forbidden', 'Customer KPIs are for managers and admins');
	const scope = await scopeFor(db, who, { storeId: query.storeId });
	const period = parsePeriod(query, now);
	await freshCustomerFacts(db);
	const [cells, intervals] = await Promise.all([
		db.transaction().execute(async (trx) => {
			// one row per customer grouped into a few dozen cells: the planner cannot see that
			// and would sort 200k rows to disk; enough memory makes it hash
			await sql`set local work_mem = '64MB'`.execute(trx);
			return facts.kpiCells(trx, period, scope.storeId, dormantDays);
		}),
		facts.purchaseIntervals(db, period, scope.storeId)
	]);
	const sum = (pick: (c: repo.KpiCell) => number, where: (c: repo.KpiCell) => boolean = () => true) =>
		cells.filter(where).reduce((n, c) => n + pick(c), 0);
	const ratio = (numerator: number, denominator: number): Ratio => ({ value: rate(numerator, denominator), numerator, denominator });
	const dormantAtStart = (c: repo.KpiCell) => c.stateAtStart === 'dormant';
	const atStart = Object.fromEntries(CUSTOMER_STATES.map((s) => [s, sum((c) => c.customers, (c) => c.stateAtStart === s)])) as Record<CustomerState, number>;
	const atEnd = Object.fromEntries(CUSTOMER_STATES.map((s) => [s, sum((c) => c.customers, (c) => c.stateAtEnd === s)])) as Record<CustomerState, number>;
	return {
		period: periodOut(period),
		scope: { storeId: scope.storeId },
		dormantDays,
		kpis: {
			f2Rate: ratio(sum((c) => c.secondInPeriod), sum((c) => c.firstInPeriod)),
			crossChannelRate: ratio(sum((c) => c.crossChannel), sum((c) => c.purchasers)),
			dormantReactivationRate: ratio(sum((c) => c.purchasers, dormantAtStart), sum((c) => c.customers, dormantAtStart)),
			medianPurchaseIntervalDays: { value: intervals.median, intervals: intervals.gaps }
		},
		states: {
			order: CUSTOMER_STATES,
			atStart,
			atEnd,
			transitions: cells
				.filter((c) => c.customers > 0)
				.map((c) => ({ from: c.stateAtStart, to: c.stateAtEnd, customers: c.customers }))
				.sort((a, b) => CUSTOMER_STATES.indexOf(a.from) - CUSTOMER_STATES.indexOf(b.from) || CUSTOMER_STATES.indexOf(a.to) - CUSTOMER_STATES.indexOf(b.to))
		},
		definitions: kpiDefinitions(dormantDays)
	};
}

export type KpiReport = Awaited<ReturnType<typeof kpiReport>>;

// ---------------------------------------------------------------- me

/** The signed-in staff member's own month (default: this JST month): follow-ups, clicks, attributed orders. */
export async function meReport(db: Db, who: Who, query: { month?: string }, now = new Date()) {
	const month = jstMonth(now, query.month);
	const period = parsePeriod(month, now);
	const scope: Scope = { staffId: who.id };
	await freshRollups(db);
	const [funnel, clicks, sales, recent, split] = await Promise.all([
		rollup.funnel(db, period, scope, 'total'),
		repo.clicksOfStaff(db, period, who.id),
		rollup.salesByStaff(db, period, scope),
		repo.attributedOrders(db, period, scope, 20),
		confirmedBefore(db, now).then((before) => repo.creditSplitByStaff(db, period, scope, before))
	]);
	const f = funnel[0];
	const s = sales[0];
	return {
		period: periodOut(period),
		month: month.from.slice(0, 7),
		followUps: { sent: f?.sent ?? 0, failed: f?.failed ?? 0, clicked: f?.clicked ?? 0, clickRate: rate(f?.clicked ?? 0, f?.sent ?? 0) },
		clicks,
		sales: {
			orders: s?.orders ?? 0,
			grossYen: s?.grossYen ?? 0,
			refundedYen: s?.refundedYen ?? 0,
			netYen: (s?.grossYen ?? 0) - (s?.refundedYen ?? 0),
			confirmedNetYen: split[0]?.confirmedNetYen ?? 0,
			pendingNetYen: split[0]?.pendingNetYen ?? 0
		},
		recentOrders: await withCredit(db, recent, now),
		definition: SALES_DEFINITION
	};
}

export type MeReport = Awaited<ReturnType<typeof meReport>>;
export type FunnelReport = Awaited<ReturnType<typeof funnelReport>>;
export type SalesOrdersReport = Awaited<ReturnType<typeof salesOrders>>;
