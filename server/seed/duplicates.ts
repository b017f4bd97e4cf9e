/**
 * Demo duplicates (issue 16 §4): a few generated customers are turned into second records of
 * other generated customers, two or three pairs per kind of merge evidence, so the managers'
 * queue has something to show. The customer count, every purchase and every customer state stay
 * as generated; only contact details, names, addresses, the LINE membership of LINE pairs and
 * the recipient of a few tracked links change. Deterministic (picks by position, no PRNG).
 *
 * - phone, email: the second record carries the first one's number / address, written
 *   differently (the identity stays with the first record, as resolution would leave it);
 * - name_birthday: the same name, kana and birthday;
 * - address: the same postcode and address, written with 丁目/番/号 on one and dashes on the other;
 * - line: the first record holds the LINE identity, the second the LINE membership (the same
 *   LINE user) — merged automatically by default (a verified identity);
 * - link: a follow-up with a tracked link is re-addressed to another customer, while the order
 *   bought through it stays on its buyer: the link was sent to one record and landed on another.
 */
import type { DemoData } from './generate.ts';

type Row = Record<string, unknown>;

const ADDRESSES = [
	['150-0001', '東京都渋谷区神宮前4丁目12番10号', '東京都渋谷区神宮前4-12-10'],
	['160-0022', '東京都新宿区新宿3丁目1番5号', '東京都新宿区新宿3-1-5'],
	['220-0011', '神奈川県横浜市西区高島2丁目6番32号', '神奈川県横浜市西区高島2-6-32']
] as const;

/** The member numbers of the planted pairs by kind (for tests and the docs). */
export interface PlantedPairs {
	[kind: string]: Array<[string, string]>;
}

export function plantDemoDuplicates(data: DemoData, firstIndex = 40): PlantedPairs {
	const planted: PlantedPairs = { phone: [], email: [], name_birthday: [], address: [], line: [], link: [] };
	const customers = data.customers;
	if (customers.length < firstIndex + 40) return planted;
	const used = new Set<string>();
	const byId = new Map(customers.map((c) => [c.id as string, c]));
	// the pool: generated (not featured) customers, in order
	const pool = customers.slice(firstIndex);
	const take = (ok: (c: Row) => boolean): Row => {
		const found = pool.find((c) => !used.has(c.id as string) && ok(c));
		if (!found) throw new Error('demo duplicates: no customer fits');
		used.add(found.id as string);
		return found;
	};
	const dropIdentity = (customerId: unknown, kind: string) => {
		data.identities = data.identities.filter((i) => !(i.customer_id === customerId && i.kind === kind));
	};
	const pair = (kind: string, a: Row, b: Row) => planted[kind].push([a.member_no as string, b.member_no as string]);

	for (let n = 0; n < 3; n++) {
		const a = take((c) => typeof c.phone === 'string');
		const b = take((c) => c.line_user_id === null);
		b.phone = `+81 ${(a.phone as string).slice(1)}`;
		dropIdentity(b.id, 'phone');
		pair('phone', a, b);
	}
	for (let n = 0; n < 3; n++) {
		const a = take((c) => typeof c.email === 'string');
		const b = take((c) => c.line_user_id === null);
		const email = a.email as string;
		b.email = email.charAt(0).toUpperCase() + email.slice(1);
		dropIdentity(b.id, 'email');
		pair('email', a, b);
	}
	for (let n = 0; n < 3; n++) {
		const a = take((c) => typeof c.birthday === 'string');
		const b = take((c) => c.line_user_id === null);
		for (const f of ['family_name', 'given_name', 'family_kana', 'given_kana', 'birthday']) b[f] = a[f];
		pair('name_birthday', a, b);
	}
	for (const [postcode, written, dashed] of ADDRESSES) {
		const a = take(() => true);
		const b = take((c) => c.line_user_id === null);
		a.postcode = postcode;
		a.address = written;
		b.postcode = postcode.replace('-', '');
		b.address = dashed;
		pair('address', a, b);
	}
	for (let n = 0; n < 2; n++) {
		// a: LINE identity only; b: the LINE membership of the same LINE user
		const a = take((c) => typeof c.line_user_id === 'string' && c.line_friend === true);
		const b = take((c) => c.line_user_id === null);
		for (const f of ['line_user_id', 'line_friend', 'line_blocked_at']) b[f] = a[f];
		a.line_user_id = null;
		a.line_friend = false;
		a.line_blocked_at = null;
		pair('line', a, b);
	}
	// link: follow-ups whose link led to an order (rule ref) are re-addressed to another record
	let links = 0;
	for (const attribution of data.attributions) {
		if (links >= 2) break;
		if (attribution.rule !== 'ref' || !attribution.link_code || !attribution.customer_id) continue;
		const buyer = byId.get(attribution.customer_id as string);
		if (!buyer || used.has(buyer.id as string) || customers.indexOf(buyer) < firstIndex) continue;
		const link = data.trackedLinks.find((l) => l.code === attribution.link_code);
		if (!link || link.customer_id !== buyer.id) continue;
		used.add(buyer.id as string);
		const recipient = take((c) => c.line_user_id !== null && c.consent_messages === true);
		link.customer_id = recipient.id;
		for (const f of data.followUps) if (f.id === link.follow_up_id) f.customer_id = recipient.id;
		for (const k of data.linkClicks) if (k.code === link.code) k.customer_id = recipient.id;
		pair('link', recipient, buyer);
		links++;
	}
	return planted;
}
