/**
 * The fixed part of the demo brand that other code and the e2e tests rely on: stores, staff
 * (with demo PINs), and a handful of featured members linked to LINE. The bulk of customers and
 * history is generated from a seeded random generator in seed.ts.
 */
import type { Role } from '../db/types.ts';

export const DEMO_BRAND = { name: 'KASANE', nameKana: 'カサネ' } as const;

/** Every demo staff member's PIN (demo data only; production staff set their own). */
export const DEMO_PIN = '1234';

export const DEMO_STORES = [
	{ id: 'shibuya', name: '渋谷店', name_en: 'Shibuya' },
	{ id: 'shinjuku', name: '新宿店', name_en: 'Shinjuku' },
	{ id: 'yokohama', name: '横浜店', name_en: 'Yokohama' }
] as const;

export interface DemoStaff {
	staff_code: string;
	display_name: string;
	sender_name: string;
	role: Role;
	home_store_id: string;
}

export const DEMO_STAFF: DemoStaff[] = [
	{ staff_code: 'S001', display_name: '本部 管理者', sender_name: 'KASANE本部', role: 'admin', home_store_id: 'shibuya' },
	{ staff_code: 'S002', display_name: '佐藤 美咲', sender_name: '渋谷店 佐藤', role: 'manager', home_store_id: 'shibuya' },
	{ staff_code: 'S003', display_name: '鈴木 健太', sender_name: '渋谷店 鈴木', role: 'staff', home_store_id: 'shibuya' },
	{ staff_code: 'S004', display_name: '高橋 彩', sender_name: '渋谷店 高橋', role: 'staff', home_store_id: 'shibuya' },
	{ staff_code: 'S005', display_name: '田中 翔', sender_name: '渋谷店 田中', role: 'staff', home_store_id: 'shibuya' },
	{ staff_code: 'S006', display_name: '伊藤 由紀', sender_name: '新宿店 伊藤', role: 'manager', home_store_id: 'shinjuku' },
	{ staff_code: 'S007', display_name: '渡辺 陽菜', sender_name: '新宿店 渡辺', role: 'staff', home_store_id: 'shinjuku' },
	{ staff_code: 'S008', display_name: '山本 大輝', sender_name: '新宿店 山本', role: 'staff', home_store_id: 'shinjuku' },
	{ staff_code: 'S009', display_name: '中村 さくら', sender_name: '横浜店 中村', role: 'manager', home_store_id: 'yokohama' },
	{ staff_code: 'S010', display_name: '小林 蓮', sender_name: '横浜店 小林', role: 'staff', home_store_id: 'yokohama' },
	{ staff_code: 'S011', display_name: '加藤 結衣', sender_name: '横浜店 加藤', role: 'staff', home_store_id: 'yokohama' },
	{ staff_code: 'S012', display_name: '吉田 悠斗', sender_name: '横浜店 吉田', role: 'staff', home_store_id: 'yokohama' }
];

/** LINE user ids look like "U" + 32 hex digits; demo ones are derived from the member number. */
export function demoLineUserId(memberNo: string): string {
	return `U${memberNo.padStart(32, '0')}`;
}

export interface FeaturedMember {
	member_no: string;
	family_name: string;
	given_name: string;
	/** null: joined through LINE and never gave a reading (the profile shows 「カナ未登録」) */
	family_kana: string | null;
	given_kana: string | null;
	/** The customer state the generated history gives this member. */
	state: 'cross_channel' | 'store_only' | 'ec_only' | 'first_purchase_only' | 'dormant';
	line: boolean;
}

/** Members the demo and e2e tests open by name; all have LINE linked with message consent. */
export const FEATURED_MEMBERS: FeaturedMember[] = [
	{ member_no: '1000000001', family_name: '山田', given_name: '花子', family_kana: 'ヤマダ', given_kana: 'ハナコ', state: 'cross_channel', line: true },
	{ member_no: '1000000002', family_name: '松本', given_name: '直樹', family_kana: 'マツモト', given_kana: 'ナオキ', state: 'store_only', line: true },
	{ member_no: '1000000003', family_name: '井上', given_name: '真央', family_kana: 'イノウエ', given_kana: 'マオ', state: 'ec_only', line: true },
	{ member_no: '1000000004', family_name: '木村', given_name: '葵', family_kana: null, given_kana: null, state: 'first_purchase_only', line: true },
	{ member_no: '1000000005', family_name: '林', given_name: '浩二', family_kana: 'ハヤシ', given_kana: 'コウジ', state: 'dormant', line: true }
];
