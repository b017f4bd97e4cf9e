/**
 * The definition of every figure, in Japanese and English, sent with the numbers so the
 * screen (and the CSV) can show exactly what was counted. Change a query → change its text.
 */
export interface Definition {
	ja: string;
	en: string;
}

export const SALES_DEFINITION: Definition = {
	ja: 'スタッフ経由EC売上：期間内（日本時間）に注文され、スタッフの売上になった注文です。スタッフが送ったリンクから買われた注文（リンク経由）と、リンクを通らなくても、そのスタッフが最後に接客・フォローした顧客の一定期間内の注文（最終タッチ）を数えます。キャンセルされた注文は除きます。純売上＝総額−返金額（返金は元の注文の期間に計上）。',
	en: 'Staff EC sales: orders placed in the period (JST) and credited to a staff member — orders through a link the staff member sent (via link), and orders by a customer the staff member last served or followed up within the attribution window (last touch). Cancelled orders are excluded. Net = gross − refunds (refunds count in the period of their order).'
};

export const FUNNEL_DEFINITIONS: Record<'sent' | 'failed' | 'delivered' | 'clicked' | 'ordered' | 'clickRate' | 'conversionRate' | 'netYen', Definition> = {
	sent: {
		ja: '送信：期間内に作成されたフォローアップのうち、LINEへの送信に成功したもの。',
		en: 'Sent: follow-ups created in the period that LINE accepted.'
	},
	failed: {
		ja: '送信失敗：期間内に作成され、送信できなかったフォローアップ（送信数には含まない）。',
		en: 'Failed: follow-ups created in the period that could not be sent (not counted as sent).'
	},
	delivered: {
		ja: '配信：LINEのプッシュには到達通知がないため、送信成功＝配信とみなす。',
		en: 'Delivered: LINE pushes have no delivery receipt, so delivered = sent.'
	},
	clicked: {
		ja: 'クリック：リンクが1回以上クリックされたフォローアップの数（同じメッセージの複数クリックは1件）。',
		en: 'Clicked: follow-ups with at least one click on one of their links (several clicks count once).'
	},
	ordered: {
		ja: '注文：有効な帰属注文が1件以上あるフォローアップの数（時期を問わず）。',
		en: 'Ordered: follow-ups with at least one active attributed order (whenever it was placed).'
	},
	clickRate: { ja: 'クリック率＝クリック÷配信。', en: 'Click rate = clicked ÷ delivered.' },
	conversionRate: { ja: '購入率＝注文÷クリック。', en: 'Conversion rate = ordered ÷ clicked.' },
	netYen: {
		ja: '純売上：これらのフォローアップに帰属した有効な注文の総額−返金額。',
		en: 'Net revenue: gross − refunds of the active orders attributed to these follow-ups.'
	}
};

export type KpiKey = 'f2Rate' | 'crossChannelRate' | 'dormantReactivationRate' | 'medianPurchaseIntervalDays' | 'customerStates';

/** Purchases = store receipts of kind sale + EC orders not cancelled, of customers with a record. */
export function kpiDefinitions(dormantDays: number): Record<KpiKey, Definition> {
	return {
		f2Rate: {
			ja: 'F2転換率：初回購入（店舗・EC通算）が期間内だった顧客のうち、期間終了までに2回目の購入があった割合。',
			en: 'F2 conversion rate: of the customers whose first purchase (store or EC) fell in the period, the share who made a second purchase before the period ended.'
		},
		crossChannelRate: {
			ja: 'クロス購買率：期間内に購入した顧客のうち、期間内に店舗とECの両方で購入した割合。',
			en: 'Cross-channel purchase rate: of the customers who bought in the period, the share who bought both in a store and on EC within the period.'
		},
		dormantReactivationRate: {
			ja: `休眠復帰率：期間開始時点で休眠（最終購入から${dormantDays}日超）だった顧客のうち、期間内に購入した割合。`,
			en: `Dormant reactivation rate: of the customers dormant at the period start (last purchase more than ${dormantDays} days before), the share who bought in the period.`
		},
		medianPurchaseIntervalDays: {
			ja: '購入間隔（中央値）：期間内の同じ顧客の購入日（日本時間、同日の複数購入は1日）と次の購入日の間の日数の中央値。',
			en: 'Median purchase interval: the median number of days between a customer\'s consecutive purchase days (JST; several purchases on one day count once) within the period.'
		},
		customerStates: {
			ja: `顧客の状態：期間開始時点と終了時点の状態と、その間の移動。休眠＝最終購入から${dormantDays}日超、店舗×EC横断＝両方で購入、初回購入のみ＝購入1回、店舗のみ／ECのみ、未購入。`,
			en: `Customer state at the period start and end, and how customers moved. Dormant = last purchase more than ${dormantDays} days before; cross-channel = bought in both; first purchase only = one purchase; store only / EC only; none = no purchase yet.`
		}
	};
}
