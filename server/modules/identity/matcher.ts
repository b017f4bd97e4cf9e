/**
 * The matcher's pure half: which blocking keys a customer record has, and how a pair of records
 * that share keys is scored. Every suggestion lists the evidence behind its score, and each
 * kind of evidence has a fixed weight. No database here (the repository stores the keys and
 * finds the records that share one; see docs/identity.md).
 */
import type { EvidenceKind, MatchEvidence } from '../../db/types.ts';
import { normalizeEmail, normalizePhone } from '../customers/identity.ts';
import { toKatakana } from '../../shared/kana.ts';

/**
 * Weight of each kind of evidence (points out of 100). A LINE user id is verified by LINE Login
 * (one person), so it alone reaches 100. Phone and email are strong but shared by families;
 * name+kana+birthday together is strong; a purchase through a link sent to another customer
 * and an address are weaker and need support to reach the automatic-merge range.
 */
export const EVIDENCE_WEIGHTS: Record<EvidenceKind, number> = {
	line: 100,
	phone: 60,
	email: 60,
	name_birthday: 60,
	link: 50,
	address: 40
};

/** A pair with a score below this is not suggested (any single kind of evidence reaches it). */
export const SUGGEST_MIN_SCORE = 40;

/** Evidence that can be merged automatically by default: an exact match on a verified identity. */
export const VERIFIED_KINDS: readonly EvidenceKind[] = ['line'];

/** A key shared by more records than this is ignored (a shop's phone, a test address). */
export const MAX_KEY_GROUP = 20;

/** Display order of evidence (strongest first). */
const ORDER: EvidenceKind[] = ['line', 'phone', 'email', 'name_birthday', 'link', 'address'];

export interface MatchableCustomer {
	id: string;
	family_name?: string | null;
	given_name?: string | null;
	family_kana?: string | null;
	given_kana?: string | null;
	birthday?: string | null;
	email?: string | null;
	phone?: string | null;
	line_user_id?: string | null;
	postcode?: string | null;
	address?: string | null;
	/** Normalised identities from customer_identities (email / phone / line). */
	identities?: Array<{ kind: string; value: string }>;
}

export interface MatchKey {
	kind: Exclude<EvidenceKind, 'link'>;
	key: string;
}

/** NFKC, no spaces of any width, lower case: 「山田　花子」 and 「山田花子」 are one name. */
export function normalizeText(raw: string): string {
	return raw.normalize('NFKC').replace(/\s+/gu, '').toLowerCase();
}

/** Kana as katakana, NFKC (half-width ｶﾅ → カナ), no spaces: 「やまだ」 = 「ヤマダ」 = 「ﾔﾏﾀﾞ」. */
export function normalizeKana(raw: string): string {
	return toKatakana(normalizeText(raw));
}

/** Seven digits: 「〒150-0001」 → "1500001"; anything else is no postcode. */
export function normalizePostcode(raw: string): string | null {
	const digits = raw.normalize('NFKC').replace(/\D/g, '');
	return digits.length === 7 ? digits : null;
}

/** NFKC, no spaces, every dash (ー－‐−—) as "-", 丁目/番地/番/号 as "-": 「1丁目2番3号」 = 「1-2-3」. */
export function normalizeAddress(raw: string): string {
	return normalizeText(raw)
		.replace(/[‐‑‒–—―−ｰー－]/gu, '-')
		.replace(/(\d)(丁目|番地|番|号)/gu, '$1-')
		.replace(/-+/g, '-')
		.replace(/-$/u, '');
}

/** The blocking keys of one record: records sharing one are candidates. */
export function matchKeys(c: MatchableCustomer): MatchKey[] {
	const keys = new Map<string, MatchKey>();
	const add = (kind: MatchKey['kind'], key: string | null | undefined) => {
		if (key) keys.set(`${kind}\u0000${key}`, { kind, key });
	};
	add('phone', c.phone ? normalizePhone(c.phone) : null);
	add('email', c.email ? normalizeEmail(c.email) : null);
	add('line', c.line_user_id?.trim());
	for (const id of c.identities ?? []) {
		if (id.kind === 'phone') add('phone', normalizePhone(id.value));
		else if (id.kind === 'email') add('email', normalizeEmail(id.value));
		else if (id.kind === 'line') add('line', id.value.trim());
	}
	if (c.family_name && c.given_name && c.family_kana && c.given_kana && c.birthday) {
		add(
			'name_birthday',
			[normalizeText(c.family_name), normalizeText(c.given_name), normalizeKana(c.family_kana), normalizeKana(c.given_kana), c.birthday.slice(0, 10)].join('|')
		);
	}
	const postcode = c.postcode ? normalizePostcode(c.postcode) : null;
	if (postcode && c.address) add('address', `${postcode}|${normalizeAddress(c.address)}`);
	return [...keys.values()];
}

/** Shown to people: the name key without the separators. */
export function displayKey(kind: EvidenceKind, key: string): string {
	if (kind === 'name_birthday') {
		const [family, given, familyKana, givenKana, birthday] = key.split('|');
		return `${family} ${given}（${familyKana} ${givenKana}）${birthday}`;
	}
	if (kind === 'address') {
		const [postcode, address] = key.split('|');
		return `〒${postcode.slice(0, 3)}-${postcode.slice(3)} ${address}`;
	}
	return key;
}

/** One piece of evidence with its weight. */
export function evidence(kind: EvidenceKind, key: string, detail?: string | null): MatchEvidence {
	return { kind, weight: EVIDENCE_WEIGHTS[kind], value: kind === 'link' ? key : displayKey(kind, key), ...(detail ? { detail } : {}) };
}

/**
 * The score of a pair: the sum of the weights of the distinct kinds of evidence, capped at 100
 * (two phones that both match count once). Evidence is returned strongest first, one per kind.
 */
export function scorePair(items: MatchEvidence[]): { score: number; evidence: MatchEvidence[] } {
	const byKind = new Map<EvidenceKind, MatchEvidence>();
	for (const item of items) if (!byKind.has(item.kind)) byKind.set(item.kind, item);
	const list = ORDER.filter((k) => byKind.has(k)).map((k) => byKind.get(k)!);
	const score = Math.min(100, list.reduce((sum, e) => sum + EVIDENCE_WEIGHTS[e.kind], 0));
	return { score, evidence: list };
}

/** The unordered pair as stored (customer_a < customer_b, as uuids compare). */
export function orderedPair(x: string, y: string): [string, string] {
	return x < y ? [x, y] : [y, x];
}

export interface AutoMergePolicy {
	/** Merge automatically at or above this score; null = never by score (the default). */
	minScore: number | null;
	/** Merge automatically on an exact match of a verified identity (LINE user); default on. */
	verified: boolean;
}

/** Whether a suggestion is merged without a person deciding. */
export function qualifiesForAutoMerge(score: number, items: MatchEvidence[], policy: AutoMergePolicy): boolean {
	if (policy.verified && items.some((e) => VERIFIED_KINDS.includes(e.kind))) return true;
	return policy.minScore !== null && score >= policy.minScore;
}
