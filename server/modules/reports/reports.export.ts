/** CSV versions of every report table: Japanese headers, the same rows as the screen. */
import { asText, toCsv } from './csv.ts';
import { JST_OFFSET_MS } from '../../shared/jst.ts';
import { jstDate } from './period.ts';
import type { FunnelReport, KpiReport, MeReport, SalesOrdersReport, SalesReport } from './reports.service.ts';

const jstTime = (at: Date | null) =>
	at ? `${jstDate(at)} ${new Date(at.getTime() + JST_OFFSET_MS).toISOString().slice(11, 19)}` : '';

const STATE_JA: Record<string, string> = {
	cross_channel: '店舗×EC横断',
	store_only: '店舗のみ',
	ec_only: 'ECのみ',
	first_purchase_only: '初回購入のみ',
	dormant: '休眠',
	none: '未購入'
};

export function salesCsv(report: SalesReport): string {
	const keyHeader = { staff: 'スタッフ', store: '店舗', day: '日付', week: '週（月曜）', month: '月' }[report.groupBy];
	return toCsv(
		[
			{ header: keyHeader, value: (r) => r.label },
			...(report.groupBy === 'staff' ? [{ header: 'スタッフコード', value: (r: SalesReport['rows'][number]) => r.staffCode }] : []),
			{ header: '注文数', value: (r) => r.orders },
			{ header: '総額（円）', value: (r) => r.grossYen },
			{ header: '返金（円）', value: (r) => r.refundedYen },
			{ header: '純売上（円）', value: (r) => r.netYen }
		],
		report.rows
	);
}

export function salesOrdersCsv(report: SalesOrdersReport): string {
	return toCsv(
		[
			{ header: '注文日時（日本時間）', value: (r) => jstTime(r.orderedAt) },
			{ header: '注文ID', value: (r) => asText(r.ecOrderId) },
			{ header: '注文番号', value: (r) => asText(r.orderName) },
			{ header: 'スタッフ', value: (r) => r.staffName },
			{ header: 'スタッフコード', value: (r) => r.staffCode },
			{ header: 'スタッフID', value: (r) => r.staffId },
			{ header: '店舗', value: (r) => r.storeName },
			{ header: '店舗コード', value: (r) => r.storeId },
			{ header: '帰属ルール', value: (r) => (r.rule === 'ref' ? 'ref（リンク経由）' : 'last_touch（最終タッチ）') },
			{ header: 'リンクコード', value: (r) => asText(r.linkCode) },
			{ header: 'クリック日時', value: (r) => jstTime(r.clickedAt) },
			{ header: 'フォローアップID', value: (r) => r.followUpId },
			{ header: 'メッセージ（抜粋）', value: (r) => r.followUpExcerpt },
			{ header: '総額（円）', value: (r) => r.grossYen },
			{ header: '返金（円）', value: (r) => r.refundedYen },
			{ header: '純売上（円）', value: (r) => r.netYen }
		],
		report.orders
	);
}

export function funnelCsv(report: FunnelReport): string {
	const rows = [...report.rows, { ...report.totals, label: '合計' }];
	return toCsv(
		[
			{ header: report.groupBy === 'store' ? '店舗' : report.groupBy === 'staff' ? 'スタッフ' : '集計', value: (r) => r.label },
			{ header: '送信', value: (r) => r.sent },
			{ header: '送信失敗', value: (r) => r.failed },
			{ header: '配信', value: (r) => r.delivered },
			{ header: 'クリック', value: (r) => r.clicked },
			{ header: '注文', value: (r) => r.ordered },
			{ header: '注文件数', value: (r) => r.orders },
			{ header: '純売上（円）', value: (r) => r.netYen },
			{ header: 'クリック率', value: (r) => r.clickRate },
			{ header: '購入率', value: (r) => r.conversionRate }
		],
		rows
	);
}

export function kpisCsv(report: KpiReport, table: 'kpis' | 'transitions'): string {
	if (table === 'transitions') {
		return toCsv(
			[
				{ header: '期間開始時の状態', value: (r) => STATE_JA[r.from] },
				{ header: '期間終了時の状態', value: (r) => STATE_JA[r.to] },
				{ header: '顧客数', value: (r) => r.customers }
			],
			report.states.transitions
		);
	}
	const k = report.kpis;
	const d = report.definitions;
	const rows = [
		{ name: 'F2転換率', value: k.f2Rate.value, numerator: k.f2Rate.numerator, denominator: k.f2Rate.denominator, definition: d.f2Rate.ja },
		{ name: 'クロス購買率', value: k.crossChannelRate.value, numerator: k.crossChannelRate.numerator, denominator: k.crossChannelRate.denominator, definition: d.crossChannelRate.ja },
		{ name: '休眠復帰率', value: k.dormantReactivationRate.value, numerator: k.dormantReactivationRate.numerator, denominator: k.dormantReactivationRate.denominator, definition: d.dormantReactivationRate.ja },
		{ name: '購入間隔（中央値・日）', value: k.medianPurchaseIntervalDays.value, numerator: null, denominator: k.medianPurchaseIntervalDays.intervals, definition: d.medianPurchaseIntervalDays.ja }
	];
	return toCsv(
		[
			{ header: '指標', value: (r) => r.name },
			{ header: '値', value: (r) => r.value },
			{ header: '分子', value: (r) => r.numerator },
			{ header: '分母', value: (r) => r.denominator },
			{ header: '定義', value: (r) => r.definition }
		],
		rows
	);
}

export function meCsv(report: MeReport): string {
	return toCsv(
		[
			{ header: '注文日時（日本時間）', value: (r) => jstTime(r.orderedAt) },
			{ header: '注文番号', value: (r) => asText(r.orderName ?? r.ecOrderId) },
			{ header: '帰属ルール', value: (r) => (r.rule === 'ref' ? 'ref（リンク経由）' : 'last_touch（最終タッチ）') },
			{ header: 'メッセージ（抜粋）', value: (r) => r.followUpExcerpt },
			{ header: '純売上（円）', value: (r) => r.netYen }
		],
		report.recentOrders
	);
}
