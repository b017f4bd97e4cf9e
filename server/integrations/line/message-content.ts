/**
 * What a customer sent, from LINE's message object: a kind Tsunagu shows, a readable text
 * (the message itself, or a Japanese placeholder such as "スタンプ" for types without a view)
 * and a few safe details. Every type is kept — an unknown one becomes 'unknown', never dropped.
 */

export type InboundKind = 'text' | 'sticker' | 'image' | 'video' | 'audio' | 'file' | 'location' | 'unknown';

export interface InboundContent {
	kind: InboundKind;
	/** LINE's type as received (an unknown type keeps its name for support). */
	lineType: string;
	text: string;
	details: Record<string, string | number> | null;
	markAsReadToken: string | null;
	messageId: string | null;
}

const PLACEHOLDER: Record<Exclude<InboundKind, 'text'>, string> = {
	sticker: 'スタンプ',
	image: '画像',
	video: '動画',
	audio: '音声メッセージ',
	file: 'ファイル',
	location: '位置情報',
	unknown: '対応していない種類のメッセージ'
};

export function placeholderFor(kind: InboundKind): string {
	return kind === 'text' ? '' : PLACEHOLDER[kind];
}

const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

export function readInboundContent(message: unknown): InboundContent {
	const m = (message && typeof message === 'object' ? message : {}) as Record<string, unknown>;
	const lineType = str(m.type) ?? 'unknown';
	const base = { lineType, markAsReadToken: str(m.markAsReadToken), messageId: str(m.id) };
	switch (lineType) {
		case 'text':
			return { ...base, kind: 'text', text: str(m.text) ?? '', details: null };
		case 'sticker':
			return { ...base, kind: 'sticker', text: PLACEHOLDER.sticker, details: pick(m, ['packageId', 'stickerId']) };
		case 'image':
		case 'video':
		case 'audio':
			return { ...base, kind: lineType, text: PLACEHOLDER[lineType], details: pick(m, ['duration']) };
		case 'file': {
			const name = str(m.fileName);
			return { ...base, kind: 'file', text: name ? `${PLACEHOLDER.file}: ${name}` : PLACEHOLDER.file, details: pick(m, ['fileName', 'fileSize']) };
		}
		case 'location': {
			const label = str(m.title) ?? str(m.address);
			return {
				...base,
				kind: 'location',
				text: label ? `${PLACEHOLDER.location}: ${label}` : PLACEHOLDER.location,
				details: pick(m, ['title', 'address', 'latitude', 'longitude'])
			};
		}
		default:
			return { ...base, kind: 'unknown', text: PLACEHOLDER.unknown, details: { lineType: lineType.slice(0, 40) } };
	}
}

function pick(m: Record<string, unknown>, keys: string[]): Record<string, string | number> | null {
	const out: Record<string, string | number> = {};
	for (const k of keys) {
		const v = m[k];
		if (typeof v === 'string') out[k] = v.slice(0, 500);
		else if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
	}
	return Object.keys(out).length > 0 ? out : null;
}
