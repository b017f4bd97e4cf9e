/**
 * The unified customer profile for the staff tablet: one customer across store and EC, one
 * timeline, preferences, talking points and complementary products. Three round trips at most:
 * the customer (and records merged into it), the per-customer history in parallel, then
 * suggestions. Opening a profile is written to the audit log.
 */
import type { AppDeps, StaffPrincipal } from '../../http/context.ts';
import type { DbOrTrx } from '../../db/index.ts';
import { badRequest, conflict, notFound } from '../../errors.ts';
import type {
	CustomerSearchResponse,
	MissingField,
	Profile,
	ProfileVia,
	TalkingPoint,
	TimelineEntry,
	TodayCustomersResponse
} from './profile.types.ts';
import { recordCustomerAccess } from '../audit/audit.service.ts';
import { currentConsent } from '../privacy/privacy.service.ts';
import { complementaryProducts, productsInCategories } from '../talking-points/affinities.repository.ts';
import {
	DEFAULT_TALKING_POINT_CONFIG,
	talkingPoints,
	type PurchasedItem,
	type TalkingPointConfig
} from '../talking-points/talking-points.ts';
import * as repo from './profile.repository.ts';
import { customerState } from './state.ts';
import { isUuid } from '../../shared/ids.ts';
import { DAY_MS, jstDate } from '../../shared/jst.ts';
import { isKatakanaReading, nameMatchTier, normalizeKana, parseSearchQuery, toKatakana } from '../../shared/kana.ts';
import { fillMissingKana } from './customers.repository.ts';

export const TIMELINE_LIMIT = 100;
const COMPACT_TIMELINE_LIMIT = 20;
const SUGGESTION_LIMIT = 4;
const TODAY_LIMIT = 50;

export interface ProfileOptions {
	via: ProfileVia | 'prefetch';
	before?: Date;
	timelineLimit?: number;
	now?: Date;
	audit?: boolean;
}

function talkingPointConfig(deps: AppDeps): TalkingPointConfig {
	return { ...DEFAULT_TALKING_POINT_CONFIG, dormantDays: deps.config.dormantDays };
}

const fullName = (a: string | null, b: string | null) => [a, b].filter(Boolean).join(' ');
/** ISO text, or null for a missing or unrenderable stored date (e.g. a year-0 row from before validation). */
const iso = (d: Date | string | null | undefined) => {
	const date = d == null ? null : new Date(d);
	return date && !Number.isNaN(date.getTime()) ? date.toISOString() : null;
};

/**
 * The rows whose date can be rendered. A stored row with an impossible date (written before
 * the input rule existed) is left out of the profile instead of taking the whole profile down.
 */
function renderable<T>(rows: T[], dateOf: (row: T) => Date): T[] {
	return rows.filter((row) => !Number.isNaN(dateOf(row).getTime()));
}

function latest(a: Date | null, b: Date | null): Date | null {
	if (!a) return b;
	if (!b) return a;
	return a > b ? a : b;
}

function earliest(a: Date | null, b: Date | null): Date | null {
	if (!a) return b;
	if (!b) return a;
	return a < b ? a : b;
}

type History = Awaited<ReturnType<typeof loadHistory>>;

/** JSON-aggregated timestamps are strings (whatever the static type says): make them Dates again. */
const toDate = (v: Date | string): Date => new Date(v);
const toDateOrNull = (v: Date | string | null | undefined): Date | null => (v == null ? null : new Date(v));

async function loadHistory(db: DbOrTrx, ids: string[], page: repo.Page) {
	const raw = await repo.profileHistory(db, ids, page);
	const st = raw.store_totals;
	const et = raw.ec_totals;
	return {
		totals: {
			store: { count: st?.count ?? 0, yen: Number(st?.yen ?? 0), last_at: toDateOrNull(st?.last_at), first_at: toDateOrNull(st?.first_at) },
			ec: {
				count: et?.count ?? 0,
				yen: Number(et?.yen ?? 0),
				refunded: Number(et?.refunded ?? 0),
				last_at: toDateOrNull(et?.last_at),
				first_at: toDateOrNull(et?.first_at)
			}
		},
		store: renderable(raw.store.map((p) => ({ ...p, purchased_at: toDate(p.purchased_at) })), (p) => p.purchased_at),
		ec: renderable(raw.ec.map((o) => ({ ...o, ordered_at: toDate(o.ordered_at) })), (o) => o.ordered_at),
		consultations: renderable(raw.consultations.map((c) => ({ ...c, occurred_at: toDate(c.occurred_at) })), (c) => c.occurred_at),
		followUps: renderable(
			raw.follow_ups.map((f) => ({ ...f, created_at: toDate(f.created_at), sent_at: toDateOrNull(f.sent_at) })),
			(f) => f.sent_at ?? f.created_at
		),
		clicks: renderable(raw.clicks.map((k) => ({ ...k, clicked_at: toDate(k.clicked_at) })), (k) => k.clicked_at),
		line: renderable(raw.line.map((e) => ({ ...e, occurred_at: toDate(e.occurred_at) })), (e) => e.occurred_at),
		nextAction: raw.next_action ? renderable([{ ...raw.next_action, occurred_at: toDate(raw.next_action.occurred_at) }], (n) => n.occurred_at)[0] ?? null : null
	};
}

const itemsTitle = (names: string[]) =>
	names.length === 0 ? '' : names.length === 1 ? names[0] : `${names[0]} 他${names.length - 1}点`;

function buildTimeline(h: History, limit: number): TimelineEntry[] {
	const entries: Array<TimelineEntry & { sortAt: number }> = [];
	const push = (e: TimelineEntry, at: Date) => entries.push({ ...e, sortAt: at.getTime() });
	for (const p of h.store) {
		const names = p.lines.map((l) => l.name ?? l.sku);
		push(
			{
				id: `store_purchase:${p.id}`,
				kind: 'store_purchase',
				at: p.purchased_at.toISOString(),
				title: itemsTitle(names) || (p.kind === 'return' ? '返品' : '店舗購入'),
				amountYen: p.total_yen,
				storeName: p.store_name,
				...(p.staff_name ? { staffName: p.staff_name } : {}),
				status: p.kind,
				items: p.lines.map((l) => ({ name: l.name ?? l.sku, sku: l.sku, quantity: l.quantity }))
			},
			p.purchased_at
		);
	}
	for (const o of h.ec) {
		push(
			{
				id: `ec_order:${o.id}`,
				kind: 'ec_order',
				at: o.ordered_at.toISOString(),
				title: itemsTitle(o.lines.map((l) => l.name)) || o.order_name || 'EC注文',
				amountYen: o.total_yen,
				status: o.status,
				items: o.lines.map((l) => ({ name: l.name, ...(l.sku ? { sku: l.sku } : {}), quantity: l.quantity }))
			},
			o.ordered_at
		);
	}
	for (const c of h.consultations) {
		const items = c.items ?? [];
		push(
			{
				id: `consultation:${c.id}`,
				kind: 'consultation',
				at: c.occurred_at.toISOString(),
				title: itemsTitle(items.map((i) => i.name)) || '接客記録',
				storeName: c.store_name,
				staffName: c.staff_name,
				items: items.map((i) => ({
					name: i.name,
					...(i.sku ? { sku: i.sku } : {}),
					...(i.size ? { size: i.size } : {}),
					outcome: i.outcome
				})),
				...(c.notes ? { notes: c.notes } : {}),
				...(c.next_action ? { nextAction: c.next_action } : {}),
				...(c.next_action_due ? { nextActionDue: c.next_action_due } : {})
			},
			c.occurred_at
		);
	}
	for (const f of h.followUps) {
		const at = f.sent_at ?? f.created_at;
		push(
			{
				id: `follow_up:${f.id}`,
				kind: 'follow_up',
				at: at.toISOString(),
				title: f.body.length > 40 ? `${f.body.slice(0, 40)}…` : f.body,
				storeName: f.store_name,
				staffName: f.staff_name,
				status: f.status,
				...(f.status === 'failed' && f.failure_reason ? { failureReason: f.failure_reason } : {})
			},
			at
		);
	}
	for (const k of h.clicks) {
		push(
			{
				id: `link_click:${k.id}`,
				kind: 'link_click',
				at: k.clicked_at.toISOString(),
				title: k.product_name ? `リンクを開く: ${k.product_name}` : 'リンクを開く',
				...(k.staff_name ? { staffName: k.staff_name } : {})
			},
			k.clicked_at
		);
	}
	for (const e of h.line) {
		push(
			{
				id: `line_message:${e.id}`,
				kind: 'line_message',
				at: e.occurred_at.toISOString(),
				title: e.message_text ?? e.type,
				status: e.type
			},
			e.occurred_at
		);
	}
	return entries
		.sort((a, b) => b.sortAt - a.sortAt)
		.slice(0, limit)
		.map(({ sortAt: _sortAt, ...entry }) => entry);
}

function purchasedItems(h: History): PurchasedItem[] {
	const items: PurchasedItem[] = [];
	for (const p of h.store) {
		if (p.kind !== 'sale') continue;
		for (const l of p.lines) {
			items.push({ at: p.purchased_at, productId: l.product_id, name: l.name ?? l.sku, category: l.category, channel: 'store' });
		}
	}
	for (const o of h.ec) {
		if (o.status !== 'open') continue;
		for (const l of o.lines) items.push({ at: o.ordered_at, productId: l.product_id, name: l.name, category: l.category, channel: 'ec' });
	}
	return items.sort((a, b) => b.at.getTime() - a.at.getTime());
}

const SIZE_HISTORY_LIMIT = 5;

function preferences(h: History, items: PurchasedItem[]): Profile['preferences'] {
	const sizes: Record<string, string> = {};
	const sizeHistory: Record<string, Array<{ size: string; at: string }>> = {};
	// consultations are newest first: the first size seen per category is the current one;
	// the history keeps each change (newest first, a few per category)
	for (const c of h.consultations) {
		for (const [category, size] of Object.entries(c.sizes ?? {})) {
			if (!size) continue;
			if (!(category in sizes)) sizes[category] = size;
			const history = (sizeHistory[category] ??= []);
			if (history.length < SIZE_HISTORY_LIMIT && history[history.length - 1]?.size !== size) {
				history.push({ size, at: c.occurred_at.toISOString() });
			}
		}
	}
	const legacySizes = h.consultations.flatMap((c) =>
		Object.entries(c.legacy_sizes ?? {}).map(([label, size]) => ({ label, size, at: c.occurred_at.toISOString() }))
	);
	const counts = new Map<string, number>();
	for (const i of items) if (i.category) counts.set(i.category, (counts.get(i.category) ?? 0) + 1);
	const topCategories = [...counts.entries()]
		.sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
		.slice(0, 3)
		.map(([c]) => c);
	return { sizes, sizeHistory, ...(legacySizes.length > 0 ? { legacySizes } : {}), topCategories };
}

async function loadCustomer(db: DbOrTrx, customerId: string): Promise<repo.ProfileCustomerRow> {
	if (!isUuid(customerId)) throw notFound('customer_not_found', 'No such customer');
	let row = await repo.findCustomerForProfile(db, customerId);
	// a merged record forwards to its survivor
	if (row?.merged_into) row = await repo.findCustomerForProfile(db, row.merged_into);
	if (!row) throw notFound('customer_not_found', 'No such customer');
	return row;
}

export async function getProfile(
	deps: AppDeps,
	actor: StaffPrincipal,
	customerId: string,
	options: ProfileOptions
): Promise<Profile> {
	const now = options.now ?? new Date();
	const customer = await loadCustomer(deps.db, customerId);
	const ids = [customer.id, ...(customer.merged_ids ?? [])];
	const limit = options.timelineLimit ?? TIMELINE_LIMIT;
	const [fullHistory, consent] = await Promise.all([
		loadHistory(deps.db, ids, { limit, before: options.before }),
		currentConsent(deps.db, customer.id),
		options.audit === false
			? Promise.resolve()
			: recordCustomerAccess(deps.db, actor, 'profile.view', [customer.id], options.via)
	]);
	// without purchase-history linking consent, staff see the store history only
	const history = consent.linking ? fullHistory : storeOnly(fullHistory);
	const { totals } = history;
	const lastPurchaseAt = latest(totals.store.last_at, totals.ec.last_at);
	const summary = {
		storeOrders: totals.store.count,
		ecOrders: totals.ec.count,
		lastPurchaseAt,
		firstPurchaseAt: earliest(totals.store.first_at, totals.ec.first_at)
	};
	const state = customerState(summary, now, deps.config.dormantDays);
	const items = purchasedItems(history);
	const points = talkingPoints(
		{
			state,
			storePurchaseCount: summary.storeOrders,
			ecOrderCount: summary.ecOrders,
			firstPurchaseAt: summary.firstPurchaseAt,
			lastPurchaseAt,
			// month and day are all the rule reads: a member who gave no year still gets it
			birthday: customer.birthday ?? (customer.birth_month_day ? `0000-${customer.birth_month_day}` : null),
			recentItems: items,
			lastNextAction:
				history.nextAction?.next_action && history.nextAction.next_action_due
					? {
							action: history.nextAction.next_action,
							due: history.nextAction.next_action_due,
							occurredAt: history.nextAction.occurred_at,
							staffName: history.nextAction.staff_name
						}
					: null
		},
		now,
		talkingPointConfig(deps)
	);
	const [suggestions, talking] = await Promise.all([suggest(deps.db, items), attachProducts(deps.db, points)]);
	const storeYen = totals.store.yen;
	const ecYen = totals.ec.yen - totals.ec.refunded;
	return {
		customer: {
			id: customer.id,
			memberNo: customer.member_no,
			name: fullName(customer.family_name, customer.given_name),
			kana: fullName(customer.family_kana, customer.given_kana),
			memberSince: customer.created_at.toISOString(),
			birthday: customer.birthday,
			homeStore: customer.home_store_id
				? { id: customer.home_store_id, name: customer.home_store_name ?? '', nameEn: customer.home_store_name_en ?? '' }
				: null,
			state,
			ltv: { storeYen, ecYen, totalYen: storeYen + ecYen },
			lastStoreVisitAt: iso(totals.store.last_at),
			lastEcOrderAt: iso(totals.ec.last_at),
			line: {
				linked: customer.line_user_id !== null,
				friend: customer.line_friend,
				blocked: customer.line_blocked_at !== null,
				consentMessages: customer.consent_messages
			},
			privacy: {
				linking: consent.linking,
				missing: missingFields(customer),
				leaving: consent.leaving !== null
			}
		},
		timeline: buildTimeline(history, limit),
		preferences: preferences(history, items),
		talkingPoints: talking,
		suggestions,
		fetchedAt: now.toISOString()
	};
}

function storeOnly(h: History): History {
	return { ...h, totals: { ...h.totals, ec: { count: 0, yen: 0, refunded: 0, last_at: null, first_at: null } }, ec: [], clicks: [] };
}

/** Fields staff depend on (search by kana, birthday talking point, a call) that are empty. */
function missingFields(c: { family_kana: string | null; birthday: string | null; birth_month_day: string | null; phone: string | null }): MissingField[] {
	const missing: MissingField[] = [];
	if (!c.family_kana) missing.push('kana');
	if (!c.birthday && !c.birth_month_day) missing.push('birthday');
	if (!c.phone) missing.push('phone');
	return missing;
}

/** Products often bought with the customer's latest purchases, minus what they already own. */
async function suggest(db: DbOrTrx, items: PurchasedItem[]): Promise<Profile['suggestions']> {
	const owned = [...new Set(items.map((i) => i.productId).filter((id): id is number => id !== null))];
	const recent = owned.slice(0, 5);
	const rows = await complementaryProducts(db, recent, owned, SUGGESTION_LIMIT);
	return rows.map((r) => ({
		productId: r.id,
		sku: r.sku,
		name: r.name,
		priceYen: r.price_yen,
		imageUrl: r.image_url,
		ecUrl: r.ec_url,
		reason: `「${r.because}」と一緒に購入されています`,
		reasonEn: `Often bought with "${r.because}"`
	}));
}

async function attachProducts(db: DbOrTrx, points: ReturnType<typeof talkingPoints>): Promise<TalkingPoint[]> {
	return Promise.all(
		points.map(async ({ suggestCategories, productIds, ...point }) => {
			if (!suggestCategories) return productIds && productIds.length > 0 ? { ...point, productIds } : point;
			const rows = await productsInCategories(db, suggestCategories, 3);
			if (rows.length === 0) return point;
			return {
				...point,
				productIds: rows.map((p) => p.id),
				// for the one-tap 「フォローで送る」 on the profile
				products: rows.map((p) => ({ id: p.id, sku: p.sku, name: p.name, priceYen: p.price_yen }))
			};
		})
	);
}

// ---------------------------------------------------------------------------------------------

export async function customerIdByMemberNo(deps: AppDeps, memberNo: string): Promise<{ id: string }> {
	const row = await repo.findCustomerIdByMemberNo(deps.db, memberNo);
	if (!row) throw notFound('customer_not_found', 'No member with this number');
	return { id: row.id };
}

export { toKatakana };

export const SEARCH_PAGE_SIZE = 20;
/** Matches ranked per search (per query kind); beyond this the answer says `capped`. */
export const SEARCH_CANDIDATES = 200;

/** Rank of a match: 0 exact member number / phone, 1 exact full name, 2 exact family name, 3 prefix. */
type Ranked = { row: repo.SearchRow; tier: number };

export async function searchCustomers(
	deps: AppDeps,
	rawQuery: string,
	options: { offset?: number; now?: Date } = {}
): Promise<CustomerSearchResponse> {
	const now = options.now ?? new Date();
	const offset = Math.max(0, Math.min(options.offset ?? 0, SEARCH_CANDIDATES));
	const query = parseSearchQuery(rawQuery);
	if (query.kind === 'too_short') throw badRequest('query_too_short', 'Type at least 2 characters', { q: 'Type at least 2 characters' });
	const cap = SEARCH_CANDIDATES + 1; // one more than we rank tells whether there are more
	const ranked: Ranked[] = [];
	let capped = false;
	const add = (rows: repo.SearchRow[], tier: (r: repo.SearchRow) => number | null) => {
		if (rows.length >= cap) capped = true;
		for (const row of rows.slice(0, SEARCH_CANDIDATES)) {
			const t = tier(row);
			if (t === null) continue;
			const existing = ranked.find((x) => x.row.id === row.id);
			if (!existing) ranked.push({ row, tier: t });
			else existing.tier = Math.min(existing.tier, t);
		}
	};
	if (query.kind === 'digits') {
		const d = query.digits;
		const [byMember, byPhone, byLast4] = await Promise.all([
			repo.searchByMemberNo(deps.db, d, cap),
			d.length >= 10 && d.length <= 11 ? repo.searchByPhone(deps.db, d, cap) : Promise.resolve([]),
			d.length === 4 ? repo.searchByPhoneLast4(deps.db, d, cap) : Promise.resolve([])
		]);
		add(byMember, () => 0);
		add(byPhone, () => 0);
		add(byLast4, () => 3);
	} else {
		const [family, ...rest] = query.tokens;
		const given = rest.join('') || null;
		const [spaced, compact] = await Promise.all([
			repo.searchByName(deps.db, family, given, cap),
			query.tokens.length === 1 ? repo.searchByCompactName(deps.db, query.compact, cap) : Promise.resolve([])
		]);
		const tier = (r: repo.SearchRow) => {
			const t = nameMatchTier(query, { family: r.family_name, given: r.given_name, familyKana: r.family_kana, givenKana: r.given_kana });
			return t === null ? null : t + 1;
		};
		add(spaced, tier);
		add(compact, tier);
	}
	if (ranked.length > SEARCH_CANDIDATES) {
		capped = true;
		ranked.length = SEARCH_CANDIDATES;
	}

	// within a tier: the most recent visit (store or EC) first, then by kana and member number
	const activity = new Map(
		(await repo.lastActivityFor(deps.db, ranked.map((r) => r.row.id))).map((a) => [
			a.id,
			Math.max(a.last_store_at ? new Date(a.last_store_at).getTime() : 0, a.last_ec_at ? new Date(a.last_ec_at).getTime() : 0)
		])
	);
	ranked.sort(
		(a, b) =>
			a.tier - b.tier ||
			(activity.get(b.row.id) ?? 0) - (activity.get(a.row.id) ?? 0) ||
			fullName(a.row.family_kana, a.row.given_kana).localeCompare(fullName(b.row.family_kana, b.row.given_kana), 'ja') ||
			a.row.member_no.localeCompare(b.row.member_no)
	);
	const page = ranked.slice(offset, offset + SEARCH_PAGE_SIZE).map((r) => r.row);
	const [summaryRows, storeRows] = await Promise.all([
		repo.summariesFor(deps.db, page.map((r) => r.id)),
		repo.storeNames(deps.db, [...new Set(page.map((r) => r.home_store_id).filter((id): id is string => Boolean(id)))])
	]);
	const summaries = new Map(summaryRows.map((s) => [s.id, s]));
	const stores = new Map(storeRows.map((s) => [s.id, { id: s.id, name: s.name, nameEn: s.name_en ?? s.name }]));
	const next = offset + SEARCH_PAGE_SIZE;
	return {
		total: ranked.length,
		capped,
		offset,
		nextOffset: next < ranked.length ? next : null,
		results: page.map((r) => {
			const s = summaries.get(r.id);
			const lastStore = s?.last_store_at ? new Date(s.last_store_at) : null;
			const lastEc = s?.last_ec_at ? new Date(s.last_ec_at) : null;
			const firstStore = s?.first_store_at ? new Date(s.first_store_at) : null;
			const firstEc = s?.first_ec_at ? new Date(s.first_ec_at) : null;
			const state = customerState(
				{
					storeOrders: s?.store_count ?? 0,
					ecOrders: s?.ec_count ?? 0,
					lastPurchaseAt: latest(lastStore, lastEc),
					firstPurchaseAt: earliest(firstStore, firstEc)
				},
				now,
				deps.config.dormantDays
			);
			return {
				id: r.id,
				memberNo: r.member_no,
				name: fullName(r.family_name, r.given_name),
				kana: fullName(r.family_kana, r.given_kana),
				phoneLast4: r.phone ? r.phone.slice(-4) : null,
				state,
				lastVisitAt: iso(lastStore),
				birthday: monthDay(r.birthday),
				homeStore: r.home_store_id ? (stores.get(r.home_store_id) ?? null) : null
			};
		})
	};
}

/** 'MM-DD' of a date column (a Date at UTC midnight or a 'YYYY-MM-DD' string). */
function monthDay(value: Date | string | null): string | null {
	if (!value) return null;
	const text = typeof value === 'string' ? value : value.toISOString();
	return text.slice(5, 10);
}

/** Today's customers at the signed-in store, as compact profiles for the tablet's offline cache. */
export async function todaysCustomers(deps: AppDeps, actor: StaffPrincipal, now = new Date(), listCustomerIds: string[] = []): Promise<TodayCustomersResponse> {
	const today = jstDate(now.getTime());
	const oldestDue = jstDate(now.getTime() - 30 * DAY_MS);
	const found = await repo.todaysCustomerIds(deps.db, actor.storeId, today, oldestDue, new Date(now.getTime() - 7 * DAY_MS), TODAY_LIMIT);
	// the customers on the staff member's list (今日の連絡) first, then the store's
	const ids = [...new Set([...listCustomerIds, ...found])].slice(0, TODAY_LIMIT);
	const customers: Profile[] = [];
	// sequential in small groups: 50 profiles × 10 queries must not starve the pool
	for (let i = 0; i < ids.length; i += 5) {
		const group = ids.slice(i, i + 5);
		customers.push(
			...(await Promise.all(
				group.map((id) => getProfile(deps, actor, id, { via: 'prefetch', timelineLimit: COMPACT_TIMELINE_LIMIT, now, audit: false }))
			))
		);
	}
	await recordCustomerAccess(deps.db, actor, 'profile.prefetch', customers.map((c) => c.customer.id), 'prefetch');
	return { customers };
}

/**
 * 「カナ未登録」: the reading the customer gave staff in the store (typed in hiragana or
 * katakana, stored as katakana). Fills an empty reading only, so it is safe to replay from the
 * tablet's outbox and never overwrites what the member entered on the card. 400
 * `validation_failed` with the field; 404 for an unknown customer; 409 `member_left`.
 */
export async function recordKanaInStore(deps: AppDeps, customerId: string, input: { familyKana: string; givenKana?: string | null }) {
	const familyKana = normalizeKana(input.familyKana);
	const givenKana = input.givenKana ? normalizeKana(input.givenKana) : '';
	const fields: Record<string, string> = {};
	if (!familyKana) fields.familyKana = 'Required';
	else if (!isKatakanaReading(familyKana) || familyKana.length > 40) fields.familyKana = 'Katakana only';
	if (givenKana && (!isKatakanaReading(givenKana) || givenKana.length > 40)) fields.givenKana = 'Katakana only';
	if (Object.keys(fields).length > 0) throw badRequest('validation_failed', 'Check the highlighted fields', fields);
	if (!isUuid(customerId)) throw notFound('customer_not_found', 'No such customer');
	return deps.db.transaction().execute(async (trx) => {
		const consent = await currentConsent(trx, customerId);
		if (consent.leaving || consent.erased) throw conflict('member_left', 'This customer has left the membership');
		// (currentConsent answers 404 for an unknown customer)
		const applied = await fillMissingKana(trx, customerId, familyKana, givenKana || null, new Date());
		return { applied, familyKana, givenKana: givenKana || null };
	});
}
