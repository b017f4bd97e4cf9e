/**
 * The staff tablet API contract: request and response shapes shared by the server
 * (server/modules/staff, customers, consultations, products) and the tablet (src/).
 * Plain types only — no runtime imports, so the tablet bundle pays nothing for it.
 * Dates are ISO strings (date-only fields 'YYYY-MM-DD'); money is integer yen.
 */

export type StaffRole = 'staff' | 'manager' | 'admin';

/** Error envelope of every non-2xx JSON response. */
export interface ApiErrorBody {
	error: {
		code: string;
		message: string;
		requestId: string;
		fields?: Record<string, unknown>;
	};
}

// ---------------------------------------------------------------------------------------------
// Auth: stores, devices, sessions
// ---------------------------------------------------------------------------------------------

export interface StoreSummary {
	id: string;
	name: string;
	nameEn: string;
}

/** GET /api/stores (no auth) */
export interface StoresResponse {
	stores: StoreSummary[];
}

export interface DeviceInfo {
	id: string;
	name: string;
	storeId: string;
	storeName: string;
}

/** POST /api/devices/enroll */
export interface EnrollDeviceRequest {
	storeId: string;
	deviceName: string;
	staffCode: string;
	pin: string;
	/** the one-time code a manager/admin issued (required when the server says so) */
	enrollmentCode?: string;
}

/** 201 of POST /api/devices/enroll. deviceToken = `<deviceId>.<secret>`; send as `Authorization: Device <deviceToken>`. */
export interface EnrollDeviceResponse {
	device: DeviceInfo;
	deviceToken: string;
}

export interface StaffListEntry {
	id: string;
	displayName: string;
	role: StaffRole;
	staffCode: string;
}

/** GET /api/devices/me (device auth) */
export interface DeviceMeResponse {
	device: DeviceInfo;
	staff: StaffListEntry[];
}

/** POST /api/sessions (device auth) */
export interface CreateSessionRequest {
	staffId: string;
	pin: string;
}

export interface SessionStaff {
	id: string;
	displayName: string;
	role: StaffRole;
	storeId: string;
	staffCode: string;
}

/** 201 of POST /api/sessions. Send `Authorization: Bearer <token>` on staff calls. */
export interface CreateSessionResponse {
	token: string;
	expiresAt: string;
	staff: SessionStaff;
}

/** Error codes of the auth endpoints (in `error.code`). */
export type AuthErrorCode =
	| 'invalid_credentials'
	| 'enrollment_locked'
	| 'session_revoked'
	| 'not_manager'
	| 'pin_locked'
	| 'store_not_found'
	| 'device_revoked'
	| 'invalid_device'
	| 'invalid_pin'
	| 'session_expired'
	| 'unauthorized'
	| 'forbidden';

/** `error.fields` of 429 pin_locked and 429 enrollment_locked */
export interface PinLockedFields {
	retryAfterSeconds: number;
}

/** `error.fields` of 401 invalid_pin */
export interface InvalidPinFields {
	attemptsLeft: number;
}

// ---------------------------------------------------------------------------------------------
// Customers and the unified profile
// ---------------------------------------------------------------------------------------------

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
}

/** GET /api/customers/search?q= (≤ 20 results; 400 query_too_short under 2 chars) */
export interface CustomerSearchResponse {
	results: CustomerSearchResult[];
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
}

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

// ---------------------------------------------------------------------------------------------
// Products
// ---------------------------------------------------------------------------------------------

export interface ProductSummary {
	id: number;
	sku: string;
	jan: string | null;
	name: string;
	category: string;
	priceYen: number;
	imageUrl: string | null;
}

/** GET /api/products/search?q= */
export interface ProductSearchResponse {
	results: ProductSummary[];
}

/** GET /api/products/by-code/:code (JAN or SKU) → ProductSummary; 404 product_not_found */
export type ProductByCodeResponse = ProductSummary;

// ---------------------------------------------------------------------------------------------
// Consultations (接客記録)
// ---------------------------------------------------------------------------------------------

export interface ConsultationItemInput {
	productId?: number;
	sku?: string;
	name: string;
	size?: string;
	color?: string;
	outcome: ConsultationOutcome;
}

/**
 * PUT /api/consultations/:id — :id is a client-generated UUID. Exactly one of customerId /
 * memberNo (memberNo when recorded offline for a customer the tablet did not know).
 * Limits: notes ≤ 2000 chars, ≤ 30 items, ≤ 10 tags.
 */
export interface PutConsultationRequest {
	customerId?: string;
	memberNo?: string;
	occurredAt: string;
	items: ConsultationItemInput[];
	sizes: Record<string, string>;
	notes: string;
	tags: string[];
	nextAction?: string;
	/** 'YYYY-MM-DD' */
	nextActionDue?: string;
}

export interface ConsultationRecord {
	id: string;
	customerId: string | null;
	memberNo: string | null;
	storeId: string;
	storeName: string;
	staffId: string;
	staffName: string;
	deviceId: string | null;
	occurredAt: string;
	items: ConsultationItemInput[];
	sizes: Record<string, string>;
	notes: string;
	tags: string[];
	nextAction: string | null;
	nextActionDue: string | null;
	createdAt: string;
}

/** 201 on first write, 200 on replay by the same author; 409 id_conflict for another author. */
export interface PutConsultationResponse {
	consultation: ConsultationRecord;
}

/** GET /api/customers/:id/consultations (brand-wide, newest first) */
export interface CustomerConsultationsResponse {
	consultations: ConsultationRecord[];
}
