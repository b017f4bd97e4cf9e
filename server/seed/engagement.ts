/**
 * The demo's clienteling activity of the last four months, so the manager dashboard and the
 * staff's own page have something to show: LINE follow-ups sent by the floor staff (a few
 * failed), their tracked links, clicks, the EC orders that followed (some cancelled or
 * refunded) and the attributions the real rules give every EC order. Pure, like generate.ts:
 * same inputs → same rows. It draws from its own PRNG stream so the rest of the demo stays
 * exactly as before.
 *
 * Rows take the shapes the real code writes: the LINE messages come from buildLineMessages,
 * ref codes are read back with refCodesOf, and attributions are decided by decideAttribution
 * over the same candidates the attribution repository would load (links of the ref codes
 * with their latest click; otherwise the customer's clicks in the window).
 */
import { buildLineMessages, checkSender, type ProductCard } from '../integrations/line/flex.ts';
import { renderTemplate } from '../modules/followups/messages.ts';
import { decideAttribution, refCodesOf, type ClickFacts, type RefLink } from '../modules/attribution/rules.ts';
import { trackedLinkUrl } from '../modules/links/codes.ts';
import { Rng } from './random.ts';

type Row = Record<string, unknown>;

/** The part of the generated demo this needs (see generate.ts). */
export interface EngagementInput {
	anchor: number;
	seed: number;
	publicBaseUrl: string;
	windowDays: number;
	staff: Row[];
	stores: Row[];
	products: Row[];
	customers: Row[];
	identities: Row[];
	messageTemplates: Array<{ key: string; body: string }>;
	ecOrders: Row[];
	ecOrderLines: Row[];
	ecRefunds: Row[];
	/** Members whose history must stay as scripted (their purchase-based state is tested). */
	keepHistory: (memberNo: string) => boolean;
	/** Members who may get an extra EC order without changing their customer state. */
	mayOrder: (memberNo: string) => boolean;
}

export interface EngagementRows {
	followUps: Row[];
	trackedLinks: Row[];
	linkClicks: Row[];
	/** New EC orders (appended after the generated ones), their lines and refunds. */
	ecOrders: Row[];
	ecOrderLines: Row[];
	ecRefunds: Row[];
	/** One per attributed EC order, old or new. */
	attributions: Row[];
}

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
/** Follow-ups go back this far. */
const SPAN_DAYS = 120;
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BASE64URL = BASE62 + '-_';
const LINE_UA = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Safari Line/14.9.0';
const FAILURE_REASONS = ['LINE 400: The user hasn\'t added the LINE Official Account as a friend.', 'LINE 400: Failed to send messages'];

const draw = (rng: Rng, alphabet: string, length: number) => Array.from({ length }, () => alphabet[rng.int(0, alphabet.length - 1)]).join('');

function pushTo<T>(map: Map<string, T[]>, key: string, item: T): void {
	const list = map.get(key);
	if (list) list.push(item);
	else map.set(key, [item]);
}

export function generateEngagement(input: EngagementInput): EngagementRows {
	const rng = new Rng((input.seed ^ 0x0f011a) >>> 0);
	const iso = (ms: number) => new Date(ms).toISOString();
	// everything happens before the anchor (today, 00:00 JST): nothing lands in the future
	const latest = input.anchor - 60 * MINUTE_MS;

	const storeName = new Map(input.stores.map((s) => [s.id as string, s.name as string]));
	const products = input.products.filter((p) => p.active !== false && p.ec_url);
	const ecIdOf = new Map(input.identities.filter((i) => i.kind === 'ec').map((i) => [i.customer_id as string, i.value as string]));
	const eligible = input.customers.filter(
		(c) => c.consent_messages && c.line_user_id && c.line_friend && !c.line_blocked_at && !input.keepHistory(c.member_no as string)
	);
	const senders = input.staff.filter((s) => s.role !== 'admin' && s.home_store_id);

	const followUps: Row[] = [];
	const trackedLinks: Row[] = [];
	const linkClicks: Row[] = [];
	const newOrders: Row[] = [];
	const newLines: Row[] = [];
	const newRefunds: Row[] = [];
	const clicksByCustomer = new Map<string, ClickFacts[]>();
	const clicksByCode = new Map<string, ClickFacts[]>();
	const links = new Map<string, { staffId: string; storeId: string; followUpId: string }>();
	let orderSerial = input.ecOrders.length;
	let lineSerial = 0;

	for (const staff of senders) {
		const storeId = staff.home_store_id as string;
		const recipients = eligible.filter((c) => c.home_store_id === storeId || c.home_store_id === null);
		if (recipients.length === 0) continue; // e.g. the bulk seed's base, featured members only
		// some staff message a lot and convert well, others less: a leaderboard worth reading
		const activity = 0.5 + rng.next();
		const count = Math.round(70 * activity);
		// staff write most to the customers who already buy from them online and in store
		const regulars = recipients.filter((c) => input.mayOrder(c.member_no as string));
		for (let k = 0; k < count; k++) {
			const customer = regulars.length > 0 && rng.chance(0.6) ? rng.pick(regulars) : rng.pick(recipients);
			const createdMs = input.anchor - rng.int(1, SPAN_DAYS) * DAY_MS + rng.int(11 * 60, 20 * 60) * MINUTE_MS;
			if (createdMs < Date.parse(customer.created_at as string)) continue;
			const template = rng.pick(input.messageTemplates);
			const text = renderTemplate(template.body, {
				customerName: `${customer.family_name} ${customer.given_name}`,
				staffName: staff.display_name as string,
				storeName: storeName.get(storeId) ?? ''
			});
			const picked = [...new Set(Array.from({ length: template.key === 'store_event' ? 0 : rng.int(1, 3) }, () => rng.pick(products)))];
			const followUpId = rng.uuid();
			const codes = picked.map(() => draw(rng, BASE62, 22));
			const cards: ProductCard[] = picked.map((p, i) => ({
				name: p.name as string,
				priceYen: p.price_yen as number,
				imageUrl: p.image_url as string | null,
				linkUrl: trackedLinkUrl(input.publicBaseUrl, codes[i])
			}));
			const sender = checkSender(staff.sender_name as string, staff.sender_icon_url as string | null).sender!;
			const failed = rng.chance(0.06);
			followUps.push({
				id: followUpId, customer_id: customer.id, staff_id: staff.id, store_id: storeId, template_key: template.key, body: text,
				messages: buildLineMessages(text, sender, cards), status: failed ? 'failed' : 'sent', retry_key: rng.uuid(),
				attempts: 1, next_attempt_at: iso(createdMs), failure_reason: failed ? rng.pick(FAILURE_REASONS) : null,
				line_request_id: failed ? null : rng.uuid(), created_at: iso(createdMs), sent_at: failed ? null : iso(createdMs + rng.int(2, 40) * 1000)
			});
			picked.forEach((p, i) => {
				trackedLinks.push({
					code: codes[i], follow_up_id: followUpId, staff_id: staff.id, store_id: storeId, customer_id: customer.id,
					product_id: p.id, target_url: p.ec_url, created_at: iso(createdMs)
				});
				links.set(codes[i], { staffId: staff.id as string, storeId, followUpId });
			});
			if (failed || picked.length === 0 || !rng.chance(0.3 + 0.2 * activity)) continue;

			// clicks: the first within hours, sometimes a second look days later
			let clickMs = createdMs + rng.int(3, 600) * MINUTE_MS;
			const clicked: Array<{ code: string; ms: number; productIndex: number }> = [];
			for (let n = rng.int(1, 3); n > 0 && clickMs < latest; n--) {
				const productIndex = rng.int(0, picked.length - 1);
				const click: ClickFacts = {
					clickId: draw(rng, BASE64URL, 16), code: codes[productIndex], clickedAt: new Date(clickMs),
					staffId: staff.id as string, storeId, followUpId
				};
				linkClicks.push({ click_id: click.clickId, code: click.code, customer_id: customer.id, clicked_at: iso(clickMs), user_agent: LINE_UA });
				pushTo(clicksByCustomer, customer.id as string, click);
				pushTo(clicksByCode, click.code, click);
				clicked.push({ code: click.code, ms: clickMs, productIndex });
				clickMs += rng.int(60, 4 * 24 * 60) * MINUTE_MS;
			}
			const ecCustomerId = ecIdOf.get(customer.id as string);
			if (clicked.length === 0 || !ecCustomerId || !input.mayOrder(customer.member_no as string) || !rng.chance(0.35 + 0.25 * activity)) continue;

			// the order: through the link (ref) most of the time, otherwise typed in later (last touch)
			const via = rng.pick(clicked);
			const orderedMs = via.ms + rng.int(2, rng.chance(0.7) ? 90 : 6 * 24 * 60) * MINUTE_MS;
			if (orderedMs >= latest) continue;
			const product = picked[via.productIndex];
			const withRef = rng.chance(0.75);
			const id = ++orderSerial;
			const ecOrderId = String(5_400_000_000_000 + id * 37);
			const quantity = (product.price_yen as number) < 5000 && rng.chance(0.2) ? 2 : 1;
			const amount = quantity * (product.price_yen as number);
			newLines.push({
				order_id: id, line_no: 1, ec_line_id: String(14_900_000_000_000 + ++lineSerial * 13), product_id: product.id, sku: product.sku,
				name: product.name, quantity, unit_price_yen: product.price_yen, amount_yen: amount
			});
			const cancelled = rng.chance(0.06);
			const refund = !cancelled && rng.chance(0.1) ? { amount: rng.chance(0.5) ? amount : Math.round(amount / 2), ms: orderedMs + rng.int(1, 8) * DAY_MS } : undefined;
			if (refund && refund.ms < latest) {
				newRefunds.push({ platform: 'shopify', ec_refund_id: String(9_900_000_000_000 + id * 41), ec_order_id: ecOrderId, amount_yen: refund.amount, refunded_at: iso(refund.ms), created_at: iso(refund.ms) });
			}
			const refunded = refund && refund.ms < latest ? refund.amount : 0;
			newOrders.push({
				id, platform: 'shopify', ec_order_id: ecOrderId, order_name: `#${1001 + id - 1}`, customer_id: customer.id, ec_customer_id: ecCustomerId,
				ordered_at: iso(orderedMs), subtotal_yen: amount, total_yen: amount + (amount >= 5000 ? 0 : 550), status: cancelled ? 'cancelled' : 'open',
				financial_status: cancelled ? 'voided' : refunded === 0 ? 'paid' : refunded >= amount ? 'refunded' : 'partially_refunded',
				cancelled_at: cancelled ? iso(orderedMs + 2 * 3_600_000) : null,
				landing_site: withRef ? `/shop/products/${product.sku}?tsunagu_ref=${via.code}&utm_source=line&utm_medium=staff` : '/',
				ref_code: withRef ? via.code : null,
				note_attributes: withRef ? [{ name: 'tsunagu_ref', value: via.code }] : [],
				source_updated_at: iso(orderedMs), source: 'seed', created_at: iso(orderedMs), updated_at: iso(orderedMs)
			});
		}
	}

	const attributions = attributeAll(
		[...input.ecOrders, ...newOrders],
		[...input.ecRefunds, ...newRefunds],
		links,
		clicksByCode,
		clicksByCustomer,
		input.windowDays
	);
	return { followUps, trackedLinks, linkClicks, ecOrders: newOrders, ecOrderLines: newLines, ecRefunds: newRefunds, attributions };
}

/** Newest first, ties by click id (descending): the order the attribution repository reads clicks in. */
const newestFirst = (a: ClickFacts, b: ClickFacts) => b.clickedAt.getTime() - a.clickedAt.getTime() || (a.clickId < b.clickId ? 1 : -1);

/** Every EC order through decideAttribution, with the candidates the repository would load. */
function attributeAll(
	orders: Row[],
	refunds: Row[],
	links: Map<string, { staffId: string; storeId: string; followUpId: string }>,
	clicksByCode: Map<string, ClickFacts[]>,
	clicksByCustomer: Map<string, ClickFacts[]>,
	windowDays: number
): Row[] {
	const refundedOf = new Map<string, number>();
	for (const r of refunds) refundedOf.set(r.ec_order_id as string, (refundedOf.get(r.ec_order_id as string) ?? 0) + (r.amount_yen as number));
	const out: Row[] = [];
	for (const order of orders) {
		const orderedAt = new Date(order.ordered_at as string);
		const codes = refCodesOf(order.note_attributes as Array<{ name: string; value: string }>, order.ref_code as string | null, order.landing_site as string | null);
		const refs: RefLink[] = codes.flatMap((code) => {
			const link = links.get(code);
			if (!link) return [];
			const click = (clicksByCode.get(code) ?? []).filter((c) => c.clickedAt <= orderedAt).sort(newestFirst)[0];
			return [{ code, staffId: link.staffId, storeId: link.storeId, followUpId: link.followUpId, clickId: click?.clickId ?? null }];
		});
		const customerId = order.customer_id as string | null;
		const clicks = refs.length === 0 && customerId ? (clicksByCustomer.get(customerId) ?? []) : [];
		const decision = decideAttribution(
			{ orderedAt, customerId, status: order.status as 'open' | 'cancelled', totalYen: order.total_yen as number, refundedYen: refundedOf.get(order.ec_order_id as string) ?? 0 },
			refs,
			clicks,
			windowDays
		);
		if (!decision) continue;
		out.push({
			platform: 'shopify', ec_order_id: order.ec_order_id, staff_id: decision.staffId, store_id: decision.storeId, customer_id: customerId,
			rule: decision.rule, link_code: decision.linkCode, click_id: decision.clickId, follow_up_id: decision.followUpId, status: decision.status,
			ordered_at: order.ordered_at, gross_yen: decision.grossYen, refunded_yen: decision.refundedYen,
			decided_at: order.updated_at, updated_at: order.updated_at
		});
	}
	return out;
}
