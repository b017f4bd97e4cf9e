/**
 * The book page: a staff member's own customers (mine), the unowned customers of the store
 * (store), the customers proposed to them (proposed), or — for managers and admins — another
 * staff member's book (staff). Filters, sorts and keyset paging; JST dates at the edge.
 */
import type { AppDeps, StaffPrincipal } from '../../http/context.ts';
import { badRequest, forbidden, notFound } from '../../errors.ts';
import { DAY_MS, jstMidnight } from '../../shared/jst.ts';
import type { CustomerState } from '../customers/state.ts';
import { findStaffMember, homeStoreOf } from '../staff/staff.service.ts';
import { bookPage, type BookScope, type BookSort } from './clientbook.repository.ts';

export const PAGE_MAX = 200;

export interface BookRequest {
	scope: 'mine' | 'store' | 'proposed' | 'staff';
	staffId?: string;
	state?: CustomerState[];
	/** JST dates, inclusive */
	lastPurchaseFrom?: string;
	lastPurchaseTo?: string;
	ltvMin?: number;
	ltvMax?: number;
	birthdayMonth?: number;
	line?: 'reachable' | 'unreachable';
	sort: BookSort;
	dir: 'asc' | 'desc';
	cursor?: string;
	limit: number;
}

/** The request schema has checked the dates; a null here would be a schema bug, so fail loudly. */
function dayStart(ymd: string): Date {
	const at = jstMidnight(ymd);
	if (!at) throw new Error(`not a date: ${ymd}`);
	return at;
}

function encodeCursor(key: string, id: string): string {
	return Buffer.from(JSON.stringify([key, id])).toString('base64url');
}

function decodeCursor(cursor: string): { key: string; id: string } {
	try {
		const [key, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
		if (typeof key === 'string' && typeof id === 'string' && /^[0-9a-f-]{36}$/i.test(id) && key.length <= 64) return { key, id };
	} catch {
		// fall through
	}
	throw badRequest('invalid_cursor', 'The page cursor is not valid; start from the first page', { cursor: 'invalid' });
}

async function resolveScope(deps: AppDeps, actor: StaffPrincipal, req: BookRequest): Promise<BookScope> {
	if (req.scope === 'mine') return { kind: 'owner', staffId: actor.id };
	if (req.scope === 'proposed') return { kind: 'proposed', staffId: actor.id };
	if (req.scope === 'store') return { kind: 'store', storeId: actor.storeId };
	if (!req.staffId) throw badRequest('validation_failed', 'staffId is required for scope=staff', { staffId: 'required' });
	if (req.staffId === actor.id) return { kind: 'owner', staffId: actor.id };
	if (actor.role === 'staff') throw forbidden('forbidden', "Only managers and admins see another staff member's book");
	const member = await findStaffMember(deps.db, req.staffId);
	if (!member) throw notFound('staff_not_found', 'No such staff member');
	if (actor.role === 'manager' && member.home_store_id !== (await homeStoreOf(deps.db, actor.id))) {
		throw forbidden('other_store', 'This staff member works at another store');
	}
	return { kind: 'owner', staffId: req.staffId };
}

/** How long after a reassignment the new owner is offered a one-tap introduction message. */
export const INTRO_DAYS = 30;

export async function listBook(deps: AppDeps, actor: StaffPrincipal, req: BookRequest, now = new Date()) {
	const scope = await resolveScope(deps, actor, req);
	if (req.lastPurchaseFrom && req.lastPurchaseTo && req.lastPurchaseFrom > req.lastPurchaseTo) {
		throw badRequest('validation_failed', 'The range starts after it ends', { lastPurchaseTo: 'before lastPurchaseFrom' });
	}
	if (req.ltvMin !== undefined && req.ltvMax !== undefined && req.ltvMin > req.ltvMax) {
		throw badRequest('validation_failed', 'The LTV band starts above its end', { ltvMax: 'below ltvMin' });
	}
	const limit = Math.min(req.limit, PAGE_MAX);
	const rows = await bookPage(deps.db, {
		scope,
		states: req.state,
		lastPurchaseFrom: req.lastPurchaseFrom ? dayStart(req.lastPurchaseFrom) : undefined,
		lastPurchaseBefore: req.lastPurchaseTo ? new Date(dayStart(req.lastPurchaseTo).getTime() + DAY_MS) : undefined,
		ltvMin: req.ltvMin,
		ltvMax: req.ltvMax,
		birthdayMonth: req.birthdayMonth,
		lineReachable: req.line === undefined ? undefined : req.line === 'reachable',
		sort: req.sort,
		dir: req.dir,
		after: req.cursor ? decodeCursor(req.cursor) : undefined,
		limit: limit + 1,
		dormantBefore: new Date(now.getTime() - deps.config.dormantDays * DAY_MS),
		introSince: new Date(now.getTime() - INTRO_DAYS * DAY_MS)
	});
	const page = rows.slice(0, limit);
	const last = page[page.length - 1];
	const iso = (d: Date | string | null) => (d == null ? null : new Date(d).toISOString());
	return {
		customers: page.map((r) => ({
			id: r.id,
			memberNo: r.member_no,
			name: [r.family_name, r.given_name].filter(Boolean).join(' '),
			kana: [r.family_kana, r.given_kana].filter(Boolean).join(' '),
			birthday: r.birthday,
			state: r.state,
			ltvYen: Number(r.ltv),
			lastPurchaseAt: iso(r.last_purchase_at),
			lastPurchaseChannel: (r.last_purchase_at == null
				? null
				: r.last_ec_at && (!r.last_store_at || new Date(r.last_ec_at) > new Date(r.last_store_at))
					? 'ec'
					: 'store') as 'ec' | 'store' | null,
			lastContact: r.contact_at ? { at: iso(r.contact_at)!, kind: r.contact_kind!, staffName: r.contact_staff_name ?? '' } : null,
			line: { linked: r.line_linked, reachable: r.reachable },
			owner: r.owner_staff_id ? { id: r.owner_staff_id, name: r.owner_name ?? '' } : null,
			introduction: r.intro_since ? { since: iso(r.intro_since)!, fromName: r.intro_from_name } : null
		})),
		nextCursor: rows.length > limit && last ? encodeCursor(last.sort_key, last.id) : null
	};
}
