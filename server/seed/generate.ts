/**
 * The demo brand as plain rows, generated from one PRNG seed and an anchor date (the seed's
 * "today"; history spans the 12 months before it). Pure: no database, no clock — the same
 * inputs give byte-identical rows. seed.ts writes them.
 */
import { plantDemoDuplicates } from './duplicates.ts';
import { DEMO_STAFF, DEMO_STORES, FEATURED_MEMBERS, demoLineUserId, type FeaturedMember } from './fixtures.ts';
import { CATEGORY_WEIGHTS, COMPANIONS, generateCatalog, productsByCategory, type CategoryCode, type DemoProduct } from './catalog.ts';
import { COLORS, FAMILY_NAMES, FEMALE_NAMES, MALE_NAMES, drawPhone, drawSizes, type Sizes } from './people.ts';
import { Rng } from './random.ts';
import { DAY_MS, jstDate } from '../shared/jst.ts';
import { generateEngagement } from './engagement.ts';

export const DEFAULT_SEED = 20261123;
export const DEFAULT_CUSTOMERS = 2000;
/** ATTRIBUTION_WINDOW_DAYS' default in config.ts: the window of the demo's attributions. */
const ATTRIBUTION_WINDOW_DAYS = 30;

/** The scripted members come first in member-number order. */
const isFeatured = (memberNo: string) => Number(memberNo) <= 1_000_000_000 + FEATURED_MEMBERS.length;

export interface GenerateOptions {
	/** 'YYYY-MM-DD' in Asia/Tokyo: the seed's "today". */
	anchorDate: string;
	seed?: number;
	customers?: number;
	publicBaseUrl: string;
}

export type Segment = 'cross_channel' | 'store_only' | 'ec_only' | 'first_purchase_only' | 'dormant' | 'none';
type Row = Record<string, unknown>;

export interface DemoData {
	anchorDate: string;
	seed: number;
	stores: Row[];
	staff: Row[];
	products: Row[];
	customers: Row[];
	identities: Row[];
	storePurchases: Row[];
	storePurchaseLines: Row[];
	ecOrders: Row[];
	ecOrderLines: Row[];
	ecRefunds: Row[];
	consultations: Row[];
	lineEvents: Row[];
	messageTemplates: Row[];
	followUps: Row[];
	trackedLinks: Row[];
	linkClicks: Row[];
	attributions: Row[];
	/** The segment each customer was generated for, by member number (for tests). */
	intended: Map<string, Segment>;
}

interface Plan {
	channel: 'store' | 'ec';
	daysAgo: number;
	storeId?: string;
	staffCode?: string;
	basket?: DemoProduct[];
	cancelled?: boolean;
}

interface Person {
	id: string;
	memberNo: string;
	homeStoreId: string | null;
	female: boolean;
	sizes: Sizes;
	lineUserId: string | null;
	ecCustomerId: string | null;
	email: string | null;
	createdDaysAgo: number;
}

const SEGMENT_WEIGHTS: Array<[Segment, number]> = [
	['cross_channel', 22],
	['store_only', 22],
	['ec_only', 13],
	['first_purchase_only', 18],
	['dormant', 18],
	['none', 7]
];
const STORE_WEIGHTS: Array<[string, number]> = [['shibuya', 40], ['shinjuku', 35], ['yokohama', 25]];

const NOTES = [
	'通勤用のきれいめパンツを探している。丈は短め希望。',
	'前回購入のシャツを気に入ってリピート。色違いを検討中。',
	'ギフト用（ご主人の誕生日）。ラッピング希望。',
	'旅行用にシワになりにくい素材を希望。',
	'サイズで迷われたため両方試着。次回入荷で再検討。',
	'ECで見た商品を実物で確認したいとのこと。',
	'足幅が広めなのでワンサイズ上がおすすめ。',
	'冬物アウターの買い替えを検討中。ウール素材が好み。'
];
const TAGS = ['ギフト', 'サイズ相談', '通勤', '旅行', 'リピーター', '新作チェック', 'EC併用'];
const NEXT_ACTIONS = ['入荷連絡', 'サイズ交換の確認', '新作入荷時にLINEでご案内', 'お直し完了の連絡', 'コーディネート提案を送る'];
const LINE_MESSAGES = [
	'入荷したら教えてください',
	'ありがとうございます！また伺います',
	'サイズ交換はできますか？',
	'週末に取り置きをお願いできますか',
	'セールの予定はありますか？'
];

export const MESSAGE_TEMPLATES = [
	{ key: 'thanks', title: 'お礼', body: '{customerName}様\n本日は{storeName}にお越しいただきありがとうございました。お選びいただいたアイテム、ぜひたくさん着てくださいね。\nまたのご来店をお待ちしております。\n{staffName}' },
	{ key: 'restock', title: '入荷のお知らせ', body: '{customerName}様\n先日お話ししていたアイテムが{storeName}に入荷しました。オンラインストアからもご覧いただけます。\n{staffName}' },
	{ key: 'new_arrivals', title: '新作', body: '{customerName}様\n新作が入荷しました。{customerName}様に似合いそうなアイテムをお選びしました。ぜひご覧ください。\n{storeName} {staffName}' },
	{ key: 'store_event', title: '店舗イベントのご案内', body: '{customerName}様\n{storeName}で会員様限定のイベントを開催します。ご都合が合えばぜひお立ち寄りください。\n{staffName}' }
];

/** Templates of today's list (docs/worklist.md), one per reason; added after the PRNG-drawn rows so those stay as they were. */
export const WORKLIST_TEMPLATES = [
	{ key: 'birthday', title: 'お誕生日', body: '{customerName}様\nもうすぐお誕生日ですね。おめでとうございます。{storeName}より、ささやかなお祝いをご用意してお待ちしております。\n{staffName}' },
	{ key: 'second_purchase', title: 'その後いかがですか', body: '{customerName}様\n先日はありがとうございました。お選びいただいたアイテムの着心地はいかがですか。合わせやすい新作も入っていますので、ぜひご覧ください。\n{storeName} {staffName}' },
	{ key: 'welcome_back', title: 'お久しぶりです', body: '{customerName}様\nご無沙汰しております。{customerName}様のお好みに合いそうな新作が揃いました。お近くにお越しの際は、ぜひお立ち寄りください。\n{storeName} {staffName}' },
	{ key: 'store_invite', title: '店舗へのご招待', body: '{customerName}様\nいつもオンラインストアをご利用いただきありがとうございます。{storeName}では実際にご試着いただけます。ご来店の際はお声がけください。\n{staffName}' },
	{ key: 'owner_intro', title: '担当のごあいさつ', body: '{customerName}様\nこのたび{storeName}で{customerName}様を担当させていただくことになりました{staffName}です。サイズやコーディネートのご相談など、お気軽にお声がけください。\n{storeName} {staffName}' }
];

export function generateDemoData(options: GenerateOptions): DemoData {
	const seed = options.seed ?? DEFAULT_SEED;
	const total = Math.max(options.customers ?? DEFAULT_CUSTOMERS, FEATURED_MEMBERS.length);
	const rng = new Rng(seed);
	const anchor = Date.parse(`${options.anchorDate}T00:00:00+09:00`);
	if (Number.isNaN(anchor)) throw new Error(`bad anchor date ${options.anchorDate}`);
	const at = (daysAgo: number, hour = 0, minute = 0) => new Date(anchor - daysAgo * DAY_MS + (hour * 60 + minute) * 60_000).toISOString();
	const dateOf = (daysAgo: number) => jstDate(anchor - daysAgo * DAY_MS);
	const anchorMonth = Number(options.anchorDate.slice(5, 7));

	// ── catalogue, stores, staff ────────────────────────────────────────────────
	const catalog = generateCatalog(rng, options.publicBaseUrl);
	const byCategory = productsByCategory(catalog);
	const products = catalog.map((p) => ({
		id: p.id, sku: p.sku, jan: p.jan, name: p.name, category: p.category, price_yen: p.price_yen,
		ec_product_id: p.ec_product_id, ec_url: p.ec_url, image_url: p.image_url, active: true,
		created_at: at(400), updated_at: at(400)
	}));
	const stores = DEMO_STORES.map((s) => ({ ...s, created_at: at(1200) }));
	const staffIds = new Map<string, string>();
	const staff = DEMO_STAFF.map((s, i) => {
		const id = rng.uuid();
		staffIds.set(s.staff_code, id);
		return {
			id, staff_code: s.staff_code, display_name: s.display_name, sender_name: s.sender_name,
			// served by this app (static/demo-assets/staff, scripts/demo-images.ts); every 4th has none
			sender_icon_url: i % 4 === 3 ? null : `${options.publicBaseUrl}/demo-assets/staff/${(i % 6) + 1}.png`,
			role: s.role, home_store_id: s.home_store_id, active: true, created_at: at(900 - i * 20)
		};
	});
	const floorStaff = (storeId: string) => DEMO_STAFF.filter((s) => s.home_store_id === storeId && s.role !== 'admin').map((s) => s.staff_code);

	// ── customers and their plans ───────────────────────────────────────────────
	const customers: Row[] = [];
	const identities: Row[] = [];
	const intended = new Map<string, Segment>();
	const plansOf: Array<{ person: Person; plans: Plan[] }> = [];
	const phones = new Set<string>();
	let ecSerial = 0;

	const addPerson = (index: number, featured: FeaturedMember | undefined) => {
		const memberNo = String(1_000_000_000 + index);
		const segment: Segment = featured?.state ?? rng.weighted(SEGMENT_WEIGHTS);
		const female = featured ? FEMALE_NAMES.some((n) => n[0] === featured.given_name) : rng.chance(0.68);
		const family = featured ? FAMILY_NAMES.find((n) => n[0] === featured.family_name)! : rng.pick(FAMILY_NAMES);
		const given = featured
			? [...FEMALE_NAMES, ...MALE_NAMES].find((n) => n[0] === featured.given_name)!
			: rng.pick(female ? FEMALE_NAMES : MALE_NAMES);
		const plans = featured ? featuredPlans(featured) : drawPlans(segment);
		const hasStore = plans.some((p) => p.channel === 'store');
		const hasEc = plans.some((p) => p.channel === 'ec');
		const firstDaysAgo = plans.length ? Math.max(...plans.map((p) => p.daysAgo)) : 0;
		const createdDaysAgo = plans.length ? firstDaysAgo + rng.int(0, 500) : rng.int(1, 120);
		const homeStoreId = featured
			? featuredHome(featured)
			: segment === 'ec_only' && rng.chance(0.5) ? null : rng.weighted(STORE_WEIGHTS);
		const line = featured ? featured.line : rng.chance(segment === 'none' ? 0.6 : 0.38);
		const lineUserId = line ? demoLineUserId(memberNo) : null;
		const blocked = line && !featured && rng.chance(0.06);
		const lineFriend = line && !blocked && (featured !== undefined || rng.chance(0.93));
		const emailFormat = rng.int(0, 2);
		const email = featured || hasEc || rng.chance(0.8)
			? [`${given[2]}.${family[2]}`, `${family[2]}_${given[2]}`, `${given[2][0]}${family[2]}`][emailFormat] + (featured ? '' : index) + '@example.jp'
			: null;
		const phone = featured || rng.chance(hasStore ? 0.9 : 0.7) ? drawPhone(rng, phones) : null;
		const birthday = featured || rng.chance(0.8) ? drawBirthday(featured !== undefined && featured.member_no === '1000000001') : null;
		const consentMessages = featured !== undefined || rng.chance(0.7);
		const person: Person = {
			id: rng.uuid(), memberNo, homeStoreId, female, sizes: drawSizes(rng, female), lineUserId,
			ecCustomerId: hasEc ? String(7_301_000_000_000_000_000n + BigInt(++ecSerial) * 7_919n) : null,
			email, createdDaysAgo
		};
		const created = at(createdDaysAgo, rng.int(10, 21), rng.int(0, 59));
		customers.push({
			id: person.id, member_no: memberNo, family_name: family[0], given_name: given[0],
			// a featured member may have no reading (joined through LINE, kana never given)
			family_kana: featured && featured.family_kana === null ? null : family[1],
			given_kana: featured && featured.given_kana === null ? null : given[1], birthday, email, phone, home_store_id: homeStoreId, consent_terms_at: created,
			consent_messages: consentMessages, consent_messages_at: consentMessages ? created : null,
			line_user_id: lineUserId, line_friend: lineFriend,
			line_blocked_at: blocked ? at(rng.int(1, Math.max(1, createdDaysAgo - 1)), 21, 0) : null,
			created_at: created, updated_at: created
		});
		const identity = (kind: string, value: string) => identities.push({ customer_id: person.id, kind, value, created_at: created });
		if (lineUserId) identity('line', lineUserId);
		if (person.ecCustomerId) identity('ec', person.ecCustomerId);
		if (hasStore) identity('pos', `POS-${memberNo.slice(-8)}`);
		if (email) identity('email', email);
		if (phone) identity('phone', phone.replace(/-/g, ''));
		intended.set(memberNo, segment);
		plansOf.push({ person, plans });
	};

	function drawBirthday(thisMonth: boolean): string {
		const month = thisMonth || rng.chance(0.05) ? anchorMonth : rng.int(1, 12);
		const day = rng.int(1, 28);
		return `${rng.int(1965, 2004)}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
	}

	function spread(n: number, lastMin: number, lastMax: number, oldest: number): number[] {
		const last = rng.int(lastMin, lastMax);
		const days = [last];
		for (let i = 1; i < n; i++) days.push(rng.int(last, oldest));
		return days;
	}

	function drawPlans(segment: Segment): Plan[] {
		const store = (d: number): Plan => ({ channel: 'store', daysAgo: d });
		const ec = (d: number): Plan => ({ channel: 'ec', daysAgo: d });
		let plans: Plan[];
		switch (segment) {
			case 'none':
				return [];
			case 'first_purchase_only': {
				const d = rng.int(1, 170);
				plans = [rng.chance(0.6) ? store(d) : ec(d)];
				break;
			}
			case 'store_only':
				plans = spread(rng.int(2, 7), 1, 170, 365).map(store);
				break;
			case 'ec_only':
				plans = spread(rng.int(2, 5), 1, 170, 365).map(ec);
				break;
			case 'cross_channel': {
				const days = spread(rng.int(2, 7), 1, 170, 365);
				// at least one of each channel; the rest either way
				plans = days.map((d, i) => (i === 0 ? store(d) : i === 1 ? ec(d) : rng.chance(0.55) ? store(d) : ec(d)));
				break;
			}
			case 'dormant':
				plans = spread(rng.int(1, 4), 190, 300, 365).map((d) => (rng.chance(0.6) ? store(d) : ec(d)));
				break;
		}
		// a cancelled EC order is not a purchase: it never changes the state
		if (plans.some((p) => p.channel === 'ec') && rng.chance(0.05)) plans.push({ channel: 'ec', daysAgo: rng.int(1, 365), cancelled: true });
		return plans;
	}

	const firstOf = (code: CategoryCode, contains: string) => byCategory[code].find((p) => p.name.includes(contains)) ?? byCategory[code][0];
	function featuredHome(f: FeaturedMember): string | null {
		return { '1000000001': 'shibuya', '1000000002': 'shinjuku', '1000000003': null, '1000000004': 'shibuya', '1000000005': 'yokohama' }[f.member_no] ?? 'shibuya';
	}
	/** Scripted histories so the demo and e2e tests can rely on each featured member's story. */
	function featuredPlans(f: FeaturedMember): Plan[] {
		const s = (daysAgo: number, storeId: string, staffCode: string, basket: DemoProduct[]): Plan => ({ channel: 'store', daysAgo, storeId, staffCode, basket });
		const e = (daysAgo: number, basket: DemoProduct[]): Plan => ({ channel: 'ec', daysAgo, basket });
		switch (f.state) {
			case 'cross_channel': // 山田花子: sneakers 30 days ago (shoe care next), EC alongside
				return [
					s(300, 'shibuya', 'S003', [firstOf('TP', 'シャツ'), firstOf('BT', 'パンツ')]),
					e(200, [firstOf('OP', 'ワンピース')]),
					s(120, 'shibuya', 'S003', [firstOf('OT', 'コート')]),
					e(60, [firstOf('AC', 'ストール')]),
					s(30, 'shibuya', 'S003', [firstOf('SH', 'レザースニーカー')]),
					e(12, [firstOf('TP', 'ニット')])
				];
			case 'store_only': // 松本直樹
				return [
					s(250, 'shinjuku', 'S007', [firstOf('OT', 'ジャケット')]),
					s(90, 'shinjuku', 'S007', [firstOf('BT', 'チノ'), firstOf('TP', 'Tシャツ')]),
					s(25, 'shinjuku', 'S008', [firstOf('SH', 'ローファー'), firstOf('SC', 'クリーム')])
				];
			case 'ec_only': // 井上真央: never been to a store
				return [e(280, [firstOf('OP', 'シャツワンピース')]), e(150, [firstOf('BG', 'トート')]), e(40, [firstOf('TP', 'ブラウス')]), e(8, [firstOf('AC', 'ピアス')])];
			case 'first_purchase_only': // 木村葵: one visit two weeks ago (F2 candidate)
				return [s(14, 'shibuya', 'S004', [firstOf('TP', 'カーディガン')])];
			case 'dormant': // 林浩二: last bought about eight months ago
				return [
					s(340, 'yokohama', 'S010', [firstOf('OT', 'ダウン')]),
					e(290, [firstOf('TP', 'スウェット')]),
					s(240, 'yokohama', 'S011', [firstOf('SH', 'ブーツ'), firstOf('SC', '防水')])
				];
		}
	}

	FEATURED_MEMBERS.forEach((f, i) => addPerson(i + 1, f));
	for (let i = FEATURED_MEMBERS.length + 1; i <= total; i++) addPerson(i, undefined);

	// ── baskets ─────────────────────────────────────────────────────────────────
	function drawBasket(): DemoProduct[] {
		const lead = rng.weighted(CATEGORY_WEIGHTS);
		const basket = [rng.pickPopular(byCategory[lead])];
		for (const [companion, p] of COMPANIONS[lead] ?? []) if (rng.chance(p)) basket.push(rng.pickPopular(byCategory[companion]));
		if (rng.chance(0.15)) basket.push(rng.pickPopular(byCategory[rng.weighted(CATEGORY_WEIGHTS)]));
		return [...new Set(basket)];
	}
	const quantity = (p: DemoProduct) => (p.price_yen < 5000 && rng.chance(0.1) ? 2 : 1);

	// ── store receipts ──────────────────────────────────────────────────────────
	interface Receipt { row: Row; lines: Row[]; daysAgo: number; minute: number }
	const receipts: Receipt[] = [];
	interface Order { row: Row; lines: Row[]; daysAgo: number; minute: number; refund?: { amount: number; daysAgo: number } }
	const orders: Order[] = [];
	interface Visit { person: Person; storeId: string; staffCode: string; daysAgo: number; minute: number; basket: DemoProduct[] }
	const visits: Visit[] = [];

	const storeSale = (person: Person | null, plan: Plan) => {
		const storeId = plan.storeId ?? (person?.homeStoreId && rng.chance(0.85) ? person.homeStoreId : rng.weighted(STORE_WEIGHTS));
		const staffCode = plan.staffCode ?? rng.pick(floorStaff(storeId));
		const basket = plan.basket ?? drawBasket();
		const minute = rng.int(11 * 60, 20 * 60 + 30);
		const lines = basket.map((p, i) => {
			const q = quantity(p);
			return { line_no: i + 1, product_id: p.id, sku: p.sku, quantity: q, unit_price_yen: p.price_yen, amount_yen: q * p.price_yen };
		});
		const totalYen = lines.reduce((s, l) => s + l.amount_yen, 0);
		const row = { store_id: storeId, customer_id: person?.id ?? null, staff_id: staffIds.get(staffCode)!, purchased_at: at(plan.daysAgo, 0, minute), total_yen: totalYen, kind: 'sale', source: 'seed' };
		receipts.push({ row, lines, daysAgo: plan.daysAgo, minute });
		if (person) visits.push({ person, storeId, staffCode, daysAgo: plan.daysAgo, minute, basket });
		// occasional return a few days later, as its own receipt with negative lines
		if (person && !plan.basket && plan.daysAgo >= 3 && rng.chance(0.04)) {
			const back = lines[0];
			const daysAgo = plan.daysAgo - rng.int(1, Math.min(14, plan.daysAgo - 1));
			const rMinute = rng.int(11 * 60, 20 * 60);
			receipts.push({
				row: { ...row, purchased_at: at(daysAgo, 0, rMinute), total_yen: -back.amount_yen, kind: 'return' },
				lines: [{ ...back, line_no: 1, quantity: -back.quantity, amount_yen: -back.amount_yen }],
				daysAgo, minute: rMinute
			});
		}
	};

	let ecLineSerial = 0;
	const ecOrder = (person: Person, plan: Plan) => {
		const basket = plan.basket ?? drawBasket();
		const minute = rng.int(0, 24 * 60 - 1);
		const lines = basket.map((p, i) => {
			const q = quantity(p);
			return { line_no: i + 1, ec_line_id: String(14_100_000_000_000 + ++ecLineSerial * 13), product_id: p.id, sku: p.sku, name: p.name, quantity: q, unit_price_yen: p.price_yen, amount_yen: q * p.price_yen };
		});
		const subtotal = lines.reduce((s, l) => s + l.amount_yen, 0);
		const orderedAt = at(plan.daysAgo, 0, minute);
		const cancelled = plan.cancelled === true;
		const refund = !cancelled && !plan.basket && plan.daysAgo >= 3 && rng.chance(0.04)
			? { amount: lines[0].amount_yen, daysAgo: plan.daysAgo - rng.int(1, Math.min(10, plan.daysAgo - 1)) }
			: undefined;
		const row = {
			platform: 'shopify', customer_id: person.id, ec_customer_id: person.ecCustomerId, ordered_at: orderedAt,
			subtotal_yen: subtotal, total_yen: subtotal + (subtotal >= 5000 ? 0 : 550),
			status: cancelled ? 'cancelled' : 'open',
			financial_status: cancelled ? 'voided' : refund ? (lines.length === 1 ? 'refunded' : 'partially_refunded') : 'paid',
			cancelled_at: cancelled ? at(plan.daysAgo, 0, Math.min(minute + 90, 24 * 60 - 1)) : null,
			landing_site: rng.chance(0.3) ? `/shop/products/${basket[0].sku}` : '/',
			ref_code: null, note_attributes: [], source_updated_at: orderedAt, source: 'seed', created_at: orderedAt, updated_at: orderedAt
		};
		orders.push({ row, lines, daysAgo: plan.daysAgo, minute, refund });
	};

	for (const { person, plans } of plansOf) {
		for (const plan of plans) (plan.channel === 'store' ? storeSale(person, plan) : ecOrder(person, plan));
	}
	// walk-in buyers who are not members
	for (let i = 0; i < Math.round(total * 0.6); i++) storeSale(null, { channel: 'store', daysAgo: rng.int(1, 365) });

	// ids and receipt/order numbers follow time, as the real systems hand them out
	const byTime = <T extends { daysAgo: number; minute: number }>(a: T, b: T) => b.daysAgo - a.daysAgo || a.minute - b.minute;
	receipts.sort(byTime);
	const storeCodes: Record<string, string> = { shibuya: 'SBY', shinjuku: 'SJK', yokohama: 'YKH' };
	const storeCounters: Record<string, number> = {};
	const storePurchases: Row[] = [];
	const storePurchaseLines: Row[] = [];
	receipts.forEach((r, i) => {
		const id = i + 1;
		const storeId = r.row.store_id as string;
		storeCounters[storeId] = (storeCounters[storeId] ?? 0) + 1;
		storePurchases.push({ id, pos_txn_id: `${storeCodes[storeId]}-${String(storeCounters[storeId]).padStart(7, '0')}`, ...r.row, created_at: r.row.purchased_at });
		for (const l of r.lines) storePurchaseLines.push({ purchase_id: id, ...l });
	});
	orders.sort(byTime);
	const ecOrders: Row[] = [];
	const ecOrderLines: Row[] = [];
	const ecRefunds: Row[] = [];
	orders.forEach((o, i) => {
		const id = i + 1;
		const ecOrderId = String(5_400_000_000_000 + id * 37);
		ecOrders.push({ id, ec_order_id: ecOrderId, order_name: `#${1001 + i}`, ...o.row });
		for (const l of o.lines) ecOrderLines.push({ order_id: id, ...l });
		if (o.refund) {
			ecRefunds.push({ platform: 'shopify', ec_refund_id: String(9_800_000_000_000 + id * 41), ec_order_id: ecOrderId, amount_yen: o.refund.amount, refunded_at: at(o.refund.daysAgo, 15, 0), created_at: at(o.refund.daysAgo, 15, 0) });
		}
	});

	// ── consultations (接客記録) ─────────────────────────────────────────────────
	const consultations: Row[] = [];
	const sizeFor = (p: DemoProduct, s: Sizes) => (['TP', 'OT', 'OP'].includes(p.categoryCode) ? s.tops : p.categoryCode === 'BT' ? s.bottoms : p.categoryCode === 'SH' ? s.shoes : null);
	const consult = (v: Visit, featured: boolean) => {
		const tried = rng.pickPopular(byCategory[v.basket[0].categoryCode]);
		const items = [
			...v.basket.map((p) => ({ productId: p.id, sku: p.sku, name: p.name, size: sizeFor(p, v.person.sizes), color: rng.pick(COLORS), outcome: 'bought' })),
			...(tried.id !== v.basket[0].id ? [{ productId: tried.id, sku: tried.sku, name: tried.name, size: sizeFor(tried, v.person.sizes), color: rng.pick(COLORS), outcome: rng.chance(0.5) ? 'tried' : 'interested' }] : [])
		];
		const withAction = v.daysAgo <= 45 && (featured || rng.chance(0.45));
		const occurred = at(v.daysAgo, 0, Math.max(v.minute - rng.int(5, 40), 0));
		consultations.push({
			id: rng.uuid(), customer_id: v.person.id, member_no: v.person.memberNo, store_id: v.storeId, staff_id: staffIds.get(v.staffCode)!,
			device_id: null, occurred_at: occurred, items, sizes: v.person.sizes,
			notes: rng.pick(NOTES), tags: rng.chance(0.6) ? [rng.pick(TAGS)] : [],
			next_action: withAction ? rng.pick(NEXT_ACTIONS) : null,
			next_action_due: withAction ? dateOf(v.daysAgo - rng.int(3, 21)) : null,
			created_at: occurred
		});
	};
	for (const v of visits) {
		const featured = isFeatured(v.person.memberNo);
		if (featured || rng.chance(0.3)) consult(v, featured);
	}

	// ── LINE events ─────────────────────────────────────────────────────────────
	const lineEvents: Row[] = [];
	customers.forEach((c) => {
		const lineUserId = c.line_user_id as string | null;
		if (!lineUserId) return;
		const event = (type: string, occurredAt: string, text: string | null) =>
			lineEvents.push({ webhook_event_id: rng.ulid(), line_user_id: lineUserId, customer_id: c.id, type, message_text: text, occurred_at: occurredAt, created_at: occurredAt });
		event('follow', c.created_at as string, null);
		const featured = isFeatured(c.member_no as string);
		if (featured || rng.chance(0.25)) {
			for (let k = rng.int(1, 2); k > 0; k--) event('message', at(rng.int(1, 90), rng.int(9, 22), rng.int(0, 59)), rng.pick(LINE_MESSAGES));
		}
		if (c.line_blocked_at) event('unfollow', c.line_blocked_at as string, null);
	});

	const messageTemplates = MESSAGE_TEMPLATES.map((t, i) => ({ id: rng.uuid(), ...t, updated_by: staffIds.get('S001')!, updated_at: at(60 - i) }));

	// ── follow-ups, links, clicks, attributed orders (own PRNG stream: the rows above stay as they were)
	const engagement = generateEngagement({
		anchor, seed, publicBaseUrl: options.publicBaseUrl, windowDays: ATTRIBUTION_WINDOW_DAYS,
		staff, stores, products, customers, identities, messageTemplates, ecOrders, ecOrderLines, ecRefunds,
		keepHistory: isFeatured,
		// another EC order leaves an EC or cross-channel buyer (bought within 170 days) in their state
		mayOrder: (memberNo) => !isFeatured(memberNo) && ['ec_only', 'cross_channel'].includes(intended.get(memberNo)!)
	});

	const data: DemoData = {
		anchorDate: options.anchorDate, seed, stores, staff, products, customers, identities, storePurchases, storePurchaseLines,
		ecOrders: [...ecOrders, ...engagement.ecOrders], ecOrderLines: [...ecOrderLines, ...engagement.ecOrderLines],
		ecRefunds: [...ecRefunds, ...engagement.ecRefunds], consultations, lineEvents,
		messageTemplates: [
			...messageTemplates,
			...WORKLIST_TEMPLATES.map((t, i) => ({ id: `00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`, ...t, updated_by: staffIds.get('S001')!, updated_at: at(30) }))
		],
		followUps: engagement.followUps, trackedLinks: engagement.trackedLinks, linkClicks: engagement.linkClicks,
		attributions: engagement.attributions, intended
	};
	// a few second records of the same people, for the merge suggestions queue
	plantDemoDuplicates(data);
	return data;
}
