/** Japanese names (kanji, katakana, romaji for demo emails) and the sizes people wear. */
import type { Rng } from './random.ts';

/** [kanji, kana, romaji] */
export type Name = readonly [string, string, string];

export const FAMILY_NAMES: Name[] = [
	['佐藤', 'サトウ', 'sato'], ['鈴木', 'スズキ', 'suzuki'], ['高橋', 'タカハシ', 'takahashi'], ['田中', 'タナカ', 'tanaka'],
	['伊藤', 'イトウ', 'ito'], ['渡辺', 'ワタナベ', 'watanabe'], ['山本', 'ヤマモト', 'yamamoto'], ['中村', 'ナカムラ', 'nakamura'],
	['小林', 'コバヤシ', 'kobayashi'], ['加藤', 'カトウ', 'kato'], ['吉田', 'ヨシダ', 'yoshida'], ['山田', 'ヤマダ', 'yamada'],
	['佐々木', 'ササキ', 'sasaki'], ['山口', 'ヤマグチ', 'yamaguchi'], ['松本', 'マツモト', 'matsumoto'], ['井上', 'イノウエ', 'inoue'],
	['木村', 'キムラ', 'kimura'], ['林', 'ハヤシ', 'hayashi'], ['斎藤', 'サイトウ', 'saito'], ['清水', 'シミズ', 'shimizu'],
	['山崎', 'ヤマザキ', 'yamazaki'], ['森', 'モリ', 'mori'], ['池田', 'イケダ', 'ikeda'], ['橋本', 'ハシモト', 'hashimoto'],
	['阿部', 'アベ', 'abe'], ['石川', 'イシカワ', 'ishikawa'], ['山下', 'ヤマシタ', 'yamashita'], ['中島', 'ナカジマ', 'nakajima'],
	['石井', 'イシイ', 'ishii'], ['小川', 'オガワ', 'ogawa'], ['前田', 'マエダ', 'maeda'], ['岡田', 'オカダ', 'okada'],
	['長谷川', 'ハセガワ', 'hasegawa'], ['藤田', 'フジタ', 'fujita'], ['後藤', 'ゴトウ', 'goto'], ['近藤', 'コンドウ', 'kondo'],
	['村上', 'ムラカミ', 'murakami'], ['遠藤', 'エンドウ', 'endo'], ['青木', 'アオキ', 'aoki'], ['坂本', 'サカモト', 'sakamoto'],
	['藤井', 'フジイ', 'fujii'], ['西村', 'ニシムラ', 'nishimura'], ['福田', 'フクダ', 'fukuda'], ['太田', 'オオタ', 'ota'],
	['三浦', 'ミウラ', 'miura'], ['藤原', 'フジワラ', 'fujiwara'], ['岡本', 'オカモト', 'okamoto'], ['松田', 'マツダ', 'matsuda']
];

export const FEMALE_NAMES: Name[] = [
	['花子', 'ハナコ', 'hanako'], ['美咲', 'ミサキ', 'misaki'], ['陽菜', 'ヒナ', 'hina'], ['結衣', 'ユイ', 'yui'],
	['さくら', 'サクラ', 'sakura'], ['葵', 'アオイ', 'aoi'], ['真央', 'マオ', 'mao'], ['彩', 'アヤ', 'aya'],
	['由紀', 'ユキ', 'yuki'], ['愛', 'アイ', 'ai'], ['恵', 'メグミ', 'megumi'], ['優子', 'ユウコ', 'yuko'],
	['麻衣', 'マイ', 'mai'], ['奈々', 'ナナ', 'nana'], ['千尋', 'チヒロ', 'chihiro'], ['芽衣', 'メイ', 'mei'],
	['莉子', 'リコ', 'riko'], ['凛', 'リン', 'rin'], ['紗希', 'サキ', 'saki'], ['舞', 'マイ', 'mai'],
	['香織', 'カオリ', 'kaori'], ['智子', 'トモコ', 'tomoko'], ['里奈', 'リナ', 'rina'], ['明日香', 'アスカ', 'asuka'],
	['杏', 'アン', 'an'], ['楓', 'カエデ', 'kaede'], ['美穂', 'ミホ', 'miho'], ['直美', 'ナオミ', 'naomi']
];

export const MALE_NAMES: Name[] = [
	['直樹', 'ナオキ', 'naoki'], ['浩二', 'コウジ', 'koji'], ['健太', 'ケンタ', 'kenta'], ['翔', 'ショウ', 'sho'],
	['大輝', 'ダイキ', 'daiki'], ['蓮', 'レン', 'ren'], ['悠斗', 'ユウト', 'yuto'], ['拓也', 'タクヤ', 'takuya'],
	['誠', 'マコト', 'makoto'], ['亮', 'リョウ', 'ryo'], ['大介', 'ダイスケ', 'daisuke'], ['翔太', 'ショウタ', 'shota'],
	['湊', 'ミナト', 'minato'], ['陽翔', 'ハルト', 'haruto'], ['和也', 'カズヤ', 'kazuya'], ['隆', 'タカシ', 'takashi'],
	['慎也', 'シンヤ', 'shinya'], ['剛', 'ツヨシ', 'tsuyoshi'], ['一樹', 'カズキ', 'kazuki'], ['裕太', 'ユウタ', 'yuta']
];

export interface Sizes {
	tops: string;
	bottoms: string;
	shoes: string;
	[key: string]: string;
}

export function drawSizes(rng: Rng, female: boolean): Sizes {
	return female
		? { tops: rng.pick(['XS', 'S', 'M', 'M', 'L']), bottoms: rng.pick(['58', '61', '64', '67', '70']), shoes: rng.pick(['22.5', '23.0', '23.5', '24.0', '24.5', '25.0']) }
		: { tops: rng.pick(['M', 'L', 'L', 'XL']), bottoms: rng.pick(['W28', 'W30', 'W32', 'W34']), shoes: rng.pick(['25.5', '26.0', '26.5', '27.0', '27.5', '28.0']) };
}

export const COLORS = ['ブラック', 'ホワイト', 'ネイビー', 'ベージュ', 'グレー', 'カーキ', 'ブラウン', 'エクリュ'];

/** 090/080/070-xxxx-xxxx, unique within one seed run. */
export function drawPhone(rng: Rng, taken: Set<string>): string {
	for (;;) {
		const phone = `${rng.pick(['090', '080', '070'])}-${rng.digits(4)}-${rng.digits(4)}`;
		if (!taken.has(phone)) {
			taken.add(phone);
			return phone;
		}
	}
}
