/**
 * What a follow-up looks like on LINE — pure functions shared by compose, preview and tests:
 * template variables, the sender (staff name ≤ 20 characters, HTTPS PNG icon), the text
 * message and the Flex carousel of product cards with one "ECで見る" button each.
 */

export const MAX_PRODUCTS = 10;
export const MAX_TEXT_LENGTH = 5000;
export const MAX_SENDER_NAME = 20;

export interface TemplateVars {
	customerName: string;
	staffName: string;
	storeName: string;
}

/** Replaces {customerName}, {staffName}, {storeName}; unknown placeholders stay as typed. */
export function renderTemplate(body: string, vars: TemplateVars): string {
	return body.replace(/\{(customerName|staffName|storeName)\}/g, (_, name: keyof TemplateVars) => vars[name]);
}

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

export type IneligibleReason = 'no_consent' | 'no_line' | 'blocked' | 'not_friend' | 'merged';

/** Who may receive a follow-up: opted in, linked to LINE, a friend of the account, not blocked. */
export function followUpEligibility(c: {
	consent_messages: boolean;
	line_user_id: string | null;
	line_friend: boolean;
	line_blocked_at: Date | string | null;
	merged_into?: string | null;
}): { allowed: boolean; reason: IneligibleReason | null } {
	const reason: IneligibleReason | null = c.merged_into
		? 'merged'
		: !c.consent_messages
			? 'no_consent'
			: !c.line_user_id
				? 'no_line'
				: c.line_blocked_at
					? 'blocked'
					: !c.line_friend
						? 'not_friend'
						: null;
	return { allowed: reason === null, reason };
}
