/**
 * /api/identity: the merge suggestions queue (managers and admins), a customer's open
 * suggestions and the in-store confirmation (any staff on the tablet), direct merges, the merge
 * ledger and its undo (admins), and the automatic-merge settings (admins).
 */
import { Hono } from 'hono';
import * as v from 'valibot';
import type { AppDeps, AppEnv } from '../../http/context.ts';
import { validate } from '../../http/validate.ts';
import { readSetting, writeSetting } from '../settings/settings.service.ts';
import { MANAGERS, requireStaff } from '../staff/auth.middleware.ts';
import * as repo from './identity.repository.ts';
import { AUTO_MERGE_SCORE, AUTO_MERGE_VERIFIED } from './identity.service.ts';
import { confirmInStore, decideSuggestion, mergeCustomers, undoMerge, UNDO_DAYS } from './merge.service.ts';

const IdParam = v.object({ id: v.pipe(v.string(), v.uuid('Not an id')) });
const QueueQuery = v.object({ status: v.optional(v.picklist(['open', 'later']), 'open') });
const DecisionBody = v.object({
	decision: v.picklist(['merge', 'reject', 'later']),
	survivorId: v.optional(v.pipe(v.string(), v.uuid('Not a customer id')))
});
const MergeBody = v.object({
	survivorId: v.pipe(v.string(), v.uuid('Not a customer id')),
	mergedId: v.pipe(v.string(), v.uuid('Not a customer id'))
});
const SettingsBody = v.object({
	autoMergeScore: v.nullable(v.pipe(v.number(), v.integer(), v.minValue(40), v.maxValue(100))),
	autoMergeVerified: v.boolean()
});

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

export function identityRoutes(deps: AppDeps) {
	const settings = async () => ({
		autoMergeScore: await readSetting(deps.db, AUTO_MERGE_SCORE),
		autoMergeVerified: await readSetting(deps.db, AUTO_MERGE_VERIFIED)
	});
	return new Hono<AppEnv>()
		.get('/suggestions', requireStaff(deps, MANAGERS), validate('query', QueueQuery), async (c) => {
			const staff = c.get('staff')!;
			const rows = await repo.listSuggestions(deps.db, [c.req.valid('query').status], 200, staff.role === 'admin' ? undefined : staff.storeId);
			c.header('cache-control', 'no-store');
			return c.json({
				suggestions: rows.map((r) => ({
					id: r.id,
					score: r.score,
					status: r.status,
					evidence: r.evidence,
					createdAt: iso(r.created_at)!,
					staffConfirmedAt: iso(r.staff_confirmed_at),
					staffConfirmedBy: r.staff_confirmed_by_name,
					a: r.a,
					b: r.b
				}))
			});
		})
		.post('/suggestions/:id/decision', requireStaff(deps, MANAGERS), validate('param', IdParam), validate('json', DecisionBody), async (c) => {
			const { decision, survivorId } = c.req.valid('json');
			return c.json(await decideSuggestion(deps.db, c.req.valid('param').id, decision, c.get('staff')!.id, survivorId));
		})
		.post('/suggestions/:id/confirm', requireStaff(deps), validate('param', IdParam), async (c) => {
			await confirmInStore(deps.db, c.req.valid('param').id, c.get('staff')!.id);
			return c.json({ confirmed: true });
		})
		.get('/customers/:id/suggestions', requireStaff(deps), validate('param', IdParam), async (c) => {
			const rows = await repo.openSuggestionsOf(deps.db, c.req.valid('param').id);
			c.header('cache-control', 'no-store');
			return c.json({
				count: rows.length,
				suggestions: rows.map((r) => ({ id: r.id, score: r.score, evidence: r.evidence, staffConfirmedAt: iso(r.staff_confirmed_at), other: r.other }))
			});
		})
		.post('/merges', requireStaff(deps, MANAGERS), validate('json', MergeBody), async (c) => {
			const { survivorId, mergedId } = c.req.valid('json');
			return c.json(await mergeCustomers(deps.db, { survivorId, mergedId, by: c.get('staff')!.id }), 201);
		})
		.get('/merges', requireStaff(deps, MANAGERS), async (c) => {
			const rows = await repo.listMerges(deps.db, 100);
			c.header('cache-control', 'no-store');
			return c.json({
				undoDays: UNDO_DAYS,
				merges: rows.map((r) => ({
					id: r.id,
					survivor: { id: r.survivor_id, memberNo: r.survivor_member_no, name: r.survivor_name },
					merged: { id: r.merged_id, memberNo: r.merged_member_no, name: r.merged_name },
					score: r.score,
					evidence: r.evidence,
					automatic: r.automatic,
					mergedBy: r.merged_by_name,
					mergedAt: iso(r.merged_at)!,
					moved: Object.fromEntries(Object.entries(r.moved).map(([k, ids]) => [k, ids.length])),
					undoneAt: iso(r.undone_at)
				}))
			});
		})
		.post('/merges/:id/undo', requireStaff(deps, ['admin']), validate('param', IdParam), async (c) =>
			c.json(await undoMerge(deps.db, c.req.valid('param').id, c.get('staff')!))
		)
		.get('/settings', requireStaff(deps, MANAGERS), async (c) => c.json(await settings()))
		.put('/settings', requireStaff(deps, ['admin']), validate('json', SettingsBody), async (c) => {
			const body = c.req.valid('json');
			const by = c.get('staff')!.id;
			await writeSetting(deps.db, AUTO_MERGE_SCORE, body.autoMergeScore, by);
			await writeSetting(deps.db, AUTO_MERGE_VERIFIED, body.autoMergeVerified, by);
			return c.json(await settings());
		});
}
