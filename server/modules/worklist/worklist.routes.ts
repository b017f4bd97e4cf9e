/**
 * /api/worklist — today's list of the signed-in staff member, item state changes (idempotent
 * on the tablet's client id), manager campaigns and the outcomes report (JSON or CSV).
 */
import { Hono } from 'hono';
import * as v from 'valibot';
import type { AppDeps, AppEnv } from '../../http/context.ts';
import { validate } from '../../http/validate.ts';
import { MANAGERS, requireStaff } from '../staff/auth.middleware.ts';
import { csvResponse } from '../reports/csv.ts';
import { CUSTOMER_STATES } from '../customers/state.ts';
import * as service from './worklist.service.ts';
import * as campaigns from './campaigns.service.ts';
import { outcomes, outcomesCsv } from './outcomes.service.ts';

const Uuid = v.pipe(v.string(), v.uuid('Must be a UUID'));
const YMD = v.pipe(
	v.string(),
	v.regex(/^\d{4}-\d{2}-\d{2}$/, 'YYYY-MM-DD'),
	v.check((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s), 'Not a date')
);
const IdParam = v.object({ id: Uuid });
const StateBody = v.object({
	clientId: Uuid,
	state: v.picklist(['open', 'done', 'snoozed', 'dismissed'], 'open, done, snoozed or dismissed'),
	snoozedUntil: v.optional(YMD),
	reason: v.optional(v.picklist(service.DISMISS_REASONS, service.DISMISS_REASONS.join(', ')))
});
const TemplateKey = v.nullable(v.pipe(v.string(), v.regex(/^[a-z0-9_]{1,40}$/, 'Not a template key')));
const Name = v.pipe(v.string(), v.trim(), v.minLength(1, 'Required'), v.maxLength(80, 'At most 80 characters'));
const Message = v.pipe(v.string(), v.trim(), v.maxLength(500, 'At most 500 characters'));
const Yen = v.nullable(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(1_000_000_000)));
const Segment = v.object({
	states: v.optional(v.pipe(v.array(v.picklist(CUSTOMER_STATES)), v.maxLength(6))),
	storeId: v.optional(v.nullable(v.pipe(v.string(), v.regex(/^[a-z0-9_-]{1,40}$/, 'Not a store id')))),
	ltvMin: v.optional(Yen),
	ltvMax: v.optional(Yen),
	lastPurchaseFrom: v.optional(v.nullable(YMD)),
	lastPurchaseTo: v.optional(v.nullable(YMD)),
	owner: v.optional(v.nullable(v.union([v.picklist(['any', 'unowned']), Uuid])))
});
const CampaignBody = v.object({
	name: Name,
	templateKey: v.optional(TemplateKey, null),
	message: v.optional(Message, ''),
	segment: Segment,
	startsOn: YMD,
	dueOn: YMD
});
const CampaignPatch = v.object({
	name: v.optional(Name),
	templateKey: v.optional(TemplateKey),
	message: v.optional(Message),
	dueOn: v.optional(YMD)
});
const OutcomesQuery = v.object({
	from: v.optional(YMD),
	to: v.optional(YMD),
	storeId: v.optional(v.pipe(v.string(), v.regex(/^[a-z0-9_-]{1,40}$/, 'Not a store id'))),
	format: v.optional(v.picklist(['json', 'csv']), 'json')
});

/** Each rule whole; the settings module checks the values (400 invalid_setting). */
const RuleSettingsBody = v.object({
	nextAction: v.optional(v.unknown()),
	birthday: v.optional(v.unknown()),
	secondPurchase: v.optional(v.unknown()),
	thankYou: v.optional(v.unknown()),
	dormancy: v.optional(v.unknown()),
	crossChannel: v.optional(v.unknown())
});

export function worklistRoutes(deps: AppDeps) {
	const options = deps.worklist.options;
	const now = () => deps.now?.() ?? new Date();
	return new Hono<AppEnv>()
		.get('/today', requireStaff(deps), async (c) => {
			c.header('cache-control', 'no-store');
			return c.json(await service.todayList(deps.db, c.get('staff')!, options, now()));
		})
		.put('/items/:id/state', requireStaff(deps), validate('param', IdParam), validate('json', StateBody), async (c) =>
			c.json(await service.changeState(deps.db, c.get('staff')!, c.req.valid('param').id, c.req.valid('json'), now()))
		)
		.get('/settings', requireStaff(deps, MANAGERS), async (c) => c.json({ settings: await service.readRuleSettings(deps.db, options.dormantDays) }))
		.put('/settings', requireStaff(deps, MANAGERS), validate('json', RuleSettingsBody), async (c) =>
			c.json({ settings: await service.writeRuleSettings(deps.db, c.get('staff')!, c.req.valid('json'), options.dormantDays) })
		)
		.get('/campaigns', requireStaff(deps, MANAGERS), async (c) => c.json({ campaigns: await campaigns.listCampaigns(deps.db, c.get('staff')!) }))
		.post('/campaigns', requireStaff(deps, MANAGERS), validate('json', CampaignBody), async (c) =>
			c.json(await campaigns.createCampaign(deps.db, c.get('staff')!, c.req.valid('json'), options.dormantDays, now()), 201)
		)
		.patch('/campaigns/:id', requireStaff(deps, MANAGERS), validate('param', IdParam), validate('json', CampaignPatch), async (c) => {
			await campaigns.updateCampaign(deps.db, c.get('staff')!, c.req.valid('param').id, c.req.valid('json'));
			return c.json({ ok: true });
		})
		.delete('/campaigns/:id', requireStaff(deps, MANAGERS), validate('param', IdParam), async (c) => {
			await campaigns.archiveCampaign(deps.db, c.get('staff')!, c.req.valid('param').id);
			return c.json({ ok: true });
		})
		.get('/outcomes', requireStaff(deps, MANAGERS), validate('query', OutcomesQuery), async (c) => {
			const q = c.req.valid('query');
			const report = await outcomes(deps.db, c.get('staff')!, q, deps.config.attributionWindowDays);
			return q.format === 'csv'
				? csvResponse(outcomesCsv(report), `worklist-outcomes_${report.period.from}_${report.period.to}.csv`)
				: c.json(report);
		});
}
