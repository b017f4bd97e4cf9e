/**
 * The pure rules of two-way conversations, unit-tested with a fake clock:
 * - routing: who answers a customer's message;
 * - reply or push: whether a staff answer can use the customer's reply token (free) or must be
 *   a push (counted), and what the compose box says about it;
 * - the quota cap on personal pushes and the month-end projection.
 */
import { jstMonthStart } from '../../shared/jst.ts';

export interface RoutingFacts {
	/** The staff member who last messaged this customer (follow-up or answer), with when. */
	lastSender: { staffId: string; storeId: string | null; at: Date; active: boolean } | null;
	/** 担当 (customers.owner_staff_id), when the customer has one. */
	owner: { staffId: string; storeId: string | null; active: boolean } | null;
	homeStoreId: string | null;
	/** false for a LINE user who is not (yet) a member. */
	isMember: boolean;
}

export type Route =
	| { to: 'staff'; staffId: string; storeId: string | null; why: 'last_sender' | 'owner' }
	| { to: 'store'; storeId: string; why: 'home_store' }
	| { to: 'brand'; why: 'no_store' | 'not_member' };

/**
 * In order: the staff member who last messaged the customer within `windowDays`, the customer's
 * owner, the home store's queue, the brand's queue. A staff member who left (inactive) is skipped.
 */
export function routeMessage(facts: RoutingFacts, now: Date, windowDays: number): Route {
	if (!facts.isMember) return { to: 'brand', why: 'not_member' };
	const since = now.getTime() - windowDays * 86_400_000;
	const last = facts.lastSender;
	if (last && last.active && last.at.getTime() >= since) {
		return { to: 'staff', staffId: last.staffId, storeId: last.storeId ?? facts.homeStoreId, why: 'last_sender' };
	}
	if (facts.owner && facts.owner.active) {
		return { to: 'staff', staffId: facts.owner.staffId, storeId: facts.owner.storeId ?? facts.homeStoreId, why: 'owner' };
	}
	if (facts.homeStoreId) return { to: 'store', storeId: facts.homeStoreId, why: 'home_store' };
	return { to: 'brand', why: 'no_store' };
}

export interface OpenToken {
	/** The time of the customer's event that carried the token. */
	at: Date;
	used: boolean;
}

export type DeliveryChoice =
	| { delivery: 'reply'; secondsLeft: number }
	| { delivery: 'push'; reason: 'no_token' | 'token_used' | 'token_expired' };

/** A reply token is good for `windowSeconds` after its event (LINE allows about a minute; we keep a margin). */
export function chooseDelivery(token: OpenToken | null, now: Date, windowSeconds: number): DeliveryChoice {
	if (!token) return { delivery: 'push', reason: 'no_token' };
	if (token.used) return { delivery: 'push', reason: 'token_used' };
	const left = Math.floor((token.at.getTime() + windowSeconds * 1000 - now.getTime()) / 1000);
	if (left <= 0) return { delivery: 'push', reason: 'token_expired' };
	return { delivery: 'reply', secondsLeft: left };
}

/** What the compose box says before sending. */
export function deliveryLabel(choice: DeliveryChoice): string {
	return choice.delivery === 'reply' ? `無料で返信できます（残り ${choice.secondsLeft} 秒）` : '通常メッセージとして送信（月間通数を消費）';
}

export interface QuotaFacts {
	limit: number | null;
	used: number;
}

/** Personal pushes stop once usage reaches `capShare` of the plan; unlimited plans never stop. */
export function pushesStopped(q: QuotaFacts, capShare: number): boolean {
	if (q.limit === null || q.limit <= 0) return false;
	return q.used >= q.limit * capShare;
}

/** Usage so far extrapolated linearly to the end of the month (JST). */
export function projectMonthEnd(used: number, now: Date): number {
	const start = jstMonthStart(now).getTime();
	const end = jstMonthStart(now, 1).getTime();
	const elapsed = Math.max(now.getTime() - start, 3_600_000);
	return Math.round((used * (end - start)) / elapsed);
}

/** The month (JST) a time falls in, as its first instant in UTC. */
export function monthStartJst(now: Date): Date {
	return jstMonthStart(now);
}
