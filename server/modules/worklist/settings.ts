/**
 * Brand settings of today's list, one per rule (settings.service defineSetting). A missing or
 * outdated stored value falls back to the default shown here; docs/worklist.md lists them.
 */
import * as v from 'valibot';
import { defineSetting } from '../settings/settings.service.ts';

const Days = (max: number) => v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(max));
const Cap = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(500));
const TemplateKey = v.nullable(v.pipe(v.string(), v.regex(/^[a-z0-9_]{1,40}$/)));

export const nextActionSetting = defineSetting(
	'worklist.nextAction',
	v.object({ enabled: v.boolean(), lookaheadDays: Days(30), templateKey: TemplateKey }),
	{ enabled: true, lookaheadDays: 3, templateKey: 'restock' }
);

export const birthdaySetting = defineSetting(
	'worklist.birthday',
	v.object({ enabled: v.boolean(), withinDays: Days(60), graceDays: Days(14), maxOpenPerList: Cap, templateKey: TemplateKey }),
	{ enabled: true, withinDays: 7, graceDays: 2, maxOpenPerList: 10, templateKey: 'birthday' }
);

export const secondPurchaseSetting = defineSetting(
	'worklist.secondPurchase',
	v.pipe(
		v.object({ enabled: v.boolean(), minDays: Days(365), maxDays: Days(365), maxOpenPerList: Cap, templateKey: TemplateKey }),
		v.check((s) => s.minDays <= s.maxDays, 'minDays after maxDays')
	),
	{ enabled: true, minDays: 21, maxDays: 45, maxOpenPerList: 8, templateKey: 'second_purchase' }
);

export const thankYouSetting = defineSetting(
	'worklist.thankYou',
	v.object({ enabled: v.boolean(), expireDays: Days(14), templateKey: TemplateKey }),
	{ enabled: true, expireDays: 2, templateKey: 'thanks' }
);

export const dormancySetting = defineSetting(
	'worklist.dormancyRisk',
	v.object({ enabled: v.boolean(), leadDays: Days(180), maxOpenPerList: Cap, templateKey: TemplateKey }),
	{ enabled: true, leadDays: 30, maxOpenPerList: 5, templateKey: 'welcome_back' }
);

export const crossChannelSetting = defineSetting(
	'worklist.crossChannel',
	v.object({ enabled: v.boolean(), expireDays: Days(60), maxOpenPerList: Cap, templateKey: TemplateKey }),
	{ enabled: true, expireDays: 14, maxOpenPerList: 5, templateKey: 'store_invite' }
);

export const RULE_SETTINGS = [nextActionSetting, birthdaySetting, secondPurchaseSetting, thankYouSetting, dormancySetting, crossChannelSetting];

export interface RuleSettings {
	nextAction: typeof nextActionSetting.fallback;
	birthday: typeof birthdaySetting.fallback;
	secondPurchase: typeof secondPurchaseSetting.fallback;
	thankYou: typeof thankYouSetting.fallback;
	dormancy: typeof dormancySetting.fallback;
	crossChannel: typeof crossChannelSetting.fallback;
	/** DORMANT_DAYS (config): the dormancy rule warns before it. */
	dormantDays: number;
}

export const DEFAULT_RULE_SETTINGS: RuleSettings = {
	nextAction: nextActionSetting.fallback,
	birthday: birthdaySetting.fallback,
	secondPurchase: secondPurchaseSetting.fallback,
	thankYou: thankYouSetting.fallback,
	dormancy: dormancySetting.fallback,
	crossChannel: crossChannelSetting.fallback,
	dormantDays: 180
};
