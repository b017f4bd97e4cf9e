/**
 * Why an item is on the list, as one sentence with its facts, in Japanese and English:
 * "初回購入から28日 · 撥水レザースニーカー · 渋谷店". Pure; computed when the list is read so
 * day counts are of today (an overdue next action says how long it has been overdue).
 */
import { daysBetween, type Facts, type Reason } from './rules.ts';

export interface Sentence {
	ja: string;
	en: string;
}

const s = (v: string | number | null | undefined) => (v === null || v === undefined ? '' : String(v));
const yen = (n: unknown) => `¥${Number(n ?? 0).toLocaleString('en-US')}`;
const md = (date: string, locale: 'ja' | 'en') => {
	const [, m, d] = date.split('-').map(Number);
	return locale === 'ja' ? `${m}月${d}日` : `${d}/${m}`;
};
const join = (parts: Array<string | null | undefined>) => parts.filter((p) => p && p.length > 0).join(' · ');

export function describeItem(reason: Reason, facts: Facts, dueOn: string, today: string): Sentence {
	const late = daysBetween(dueOn, today);
	switch (reason) {
		case 'next_action': {
			const when = late > 0 ? { ja: `期限から${late}日超過`, en: `${late} days overdue` } : late === 0 ? { ja: '今日が期限', en: 'due today' } : { ja: `${md(dueOn, 'ja')}期限`, en: `due ${md(dueOn, 'en')}` };
			return {
				ja: join([`次回アクション「${s(facts.action)}」`, when.ja, `${s(facts.consultedOn)} 接客`, s(facts.storeName)]),
				en: join([`Next action "${s(facts.action)}"`, when.en, `consulted ${s(facts.consultedOn)}`, s(facts.storeName)])
			};
		}
		case 'birthday': {
			const days = daysBetween(today, s(facts.birthday));
			const when = days === 0 ? { ja: '今日が誕生日', en: 'birthday today' } : days > 0 ? { ja: `誕生日まで${days}日`, en: `birthday in ${days} days` } : { ja: `誕生日から${-days}日`, en: `birthday ${-days} days ago` };
			return { ja: join([when.ja, md(s(facts.birthday), 'ja')]), en: join([when.en, md(s(facts.birthday), 'en')]) };
		}
		case 'second_purchase': {
			const days = daysBetween(s(facts.firstPurchaseOn), today);
			return {
				ja: join([`初回購入から${days}日`, s(facts.product), s(facts.channel)]),
				en: join([`${days} days since first purchase`, s(facts.product), s(facts.channel)])
			};
		}
		case 'thank_you':
			return {
				ja: join(['昨日のご購入のお礼', s(facts.product), yen(facts.totalYen), s(facts.storeName)]),
				en: join(["Thank you for yesterday's purchase", s(facts.product), yen(facts.totalYen), s(facts.storeName)])
			};
		case 'dormancy_risk': {
			const days = daysBetween(s(facts.lastPurchaseOn), today);
			const left = Math.max(0, daysBetween(today, s(facts.dormantOn)));
			return {
				ja: join([`最終購入から${days}日（休眠まであと${left}日）`, `累計${yen(facts.ltvYen)}`, s(facts.product)]),
				en: join([`${days} days since last purchase (dormant in ${left} days)`, `LTV ${yen(facts.ltvYen)}`, s(facts.product)])
			};
		}
		case 'cross_channel':
			return {
				ja: join([`ECのみ${s(facts.ecOrders)}回購入 · 店舗へのご招待`, s(facts.product), `最終EC購入 ${s(facts.lastEcOn)}`]),
				en: join([`EC only, ${s(facts.ecOrders)} orders · invite to the store`, s(facts.product), `last EC order ${s(facts.lastEcOn)}`])
			};
		case 'campaign':
			return {
				ja: join([`キャンペーン「${s(facts.campaign)}」`, `${md(dueOn, 'ja')}まで`]),
				en: join([`Campaign "${s(facts.campaign)}"`, `by ${md(dueOn, 'en')}`])
			};
	}
}
