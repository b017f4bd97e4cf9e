/** The matcher's evidence and weights (server/modules/identity/matcher.ts): pure functions. */
import { describe, expect, it } from 'vitest';
import {
	EVIDENCE_WEIGHTS,
	evidence,
	matchKeys,
	normalizeAddress,
	normalizeKana,
	normalizePostcode,
	orderedPair,
	qualifiesForAutoMerge,
	scorePair,
	SUGGEST_MIN_SCORE
} from '../../server/modules/identity/matcher.ts';
import { suggestionsFrom } from '../../server/modules/identity/identity.service.ts';

const base = { id: 'x', family_name: '山田', given_name: '花子', family_kana: 'ヤマダ', given_kana: 'ハナコ', birthday: '1990-04-01' };
const keysOf = (c: Parameters<typeof matchKeys>[0]) => matchKeys(c).map((k) => `${k.kind}:${k.key}`).sort();

describe('blocking keys', () => {
	it('phone and email are normalised: the same number or address written differently is one key', () => {
		expect(keysOf({ id: 'a', phone: '+81 90-1234-5678', email: ' Hanako@Example.JP ' })).toEqual(keysOf({ id: 'b', phone: '09012345678', email: 'hanako@example.jp' }));
		expect(keysOf({ id: 'a', phone: '090-1234-5678' })).toEqual(['phone:09012345678']);
		// unusable values give no key
		expect(matchKeys({ id: 'a', phone: '123', email: 'not-an-email' })).toEqual([]);
	});

	it('identities count as well as the profile columns, once each', () => {
		const keys = keysOf({ id: 'a', phone: '09012345678', identities: [{ kind: 'phone', value: '09012345678' }, { kind: 'line', value: 'U1' }, { kind: 'ec', value: '77' }] });
		expect(keys).toEqual(['line:U1', 'phone:09012345678']);
	});

	it('name + kana + birthday: all five needed; width, spaces and hiragana do not matter', () => {
		expect(keysOf(base)).toEqual(['name_birthday:山田|花子|ヤマダ|ハナコ|1990-04-01']);
		expect(keysOf({ ...base, family_name: '山田 ', given_kana: 'はなこ', family_kana: 'ﾔﾏﾀﾞ' })).toEqual(keysOf(base));
		expect(matchKeys({ ...base, birthday: null })).toEqual([]);
		expect(matchKeys({ ...base, given_kana: null })).toEqual([]);
		expect(normalizeKana('やまだ　はなこ')).toBe('ヤマダハナコ');
	});

	it('address needs a seven-digit postcode and an address; 丁目/番/号 and dashes are one form', () => {
		expect(normalizePostcode('〒150-0001')).toBe('1500001');
		expect(normalizePostcode('150')).toBeNull();
		expect(normalizeAddress('東京都渋谷区神宮前１丁目２番３号')).toBe(normalizeAddress('東京都渋谷区神宮前1-2-3'));
		expect(keysOf({ id: 'a', postcode: '150-0001', address: '東京都渋谷区神宮前1ー2ー3' })).toEqual(['address:1500001|東京都渋谷区神宮前1-2-3']);
		expect(matchKeys({ id: 'a', address: '東京都渋谷区' })).toEqual([]);
	});

	it('a LINE user id is a key', () => {
		expect(keysOf({ id: 'a', line_user_id: 'U0123' })).toEqual(['line:U0123']);
	});
});

describe('scores', () => {
	it('each kind has its weight; kinds add up to at most 100; a kind counts once', () => {
		expect(scorePair([evidence('phone', '09012345678')]).score).toBe(EVIDENCE_WEIGHTS.phone);
		expect(scorePair([evidence('address', '1500001|x')]).score).toBe(40);
		expect(scorePair([evidence('link', 'abc')]).score).toBe(50);
		expect(scorePair([evidence('phone', '1'), evidence('phone', '2')]).score).toBe(60);
		expect(scorePair([evidence('phone', '1'), evidence('name_birthday', '山田|花子|ヤマダ|ハナコ|1990-04-01')]).score).toBe(100);
		expect(scorePair([evidence('line', 'U1'), evidence('email', 'a@b.jp')]).score).toBe(100);
	});

	it('evidence is listed strongest first and says what matched', () => {
		const { evidence: list } = scorePair([evidence('address', '1500001|渋谷'), evidence('line', 'U1'), evidence('link', 'k7Q2', null)]);
		expect(list.map((e) => e.kind)).toEqual(['line', 'link', 'address']);
		expect(list[2]).toEqual({ kind: 'address', weight: 40, value: '〒150-0001 渋谷' });
		expect(evidence('name_birthday', '山田|花子|ヤマダ|ハナコ|1990-04-01').value).toBe('山田 花子（ヤマダ ハナコ）1990-04-01');
	});

	it('every single kind reaches the suggestion threshold', () => {
		for (const weight of Object.values(EVIDENCE_WEIGHTS)) expect(weight).toBeGreaterThanOrEqual(SUGGEST_MIN_SCORE);
	});

	it('candidate rows become one suggestion per unordered pair', () => {
		const [x, y] = ['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222'];
		const out = suggestionsFrom([
			{ self: y, other: x, kind: 'phone', key: '09012345678', detail: null },
			{ self: x, other: y, kind: 'phone', key: '09012345678', detail: null },
			{ self: x, other: y, kind: 'link', key: y, detail: 'k7Q2' },
			{ self: x, other: x, kind: 'email', key: 'a@b.jp', detail: null }
		]);
		expect(out).toEqual([
			{ a: x, b: y, score: 100, evidence: [{ kind: 'phone', weight: 60, value: '09012345678' }, { kind: 'link', weight: 50, value: 'k7Q2' }] }
		]);
		expect(orderedPair(y, x)).toEqual([x, y]);
	});

	it('automatic merges: off by score by default, on for a verified identity', () => {
		const line = [evidence('line', 'U1')];
		const strong = [evidence('phone', '1'), evidence('email', 'a@b.jp')];
		expect(qualifiesForAutoMerge(100, line, { minScore: null, verified: true })).toBe(true);
		expect(qualifiesForAutoMerge(100, line, { minScore: null, verified: false })).toBe(false);
		expect(qualifiesForAutoMerge(100, strong, { minScore: null, verified: true })).toBe(false);
		expect(qualifiesForAutoMerge(100, strong, { minScore: 90, verified: true })).toBe(true);
		expect(qualifiesForAutoMerge(60, strong.slice(0, 1), { minScore: 90, verified: true })).toBe(false);
	});
});
