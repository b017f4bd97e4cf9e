import { describe, expect, it } from 'vitest';
import { productCard } from '../../server/modules/followups/followups.service.ts';
import { buildLineMessages } from '../../server/integrations/line/flex.ts';

describe('LINE product cards', () => {
	it('resolve an image stored by path (demo catalogue) against the app origin; LINE gets it only over https', () => {
		const https = productCard({ name: 'シャツ', price_yen: 3990, image_url: '/demo-assets/products/tp.png' }, 'https://shop.example.jp/l/abc');
		expect(https.imageUrl).toBe('https://shop.example.jp/demo-assets/products/tp.png');
		const [, flex] = buildLineMessages('こんにちは', { name: '鈴木' }, [https]);
		expect(JSON.stringify(flex)).toContain('"hero":{"type":"image","url":"https://shop.example.jp/demo-assets/products/tp.png"');
		const http = productCard({ name: 'シャツ', price_yen: 3990, image_url: '/demo-assets/products/tp.png' }, 'http://localhost:3000/l/abc');
		expect(JSON.stringify(buildLineMessages('x', { name: '鈴木' }, [http])[1])).not.toContain('hero');
		expect(productCard({ name: 'a', price_yen: 1, image_url: 'https://cdn.example.jp/a.png' }, 'https://x.jp/l/1').imageUrl).toBe('https://cdn.example.jp/a.png');
		expect(productCard({ name: 'a', price_yen: 1, image_url: null }, 'https://x.jp/l/1').imageUrl).toBeNull();
	});
});
