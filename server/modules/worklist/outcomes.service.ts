/**
 * §4 Outcomes: per staff member (the store book as its own row) and per reason — list
 * completion, contact rate, click rate, purchase conversion — each with its definition.
 */
import type { Db } from '../../db/index.ts';
import { forbidden } from '../../errors.ts';
import type { StaffPrincipal } from '../../http/context.ts';
import { parsePeriod, type Period } from '../reports/period.ts';
import { toCsv, type CsvColumn } from '../reports/csv.ts';
import { homeStoreOf } from '../staff/staff.service.ts';
import { outcomeRows, type OutcomeRow } from './outcomes.repository.ts';
import { REASONS, type Reason } from './rules.ts';

export const OUTCOME_DEFINITIONS = {
	items: { ja: '期間内に期限を迎えたリストの項目（キャンペーン取り下げ分を除く）', en: 'List items due in the period (withdrawn campaign items excluded)' },
	completion: { ja: 'リスト完了率 = 完了 ÷ 項目（見送りは完了に含めない）', en: 'List completion = done ÷ items (dismissed is not done)' },
	contactRate: {
		ja: '連絡率 = 項目が載ってから帰属期間内にLINEフォローアップ（送信待ち含む、失敗・取消を除く）か接客記録があった項目 ÷ 項目',
		en: 'Contact rate = items whose customer got a LINE follow-up (queued or sent; not failed or cancelled) or a consultation within the attribution window after the item appeared ÷ items'
	},
	clickRate: { ja: 'クリック率 = 連絡後、帰属期間内にトラッキングリンクがクリックされた項目 ÷ 連絡した項目', en: 'Click rate = contacted items with a tracked-link click within the window after the contact ÷ contacted items' },
	conversion: {
		ja: '購入転換率 = 連絡後、帰属期間内に店舗またはECで購入（取消を除く）があった項目 ÷ 連絡した項目',
		en: 'Purchase conversion = contacted items whose customer bought in a store or on EC (not cancelled) within the window after the contact ÷ contacted items'
	},
	baseline: {
		ja: '未連絡の購入率 = 連絡のなかった項目のうち、項目が載ってから帰属期間内に購入があった割合（比較用）',
		en: 'Uncontacted purchase rate = items never contacted whose customer still bought within the window after the item appeared ÷ uncontacted items (for comparison)'
	}
} as const;

export interface OutcomeFigures {
	items: number;
	done: number;
	dismissed: number;
	contacted: number;
	clicked: number;
	bought: number;
	uncontacted: number;
	uncontactedBought: number;
	completion: number | null;
	contactRate: number | null;
	clickRate: number | null;
	conversion: number | null;
	baseline: number | null;
}

const rate = (n: number, d: number) => (d > 0 ? Math.round((n / d) * 1000) / 1000 : null);

export function figures(r: Pick<OutcomeRow, 'items' | 'done' | 'dismissed' | 'contacted' | 'clicked' | 'bought' | 'uncontacted' | 'uncontacted_bought'>): OutcomeFigures {
	return {
		items: r.items,
		done: r.done,
		dismissed: r.dismissed,
		contacted: r.contacted,
		clicked: r.clicked,
		bought: r.bought,
		uncontacted: r.uncontacted,
		uncontactedBought: r.uncontacted_bought,
		completion: rate(r.done, r.items),
		contactRate: rate(r.contacted, r.items),
		clickRate: rate(r.clicked, r.contacted),
		conversion: rate(r.bought, r.contacted),
		baseline: rate(r.uncontacted_bought, r.uncontacted)
	};
}

export interface OutcomesReport {
	period: { from: string; to: string };
	storeId: string | null;
	windowDays: number;
	definitions: typeof OUTCOME_DEFINITIONS;
	byStaff: Array<{ staffId: string | null; staffName: string | null; storeId: string | null; storeName: string | null; book: boolean } & OutcomeFigures>;
	byReason: Array<{ reason: Reason } & OutcomeFigures>;
	total: OutcomeFigures;
}

export async function outcomes(db: Db, staff: StaffPrincipal, q: { from?: string; to?: string; storeId?: string }, windowDays: number): Promise<OutcomesReport> {
	const period: Period = parsePeriod(q);
	let storeId = q.storeId ?? null;
	if (staff.role !== 'admin') {
		const home = (await homeStoreOf(db, staff.id)) ?? staff.storeId;
		if (storeId && storeId !== home) throw forbidden('forbidden', 'Managers see their own store');
		storeId = home;
	}
	const rows = await outcomeRows(db, period.from, period.to, storeId, windowDays);
	const byStaff = rows
		.filter((r) => r.by === 'staff')
		.map((r) => ({ staffId: r.staff_id, staffName: r.staff_name, storeId: r.store_id, storeName: r.store_name, book: r.staff_id === null, ...figures(r) }));
	const byReasonMap = new Map(rows.filter((r) => r.by === 'reason').map((r) => [r.reason as Reason, r]));
	const zero = { items: 0, done: 0, dismissed: 0, contacted: 0, clicked: 0, bought: 0, uncontacted: 0, uncontacted_bought: 0 };
	const byReason = REASONS.map((reason) => ({ reason, ...figures(byReasonMap.get(reason) ?? zero) }));
	const sum = (k: keyof typeof zero) => rows.filter((r) => r.by === 'reason').reduce((a, r) => a + Number(r[k]), 0);
	const total = figures({ items: sum('items'), done: sum('done'), dismissed: sum('dismissed'), contacted: sum('contacted'), clicked: sum('clicked'), bought: sum('bought'), uncontacted: sum('uncontacted'), uncontacted_bought: sum('uncontacted_bought') });
	return { period: { from: period.from, to: period.to }, storeId, windowDays, definitions: OUTCOME_DEFINITIONS, byStaff, byReason, total };
}

const REASON_JA: Record<Reason, string> = {
	next_action: '次回アクション',
	birthday: '誕生日',
	second_purchase: '2回目購入のきっかけ',
	thank_you: 'ご購入のお礼',
	dormancy_risk: '休眠リスク',
	cross_channel: '店舗へのご招待',
	campaign: 'キャンペーン'
};

const pct = (v: number | null) => (v === null ? '' : (v * 100).toFixed(1));

function figureColumns<T extends OutcomeFigures>(): CsvColumn<T>[] {
	return [
		{ header: '項目数', value: (r) => r.items },
		{ header: '完了', value: (r) => r.done },
		{ header: '見送り', value: (r) => r.dismissed },
		{ header: 'リスト完了率(%)', value: (r) => pct(r.completion) },
		{ header: '連絡', value: (r) => r.contacted },
		{ header: '連絡率(%)', value: (r) => pct(r.contactRate) },
		{ header: 'クリック', value: (r) => r.clicked },
		{ header: 'クリック率(%)', value: (r) => pct(r.clickRate) },
		{ header: '購入', value: (r) => r.bought },
		{ header: '購入転換率(%)', value: (r) => pct(r.conversion) },
		{ header: '未連絡の購入率(%)', value: (r) => pct(r.baseline) }
	];
}

/** One CSV: a row per staff member (and store book), then a row per reason; period in JST. */
export function outcomesCsv(report: OutcomesReport): string {
	type Row = OutcomeFigures & { kind: string; name: string };
	const rows: Row[] = [
		...report.byStaff.map((r) => ({ ...r, kind: 'スタッフ', name: r.book ? `店舗ブック（${r.storeName ?? ''}）` : (r.staffName ?? '') })),
		...report.byReason.map((r) => ({ ...r, kind: '理由', name: REASON_JA[r.reason] }))
	];
	return toCsv<Row>(
		[
			{ header: '期間（JST）', value: () => `${report.period.from}〜${report.period.to}` },
			{ header: '区分', value: (r) => r.kind },
			{ header: '対象', value: (r) => r.name },
			...figureColumns<Row>()
		],
		rows
	);
}
