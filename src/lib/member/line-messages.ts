/**
 * Turns LINE message objects (as pushed to the sandbox) into a flat shape the demo inbox can
 * draw: text bubbles, and Flex / template cards (hero image, text lines, link buttons).
 */

export interface RenderedButton {
	label: string;
	uri: string | null;
}

export interface RenderedCard {
	hero: string | null;
	texts: Array<{ text: string; bold: boolean }>;
	buttons: RenderedButton[];
}

export type RenderedMessage =
	| { kind: 'text'; text: string; sender: Sender | null }
	| { kind: 'cards'; altText: string; cards: RenderedCard[]; sender: Sender | null }
	| { kind: 'other'; altText: string; sender: Sender | null };

export interface Sender {
	name: string | null;
	iconUrl: string | null;
}

type Obj = Record<string, unknown>;
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const obj = (v: unknown): Obj | null => (v && typeof v === 'object' ? (v as Obj) : null);

export function renderLineMessage(message: Obj): RenderedMessage {
	const s = obj(message.sender);
	const sender = s ? { name: str(s.name), iconUrl: str(s.iconUrl) } : null;
	const altText = str(message.altText) ?? '';
	if (message.type === 'text') return { kind: 'text', text: str(message.text) ?? '', sender };
	if (message.type === 'flex') {
		const contents = obj(message.contents);
		const bubbles = contents?.type === 'carousel' && Array.isArray(contents.contents) ? (contents.contents as Obj[]) : contents ? [contents] : [];
		return { kind: 'cards', altText, cards: bubbles.map(bubbleCard), sender };
	}
	if (message.type === 'template') {
		const template = obj(message.template);
		if (template?.type === 'buttons') {
			const texts = [str(template.title), str(template.text)].filter((x): x is string => Boolean(x));
			return {
				kind: 'cards',
				altText,
				cards: [{ hero: str(template.thumbnailImageUrl), texts: texts.map((text, i) => ({ text, bold: i === 0 && texts.length > 1 })), buttons: actions(template.actions) }],
				sender
			};
		}
	}
	return { kind: 'other', altText: altText || String(message.type ?? ''), sender };
}

function bubbleCard(bubble: Obj): RenderedCard {
	const card: RenderedCard = { hero: null, texts: [], buttons: [] };
	const hero = obj(bubble.hero);
	if (hero?.type === 'image') card.hero = str(hero.url);
	for (const part of [bubble.header, hero?.type === 'box' ? hero : null, bubble.body, bubble.footer]) collect(obj(part), card);
	return card;
}

function collect(node: Obj | null, card: RenderedCard): void {
	if (!node) return;
	if (node.type === 'box' && Array.isArray(node.contents)) for (const child of node.contents) collect(obj(child), card);
	else if (node.type === 'text') card.texts.push({ text: str(node.text) ?? '', bold: node.weight === 'bold' });
	else if (node.type === 'image' && !card.hero) card.hero = str(node.url);
	else if (node.type === 'button') card.buttons.push(...actions([node.action]));
}

function actions(list: unknown): RenderedButton[] {
	if (!Array.isArray(list)) return [];
	return list
		.map(obj)
		.filter((a): a is Obj => a !== null)
		.map((a) => ({ label: str(a.label) ?? '', uri: a.type === 'uri' ? str(a.uri) : null }));
}
