import { describe, expect, it } from 'vitest';
import { nameMatchTier, normalizeSearchText, parseSearchQuery, toKatakana } from '../../server/shared/kana.ts';
import { classifyQuery, offlineMatchTier } from '../../src/lib/offline/policy.ts';

describe('search text normalisation', () => {
	it('folds full/half width, hiragana/katakana and spaces', () => {
		expect(normalizeSearchText('やまだ　はなこ')).toBe('ヤマダ ハナコ');
		expect(normalizeSearchText('ﾔﾏﾀﾞ ﾊﾅｺ')).toBe('ヤマダ ハナコ');
		expect(normalizeSearchText('  ＹＡＭＡＤＡ   １２ ')).toBe('YAMADA 12');
		expect(toKatakana('ゝゞ')).toBe('ヽヾ');
	});

	it('reads phone numbers with hyphens, brackets, full-width digits and +81 as digits', () => {
		expect(parseSearchQuery('090-1234-5678')).toMatchObject({ kind: 'digits', digits: '09012345678' });
		expect(parseSearchQuery('０９０－１２３４－５６７８')).toMatchObject({ kind: 'digits', digits: '09012345678' });
		expect(parseSearchQuery('(03) 1234 5678')).toMatchObject({ kind: 'digits', digits: '0312345678' });
		expect(parseSearchQuery('+81 90 1234 5678')).toMatchObject({ kind: 'digits', digits: '09012345678' });
		expect(parseSearchQuery('０９０ー１２３４')).toMatchObject({ kind: 'digits', digits: '0901234' });
		expect(parseSearchQuery('１２３４')).toMatchObject({ kind: 'digits', digits: '1234' });
	});

	it('splits names into tokens and a compact form; under 2 characters is too short', () => {
		expect(parseSearchQuery('やまだ　はな')).toEqual({ kind: 'name', text: 'ヤマダ ハナ', tokens: ['ヤマダ', 'ハナ'], compact: 'ヤマダハナ' });
		expect(parseSearchQuery('山')).toMatchObject({ kind: 'too_short' });
		expect(parseSearchQuery(' 1 ')).toMatchObject({ kind: 'too_short' });
		expect(parseSearchQuery('ー')).toMatchObject({ kind: 'too_short' });
	});

	it('ranks exact full name, then exact family name, then prefix', () => {
		const hanako = { family: '山田', given: '花子', familyKana: 'ヤマダ', givenKana: 'ハナコ' };
		const q = (raw: string) => parseSearchQuery(raw) as Extract<ReturnType<typeof parseSearchQuery>, { kind: 'name' }>;
		expect(nameMatchTier(q('山田花子'), hanako)).toBe(0);
		expect(nameMatchTier(q('やまだ　はなこ'), hanako)).toBe(0);
		expect(nameMatchTier(q('ﾔﾏﾀﾞﾊﾅｺ'), hanako)).toBe(0);
		expect(nameMatchTier(q('やまだ'), hanako)).toBe(1);
		expect(nameMatchTier(q('やま'), hanako)).toBe(2);
		expect(nameMatchTier(q('ヤマダハナ'), hanako)).toBe(2);
		expect(nameMatchTier(q('山田 花'), hanako)).toBe(2);
		expect(nameMatchTier(q('ハナコ'), hanako)).toBeNull();
		expect(nameMatchTier(q('山本'), hanako)).toBeNull();
		// half-width kana stored by an old import still match
		expect(nameMatchTier(q('やまだ'), { ...hanako, familyKana: 'ﾔﾏﾀﾞ' })).toBe(1);
	});
});

describe('tablet offline search', () => {
	const cached = { memberNo: '1000000010', name: '山田 花子', kana: 'ヤマダ ハナコ' };
	it('matches what the server would, with the same tiers', () => {
		expect(offlineMatchTier('１０００００００１０', cached)).toBe(0);
		expect(offlineMatchTier('やまだはなこ', cached)).toBe(1);
		expect(offlineMatchTier('山田', cached)).toBe(2);
		expect(offlineMatchTier('ﾔﾏ', cached)).toBe(3);
		expect(offlineMatchTier('すずき', cached)).toBeNull();
		expect(offlineMatchTier('1000', cached)).toBeNull();
	});

	it('classifies the fallback input (phone hyphens and full width too)', () => {
		expect(classifyQuery('１２３４')).toEqual({ kind: 'phone_last4', q: '1234' });
		expect(classifyQuery('1000-0000-10')).toEqual({ kind: 'member_no', q: '1000000010' });
		expect(classifyQuery('やま　だ')).toEqual({ kind: 'name', q: 'ヤマ ダ' });
	});
});
