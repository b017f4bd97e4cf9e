/**
 * LINE's message formats for a staff message: the sender (staff name ≤ 20 characters, HTTPS
 * PNG icon), the text message and the Flex carousel of product cards with one "ECで見る" button
 * each, within LINE's limits. Pure: compose, preview, the seed and tests build the same JSON.
 */

/** LINE's limits: bubbles in a carousel, characters in a text message, in a sender name. */
export const MAX_PRODUCTS = 10;
export const MAX_TEXT_LENGTH = 5000;
export const MAX_SENDER_NAME = 20;

export interface Sender {
	name: string;
	iconUrl?: string;
}

export type SenderProblem = 'sender_name_empty' | 'sender_name_too_long' | 'sender_name_reserved';

/** LINE's sender rules: 1–20 characters, no "LINE"-like names; the icon must be an HTTPS PNG. */
export function checkSender(name: string, iconUrl: string | null): { sender: Sender | null; problem: SenderProblem | null; iconDropped: boolean } {
	const trimmed = name.trim();
	const length = [...trimmed].length;
	const problem: SenderProblem | null =
		length === 0 ? 'sender_name_empty' : length > MAX_SENDER_NAME ? 'sender_name_too_long' : /line/i.test(trimmed) ? 'sender_name_reserved' : null;
	const iconOk = iconUrl !== null && isHttpsPng(iconUrl);
	if (problem) return { sender: null, problem, iconDropped: false };
	return { sender: iconOk ? { name: trimmed, iconUrl: iconUrl! } : { name: trimmed }, problem: null, iconDropped: iconUrl !== null && !iconOk };
}

export function isHttpsPng(url: string): boolean {
	try {
		const u = new URL(url);
		return u.protocol === 'https:' && /\.png$/i.test(u.pathname);
	} catch {
		return false;
	}
}

export interface ProductCard {
	name: string;
	priceYen: number;
	imageUrl: string | null;
	/** The tracked link (`{PUBLIC_BASE_URL}/l/{code}`). */
	linkUrl: string;
}

export const formatYen = (yen: number) => `¥${yen.toLocaleString('ja-JP')}`;

/** The push messages: the text, then (when products were picked) one Flex carousel. */
export function buildLineMessages(text: string, sender: Sender, products: ProductCard[]): Array<Record<string, unknown>> {
	const messages: Array<Record<string, unknown>> = [{ type: 'text', text, sender }];
	if (products.length > 0) {
		messages.push({
			type: 'flex',
			altText: altTextFor(sender.name, products),
			contents: { type: 'carousel', contents: products.map(productBubble) },
			sender
		});
	}
	return messages;
}

/** What notifications and old clients show instead of the carousel (LINE allows 1,500). */
export function altTextFor(senderName: string, products: ProductCard[]): string {
	const names = products.map((p) => p.name).join('、');
	const text = `${senderName}からのおすすめ（${products.length}点）: ${names}`;
	return [...text].length > 400 ? [...text].slice(0, 399).join('') + '…' : text;
}

function productBubble(p: ProductCard): Record<string, unknown> {
	return {
		type: 'bubble',
		size: 'kilo',
		// LINE only loads HTTPS images; a card without one still works
		...(p.imageUrl && p.imageUrl.startsWith('https://')
			? { hero: { type: 'image', url: p.imageUrl, size: 'full', aspectRatio: '1:1', aspectMode: 'cover' } }
			: {}),
		body: {
			type: 'box',
			layout: 'vertical',
			spacing: 'sm',
			contents: [
				{ type: 'text', text: p.name, weight: 'bold', size: 'sm', wrap: true, maxLines: 2 },
				{ type: 'text', text: formatYen(p.priceYen), size: 'sm', color: '#555555' }
			]
		},
		footer: {
			type: 'box',
			layout: 'vertical',
			contents: [{ type: 'button', style: 'primary', height: 'sm', color: '#06C755', action: { type: 'uri', label: 'ECで見る', uri: p.linkUrl } }]
		}
	};
}
