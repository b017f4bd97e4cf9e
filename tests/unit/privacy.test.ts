/** Pure parts of issue 16: kana normalisation, the legal Markdown renderer, the erasure back-off. */
import { describe, expect, it } from 'vitest';
import { isKatakanaReading, normalizeKana } from '../../server/shared/kana.ts';
import { parseLegalDoc, renderMarkdown } from '../../server/modules/privacy/legal.ts';
import { erasureRetryDelayMs } from '../../server/modules/privacy/privacy.service.ts';

describe('kana normalisation', () => {
	it.each([
		['やまだ', 'ヤマダ'],
		['ﾔﾏﾀﾞ', 'ヤマダ'],
		['  さとう　 ﾀﾛｰ ', 'サトウ タロー'],
		['ヴィクトリア・ｽﾐｽ', 'ヴィクトリア・スミス']
	])('%s → %s', (input, expected) => {
		expect(normalizeKana(input)).toBe(expected);
		expect(isKatakanaReading(normalizeKana(input))).toBe(true);
	});

	it('refuses kanji, latin letters and digits as a reading', () => {
		for (const bad of ['山田', 'Yamada', 'ヤマダ1', '', ' ']) expect(isKatakanaReading(normalizeKana(bad))).toBe(false);
	});
});

describe('legal pages', () => {
	it('reads the version and title from the front matter and renders headings, lists and bold', () => {
		const doc = parseLegalDoc('terms', '---\nversion: 2027-01-01\ntitle: 会員規約\n---\n# 規約\n\n本文の**重要**な部分。\n\n- 一つ目\n- 二つ目\n');
		expect(doc).toMatchObject({ name: 'terms', version: '2027-01-01', title: '会員規約' });
		expect(doc.html).toBe('<h2>規約</h2>\n<p>本文の<strong>重要</strong>な部分。</p>\n<ul><li>一つ目</li><li>二つ目</li></ul>');
	});

	it('escapes markup a brand file might contain', () => {
		expect(renderMarkdown('<script>alert(1)</script> & "x"')).toBe('<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;</p>');
		expect(renderMarkdown('- <img src=x onerror=alert(1)>')).toBe('<ul><li>&lt;img src=x onerror=alert(1)&gt;</li></ul>');
	});

	it('a file without front matter is unversioned', () => {
		expect(parseLegalDoc('privacy', 'text').version).toBe('unversioned');
	});
});

describe('erasure back-off', () => {
	it('doubles from one minute and stops at six hours', () => {
		expect([1, 2, 3, 4].map(erasureRetryDelayMs)).toEqual([60_000, 120_000, 240_000, 480_000]);
		expect(erasureRetryDelayMs(30)).toBe(6 * 3_600_000);
	});
});
