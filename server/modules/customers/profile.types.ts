/**
 * Shapes of /api/customers (search, today, the unified profile).
 * Declared by the server; the SPA gets them through AppType (hc), never by importing this file.
 * Dates are ISO strings (date-only fields 'YYYY-MM-DD'); money is integer yen.
 */
import type { StoreSummary } from '../staff/staff.types.ts';

export type CustomerState =
	| 'first_purchase_only'
	| 'store_only'
	| 'ec_only'
	| 'cross_channel'
	| 'dormant'
	| 'none';

export interface CustomerSearchResult {
	id: string;
	memberNo: string;
	name: string;
	kana: string;
	phoneLast4: string | null;
	state: CustomerState;
	lastVisitAt: string | null;
	/** 'MM-DD' (month and day only) */
	birthday: string | null;
	homeStore: StoreSummary | null;
}

/**
 * GET /api/customers/search?q=&offset= — ranked: exact member number or whole phone number,
 * exact full name, exact family name, then prefixes (and a phone's last 4 digits); within each,
 * the most recent visit first. Pages of 20; at most SEARCH_CANDIDATES matches are ranked
 * (`capped` says there were more: narrow the search). 400 query_too_short under 2 characters.
 */
export interface CustomerSearchResponse {
	results: CustomerSearchResult[];
	/** Matches ranked (all of them unless `capped`). */
	total: number;
	capped: boolean;
	offset: number;
	/** Offset of the next page, or null on the last one. */
	nextOffset: number | null;
}

/** GET /api/customers/by-member/:memberNo (404 customer_not_found) */
export interface CustomerByMemberResponse {
	id: string;
}

/** How the profile was opened; recorded in the audit log. */
export type ProfileVia = 'scan' | 'search' | 'member_no' | 'recent';

export interface ProfileCustomer {
	id: string;
	memberNo: string;
	name: string;
	kana: string;
	memberSince: string;
	/** 'YYYY-MM-DD' */
	birthday: string | null;
	homeStore: StoreSummary | null;
	state: CustomerState;
	ltv: { storeYen: number; ecYen: number; totalYen: number };
	lastStoreVisitAt: string | null;
	lastEcOrderAt: string | null;
	line: { linked: boolean; friend: boolean; blocked: boolean; consentMessages: boolean };
	/**
	 * What the consent ledger allows staff to see, and what staff should ask in the store:
	 * `linking` false → store history only (EC orders and link clicks left out) with a note;
	 * `missing` lists the fields staff depend on that are empty (「カナ未登録」 …);
	 * `leaving` → the customer left, erasure is pending.
	 */
	privacy: { linking: boolean; missing: MissingField[]; leaving: boolean };
}

export type MissingField = 'kana' | 'birthday' | 'phone';

export type TimelineKind =
	| 'store_purchase'
	| 'ec_order'
	| 'consultation'
	| 'follow_up'
	| 'link_click'
	| 'line_message';

export type ConsultationOutcome = 'tried' | 'bought' | 'interested';

export interface TimelineItemLine {
	name: string;
	sku?: string;
	quantity?: number;
	size?: string;
	outcome?: ConsultationOutcome;
}

export interface TimelineEntry {
	/** unique within the timeline: `<kind>:<source id>` */
	id: string;
	kind: TimelineKind;
	at: string;
	title: string;
	amountYen?: number;
	storeName?: string;
	staffName?: string;
	status?: string;
	/** follow_up with status 'failed': why LINE did not take it (e.g. the monthly limit), for staff */
	failureReason?: string;
	items?: TimelineItemLine[];
	notes?: string;
	nextAction?: string;
	/** 'YYYY-MM-DD' */
	nextActionDue?: string;
}

export interface Preferences {
	/** category → size, latest first-seen wins (e.g. { shoes: '26.5', tops: 'M' }) */
	sizes: Record<string, string>;
	/** category → the sizes recorded, newest first, one entry per change (≤ 5) */
	sizeHistory?: Record<string, Array<{ size: string; at: string }>>;
	/** free-text sizes typed before sizes were structured that match no list, as typed (newest first) */
	legacySizes?: Array<{ label: string; size: string; at: string }>;
	topCategories: string[];
}

export interface TalkingPoint {
	/** stable rule id, e.g. 'shoe_care', 'ec_first_visit', 'birthday_month' */
	id: string;
	/** Japanese title (default UI language) */
	title: string;
	/** Japanese reason, e.g. "スニーカー購入から30日 → シューケア用品" */
	reason: string;
	titleEn: string;
	reasonEn: string;
	score: number;
	productIds?: number[];
	/** the suggested products themselves, for a one-tap follow-up */
	products?: Array<{ id: number; sku: string; name: string; priceYen: number }>;
}

export interface ProductSuggestion {
	productId: number;
	sku: string;
	name: string;
	priceYen: number;
	imageUrl: string | null;
	ecUrl: string | null;
	/** Japanese reason, e.g. "「ランニングシューズ」と一緒に購入されています" */
	reason: string;
	reasonEn: string;
}

/** GET /api/customers/:id/profile?via=scan|search|member_no|recent[&before=<ISO>] */
export interface Profile {
	customer: ProfileCustomer;
	/** newest first, at most 100 entries */
	timeline: TimelineEntry[];
	preferences: Preferences;
	talkingPoints: TalkingPoint[];
	suggestions: ProductSuggestion[];
	fetchedAt: string;
}

/** GET /api/customers/today (≤ 50, for offline prefetch) */
export interface TodayCustomersResponse {
	customers: Profile[];
}

