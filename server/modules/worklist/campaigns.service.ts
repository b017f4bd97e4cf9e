/**
 * Manager campaigns: a segment (state × store × LTV band × last-purchase range × owner), a
 * message template, a start and a due date. Creating one spreads an item per matching
 * customer onto the owner's list, or the store book when the customer has no owner.
 */
import type { Db } from '../../db/index.ts';
import { badRequest, forbidden, notFound } from '../../errors.ts';
import type { StaffPrincipal } from '../../http/context.ts';
import { jstDate } from '../../shared/jst.ts';
import { isUuid } from '../../shared/ids.ts';
import { customerState, type CustomerState } from '../customers/state.ts';
import { homeStoreOf } from '../staff/staff.service.ts';
import * as repo from './campaigns.repository.ts';
import { insertItems, allStoreIds } from './worklist.repository.ts';
import { placeOnList, type Candidate } from './rules.ts';

export interface Segment {
	states?: CustomerState[];
	storeId?: string | null;
	ltvMin?: number | null;
	ltvMax?: number | null;
	/** JST dates, inclusive */
	lastPurchaseFrom?: string | null;
	lastPurchaseTo?: string | null;
	/** 'any', 'unowned' (store book) or one staff member's id */
	owner?: string | null;
}

export interface CampaignInput {
	name: string;
	templateKey: string | null;
	message: string;
	segment: Segment;
	startsOn: string;
	dueOn: string;
}

export const MAX_CAMPAIGN_ITEMS = 5000;

/** Which store books a manager may target: their home store; an admin any (null = all). */
async function scopeStore(db: Db, staff: StaffPrincipal): Promise<string | null> {
	if (staff.role === 'admin') return null;
	return (await homeStoreOf(db, staff.id)) ?? staff.storeId;
}

/** The segment's customers (pure filter over the summaries). */
export function matchSegment(rows: repo.SegmentRow[], seg: Segment, now: Date, dormantDays: number): repo.SegmentRow[] {
	return rows.filter((r) => {
		if (seg.states?.length) {
			const state = customerState({ storeOrders: r.store_n, ecOrders: r.ec_n, lastPurchaseAt: r.last_at, firstPurchaseAt: r.first_at }, now, dormantDays);
			if (!seg.states.includes(state)) return false;
		}
		if (seg.ltvMin != null && r.ltv < seg.ltvMin) return false;
		if (seg.ltvMax != null && r.ltv > seg.ltvMax) return false;
		const last = r.last_at ? jstDate(r.last_at) : null;
		if (seg.lastPurchaseFrom && (!last || last < seg.lastPurchaseFrom)) return false;
		if (seg.lastPurchaseTo && (!last || last > seg.lastPurchaseTo)) return false;
		if (seg.owner && seg.owner !== 'any') {
			if (seg.owner === 'unowned' ? r.owner_staff_id !== null : r.owner_staff_id !== seg.owner) return false;
		}
		return true;
	});
}

export async function createCampaign(db: Db, staff: StaffPrincipal, input: CampaignInput, dormantDays: number, now = new Date()) {
	if (input.dueOn < input.startsOn) throw badRequest('campaign_dates', 'The due date is before the start', { dueOn: 'before startsOn' });
	if (input.dueOn < jstDate(now)) throw badRequest('campaign_dates', 'The due date has passed', { dueOn: 'in the past' });
	const scope = await scopeStore(db, staff);
	const storeId = input.segment.storeId ?? scope;
	if (scope && storeId !== scope) throw forbidden('campaign_store_forbidden', 'Managers target their own store');
	const stores = storeId ? [storeId] : await allStoreIds(db);
	if (storeId && !(await allStoreIds(db)).includes(storeId)) throw badRequest('unknown_store', 'No such store', { 'segment.storeId': 'unknown' });
	const matched = matchSegment(await repo.segmentBase(db, stores), input.segment, now, dormantDays);
	if (matched.length > MAX_CAMPAIGN_ITEMS) {
		throw badRequest('campaign_too_large', `The segment has ${matched.length} customers; at most ${MAX_CAMPAIGN_ITEMS}`, { segment: `${matched.length} > ${MAX_CAMPAIGN_ITEMS}` });
	}
	return db.transaction().execute(async (trx) => {
		const row = await repo.insertCampaign(trx, {
			store_id: storeId,
			name: input.name,
			template_key: input.templateKey,
			message: input.message,
			segment: { ...input.segment, storeId },
			starts_on: input.startsOn,
			due_on: input.dueOn,
			created_by: staff.id
		});
		const items: Candidate[] = [];
		for (const r of matched) {
			const place = placeOnList({ ownerStaffId: r.owner_staff_id, homeStoreId: r.home_store_id });
			if (!place) continue;
			items.push({
				customerId: r.id,
				reason: 'campaign',
				occasion: `campaign:${row.id}`,
				...place,
				dueOn: input.dueOn,
				visibleFrom: input.startsOn,
				expiresOn: null,
				facts: { campaign: input.name, message: input.message },
				campaignId: row.id
			});
		}
		const created = await insertItems(trx, items);
		await repo.setCampaignItems(trx, row.id, created);
		return { id: row.id, items: created };
	});
}

export async function listCampaigns(db: Db, staff: StaffPrincipal) {
	const rows = await repo.listCampaigns(db, await scopeStore(db, staff));
	return rows.map((r) => ({
		id: r.id,
		storeId: r.store_id,
		name: r.name,
		templateKey: r.template_key,
		message: r.message,
		segment: r.segment,
		startsOn: r.starts_on,
		dueOn: r.due_on,
		items: Number(r.items),
		open: Number(r.open),
		done: Number(r.done),
		dismissed: Number(r.dismissed),
		createdBy: r.created_by_name,
		createdAt: new Date(r.created_at).toISOString(),
		archived: r.archived_at !== null
	}));
}

async function ownCampaign(db: Db, staff: StaffPrincipal, id: string) {
	if (!isUuid(id)) throw notFound('campaign_not_found', 'No such campaign');
	const row = await repo.findCampaign(db, id);
	if (!row) throw notFound('campaign_not_found', 'No such campaign');
	const scope = await scopeStore(db, staff);
	if (scope && row.store_id !== scope) throw forbidden('campaign_store_forbidden', 'This campaign belongs to another store');
	return row;
}

export async function updateCampaign(db: Db, staff: StaffPrincipal, id: string, patch: { name?: string; templateKey?: string | null; message?: string; dueOn?: string }) {
	const row = await ownCampaign(db, staff, id);
	if (row.archived_at) throw badRequest('campaign_archived', 'This campaign was archived');
	if (patch.dueOn && patch.dueOn < row.starts_on) throw badRequest('campaign_dates', 'The due date is before the start', { dueOn: 'before startsOn' });
	await db.transaction().execute((trx) =>
		repo.updateCampaign(trx, id, { name: patch.name, template_key: patch.templateKey, message: patch.message, due_on: patch.dueOn })
	);
}

export async function archiveCampaign(db: Db, staff: StaffPrincipal, id: string) {
	const row = await ownCampaign(db, staff, id);
	if (row.archived_at) return;
	await db.transaction().execute((trx) => repo.archiveCampaign(trx, id, staff.id, new Date()));
}
