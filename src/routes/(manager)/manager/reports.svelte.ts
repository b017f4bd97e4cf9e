/**
 * The manager screens' shared state and calls: one period (kept while switching tabs), the
 * store filter, JSON fetches and CSV downloads with the session credential.
 */
import { jstDate, jstDateTime as jstDateTimeOf } from '../../../../server/shared/jst.ts';
import { api } from '$lib/api/client.ts';
import { credentials } from '$lib/api/credentials.svelte.ts';
import type {
	FunnelReport,
	KpiReport,
	MeReport,
	SalesOrdersReport,
	SalesReport
} from '../../../../server/modules/reports/reports.service.ts';

export type { FunnelReport, KpiReport, MeReport, SalesOrdersReport, SalesReport };
export type Bucket = 'day' | 'week' | 'month';
export type Preset = 'today' | 'thisWeek' | 'thisMonth' | 'lastMonth' | 'last12' | 'custom';

const DAY_MS = 86_400_000;
/** Today's date in Japan (the reports' calendar), whatever the browser's zone. */
export function jstToday(now = new Date()): string {
	return jstDate(now);
}
const shift = (date: string, days: number) => new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
const monthStart = (date: string) => `${date.slice(0, 7)}-01`;

export function presetRange(preset: Exclude<Preset, 'custom'>, today = jstToday()): { from: string; to: string; bucket: Bucket } {
	switch (preset) {
		case 'today':
			return { from: today, to: today, bucket: 'day' };
		case 'thisWeek': {
			const weekday = (new Date(`${today}T00:00:00Z`).getUTCDay() + 6) % 7;
			return { from: shift(today, -weekday), to: today, bucket: 'day' };
		}
		case 'thisMonth':
			return { from: monthStart(today), to: today, bucket: 'day' };
		case 'lastMonth': {
			const last = shift(monthStart(today), -1);
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

export function query(extra: Record<string, string | undefined> = {}): string {
	const params = new URLSearchParams({ from: filters.from, to: filters.to });
	if (filters.storeId) params.set('storeId', filters.storeId);
	for (const [k, v] of Object.entries(extra)) if (v) params.set(k, v);
	return params.toString();
}

export async function getReport<T>(path: string): Promise<T> {
	return (await api<T>(`/api/reports${path}`, { timeoutMs: 30_000 })).data;
}

/** Fetches the CSV with the session (a plain link cannot carry it) and saves it under the server's file name. */
export async function downloadCsv(path: string): Promise<void> {
	const sep = path.includes('?') ? '&' : '?';
	const res = await fetch(`/api/reports${path}${sep}format=csv`, {
		headers: { authorization: `Bearer ${credentials.session?.token ?? ''}` },
		cache: 'no-store'
	});
	if (!res.ok) throw new Error(`HTTP ${res.status}`);
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
export const jstDateTime = (at: string | Date | null) =>
	at ? jstDateTimeOf(at) : '—';
