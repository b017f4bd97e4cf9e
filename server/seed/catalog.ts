/**
 * The demo brand's catalogue: ~300 apparel products with Japanese names, SKUs, valid JANs and
 * yen prices, plus which categories sell together (for "complementary products" later).
 */
import { janCheckDigit, type Rng } from './random.ts';

export type CategoryCode = 'TP' | 'BT' | 'OT' | 'OP' | 'SH' | 'BG' | 'AC' | 'SC';

interface CategorySpec {
	code: CategoryCode;
	name: string;
	count: number;
	items: string[];
	modifiers: string[];
	prices: number[];
	/** How often the category leads a basket. */
	weight: number;
}

export const CATEGORIES: CategorySpec[] = [
	{
		code: 'TP', name: 'トップス', count: 80, weight: 30,
		items: ['オーバーシャツ', 'バンドカラーシャツ', 'オックスフォードシャツ', 'クルーネックTシャツ', 'ポケットTシャツ', 'ニットベスト', 'ケーブルニット', 'カーディガン', 'スウェットシャツ', 'ブラウス', 'タートルネックニット', 'ボーダーカットソー'],
		modifiers: ['リネンブレンド', 'コットン', 'オーガニックコットン', 'ウォッシャブル', 'ヘビーウェイト', 'リラックスフィット', 'メリノウール', 'シアー', '度詰め', '防シワ', 'スビンコットン', 'ガーゼ'],
		prices: [2990, 3990, 4990, 5990, 6990, 7990, 8990, 9900, 12100, 12900]
	},
	{
		code: 'BT', name: 'ボトムス', count: 50, weight: 18,
		items: ['テーパードパンツ', 'ワイドスラックス', 'チノパンツ', 'デニムパンツ', 'イージーパンツ', 'プリーツスカート', 'ナロースカート', 'カーゴパンツ', 'ショートパンツ'],
		modifiers: ['ストレッチ', 'センタープレス', 'セルヴィッジ', 'ウールライク', 'リネン', '撥水', 'ツイル', 'コーデュロイ', 'ドライタッチ'],
		prices: [4990, 5990, 6990, 7990, 8990, 9900, 11000, 12900, 14300]
	},
	{
		code: 'OT', name: 'アウター', count: 35, weight: 10,
		items: ['ステンカラーコート', 'トレンチコート', 'ダウンジャケット', 'ノーカラージャケット', 'マウンテンパーカー', 'テーラードジャケット', 'キルティングジャケット', 'ブルゾン'],
		modifiers: ['ウールメルトン', 'ライト', '撥水', 'リバーシブル', 'ストレッチ', 'ツイード', 'パッカブル'],
		prices: [9900, 14900, 16500, 19800, 24200, 29700, 33000, 39800]
	},
	{
		code: 'OP', name: 'ワンピース', count: 30, weight: 10,
		items: ['シャツワンピース', 'ニットワンピース', 'キャミワンピース', 'ティアードワンピース', 'ジャンパースカート', 'ラップワンピース'],
		modifiers: ['リネン', 'コットンボイル', 'サテン', 'ジャージー', 'ウールブレンド', 'ストライプ'],
		prices: [7990, 9900, 11000, 12900, 14300, 16500, 19800]
	},
	{
		code: 'SH', name: 'シューズ', count: 35, weight: 12,
		items: ['レザースニーカー', 'キャンバススニーカー', 'ローファー', 'サイドゴアブーツ', 'バレエシューズ', 'ストラップサンダル', 'ランニングスニーカー'],
		modifiers: ['スムースレザー', 'スエード', 'ライトウェイト', '撥水', 'ヴィンテージ加工'],
		prices: [7990, 9900, 12100, 14300, 16500, 19800, 24200]
	},
	{
		code: 'BG', name: 'バッグ', count: 25, weight: 8,
		items: ['トートバッグ', 'ショルダーバッグ', 'バックパック', 'ミニポーチ', 'サコッシュ'],
		modifiers: ['キャンバス', 'ナイロン', 'レザー', 'リサイクルポリエステル', 'コットン'],
		prices: [3990, 5990, 7990, 9900, 12100, 16500, 22000]
	},
	{
		code: 'AC', name: 'アクセサリー', count: 35, weight: 10,
		items: ['マフラー', 'ストール', 'レザーベルト', 'ベースボールキャップ', 'バケットハット', 'ピアス', 'レザー手袋'],
		modifiers: ['カシミヤタッチ', 'ウール', 'リネン', 'コットン', 'シルバー'],
		prices: [1980, 2990, 3990, 4990, 5990, 7990, 9900]
	},
	{
		code: 'SC', name: 'シューケア', count: 10, weight: 2,
		items: ['防水スプレー', 'レザークリーム', 'シューブラシ', 'シューキーパー', 'スニーカークリーナー'],
		modifiers: ['ベーシック', 'プレミアム'],
		prices: [1980, 2200, 2420, 2750, 3300]
	}
];

/** Categories bought together: [lead category] → [companion, probability]. */
export const COMPANIONS: Partial<Record<CategoryCode, Array<[CategoryCode, number]>>> = {
	SH: [['SC', 0.55]],
	TP: [['BT', 0.35]],
	BT: [['TP', 0.4]],
	OT: [['TP', 0.3], ['AC', 0.2]],
	OP: [['BG', 0.25], ['AC', 0.25]],
	BG: [['AC', 0.15]]
};

export interface DemoProduct {
	id: number;
	sku: string;
	jan: string;
	name: string;
	category: string;
	categoryCode: CategoryCode;
	price_yen: number;
	ec_product_id: string;
	ec_url: string;
	image_url: string | null;
}

/** JAN: a Japanese company prefix (4589…) + item number + check digit. */
function jan(n: number): string {
	const first12 = `458912${String(n).padStart(6, '0')}`;
	return first12 + janCheckDigit(first12);
}

export function generateCatalog(rng: Rng, publicBaseUrl: string): DemoProduct[] {
	const products: DemoProduct[] = [];
	for (const cat of CATEGORIES) {
		const combos = rng.shuffle(cat.modifiers.flatMap((m) => cat.items.map((i) => `${m} ${i}`)));
		for (let k = 0; k < cat.count; k++) {
			const id = products.length + 1;
			// more combinations than products in every category except the small shoe-care range
			const base = combos[k % combos.length];
			const name = k < combos.length ? base : `${base} ${Math.floor(k / combos.length) + 1}`;
			const sku = `KS-${cat.code}-${String(k + 1).padStart(4, '0')}`;
			products.push({
				id,
				sku,
				jan: jan(id),
				name,
				category: cat.name,
				categoryCode: cat.code,
				price_yen: rng.pick(cat.prices),
				ec_product_id: String(8_100_000_000_000 + id * 1_009),
				ec_url: `${publicBaseUrl}/shop/products/${sku}`,
				// local, generated pictures (scripts/demo-images.ts), by path: the tablet and the shop load
				// them from whatever origin they reach the app on; LINE cards resolve them against
				// PUBLIC_BASE_URL (followups.service card())
				image_url: `/demo-assets/products/${cat.code.toLowerCase()}.png`
			});
		}
	}
	return products;
}

export function productsByCategory(products: DemoProduct[]): Record<CategoryCode, DemoProduct[]> {
	const out = Object.fromEntries(CATEGORIES.map((c) => [c.code, [] as DemoProduct[]])) as Record<CategoryCode, DemoProduct[]>;
	for (const p of products) out[p.categoryCode].push(p);
	return out;
}

export const CATEGORY_WEIGHTS: Array<[CategoryCode, number]> = CATEGORIES.map((c) => [c.code, c.weight]);
