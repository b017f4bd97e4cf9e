export const ja = {
	'app.name': 'つなぐ',
	'app.tagline': '店舗とECをつなぐクライアンテリング',
	'lang.switch': 'English',
	'nav.home': 'ホーム',
	'home.staff': 'スタッフ用タブレット',
	'home.staff.desc': '会員QRを読み取り、接客記録とフォローアップ',
	'home.manager': 'マネージャー',
	'home.manager.desc': 'スタッフ経由EC売上とKPI',
	'home.member': '会員証 (LINE)',
	'home.member.desc': 'LINEで開く会員証',
	'home.demo': 'デモ環境',
	'home.demo.desc': 'LINEとECの代わりに動くローカルのサンドボックス',
	'home.demo.inbox': 'デモ: LINEの受信箱',
	'home.demo.shop': 'デモ: オンラインストア',
	'error.network': 'ネットワークに接続できません',
	'error.generic': 'エラーが発生しました'
} as const;

export const en: Record<keyof typeof ja, string> = {
	'app.name': 'Tsunagu',
	'app.tagline': 'Clienteling that connects stores and EC',
	'lang.switch': '日本語',
	'nav.home': 'Home',
	'home.staff': 'Staff tablet',
	'home.staff.desc': 'Scan member QR, record consultations and follow up',
	'home.manager': 'Manager',
	'home.manager.desc': 'Staff-attributed EC sales and KPIs',
	'home.member': 'Member card (LINE)',
	'home.member.desc': 'The member card opened inside LINE',
	'home.demo': 'Demo environment',
	'home.demo.desc': 'Local sandboxes standing in for LINE and the EC platform',
	'home.demo.inbox': 'Demo: LINE inbox',
	'home.demo.shop': 'Demo: online store',
	'error.network': 'Cannot reach the network',
	'error.generic': 'Something went wrong'
};
