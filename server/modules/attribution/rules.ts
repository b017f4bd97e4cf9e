/**
 * Which staff member an EC order is credited to — pure, so the same inputs always give the
 * same answer and a recompute after any delivery (duplicate, reordered, refund first)
 * converges on one result.
 *
 * 1. `ref`: the order carries a tracked-link code (cart attribute `tsunagu_ref`, or the
 *    landing page's query) that we minted → that link's staff member.
 * 2. `last_touch`: otherwise, when the order's customer is a known member, their most recent
 *    tracked-link click at or before the order and no older than the window.
 * A cancelled order's attribution is void; refunds reduce the net (never below 0).
 */
import { refFromAttributes, refFromUrl } from '../../shared/ref-code.ts';

export interface OrderFacts {
	orderedAt: Date;
	customerId: string | null;
	status: 'open' | 'cancelled';
	totalYen: number;
	refundedYen: number;
}

/** A tracked link found for one of the order's ref codes (in priority order). */
export interface RefLink {
	code: string;
	staffId: string;
	storeId: string;
	followUpId: string | null;
	/** The latest click on this link at or before the order, if any. */
	clickId: string | null;
}

export interface ClickFacts {
	clickId: string;
	code: string;
	clickedAt: Date;
	staffId: string;
	storeId: string;
	followUpId: string | null;
}

export interface AttributionDecision {
	rule: 'ref' | 'last_touch';
	staffId: string;
	storeId: string;
	linkCode: string;
	clickId: string | null;
	followUpId: string | null;
	status: 'active' | 'void';
	grossYen: number;
	refundedYen: number;
}

const DAY_MS = 86_400_000;

export function decideAttribution(
	order: OrderFacts,
	refs: readonly RefLink[],
	clicks: readonly ClickFacts[],
	windowDays: number
): AttributionDecision | null {
	const money = {
		status: order.status === 'cancelled' ? ('void' as const) : ('active' as const),
		grossYen: order.totalYen,
		refundedYen: Math.min(Math.max(0, order.refundedYen), order.totalYen)
	};
	const ref = refs[0];
	if (ref) {
		return { rule: 'ref', staffId: ref.staffId, storeId: ref.storeId, linkCode: ref.code, clickId: ref.clickId, followUpId: ref.followUpId, ...money };
	}
	if (!order.customerId) return null;
	const touch = lastTouch(order.orderedAt, clicks, windowDays);
	if (!touch) return null;
	return {
		rule: 'last_touch',
		staffId: touch.staffId,
		storeId: touch.storeId,
		linkCode: touch.code,
		clickId: touch.clickId,
		followUpId: touch.followUpId,
		...money
	};
}

/** The newest click in [orderedAt − window, orderedAt]; ties broken by click id for determinism. */
export function lastTouch(orderedAt: Date, clicks: readonly ClickFacts[], windowDays: number): ClickFacts | null {
	const until = orderedAt.getTime();
	const since = until - windowDays * DAY_MS;
	let best: ClickFacts | null = null;
	for (const click of clicks) {
		const t = click.clickedAt.getTime();
		if (t > until || t < since) continue;
		if (!best || t > best.clickedAt.getTime() || (t === best.clickedAt.getTime() && click.clickId > best.clickId)) best = click;
	}
	return best;
}

/**
 * The ref codes an order carries, best first: the cart attribute (`tsunagu_ref`, as our
 * storefront script sets it), the ref the integration already extracted, then the landing
 * page's `tsunagu_ref` query parameter.
 */
export function refCodesOf(
	noteAttributes: ReadonlyArray<{ name: string; value: string }> | null,
	extractedRef: string | null,
	landingSite: string | null
): string[] {
	const codes: string[] = [];
	const add = (value: string | null | undefined) => {
		const v = value?.trim();
		if (v && !codes.includes(v)) codes.push(v);
	};
	add(refFromAttributes(noteAttributes));
	add(extractedRef);
	add(refFromUrl(landingSite));
	return codes;
}
