/**
 * The one interface screens use to scan codes. html5-qrcode is in maintenance mode, so it sits
 * behind this and can be swapped (e.g. for the BarcodeDetector API) without touching screens.
 */
export type DecodeHandler = (text: string) => void;

export interface Scanner {
	/** Starts the rear camera inside `element` and calls `onDecode` for each decoded code. */
	start(element: HTMLElement, onDecode: DecodeHandler): Promise<void>;
	stop(): Promise<void>;
}

/** Suppresses repeats: a camera decodes the same code many times a second. */
export function dedupeDecodes(onDecode: DecodeHandler, windowMs = 2_000, now: () => number = Date.now): DecodeHandler {
	let last = '';
	let lastAt = -Infinity;
	return (text) => {
		const t = now();
		if (text === last && t - lastAt < windowMs) return;
		last = text;
		lastAt = t;
		onDecode(text);
	};
}

/** What a decoded text is: a member QR (compact JWS), a product barcode (JAN/SKU) or a member number typed by a reader. */
export function classifyDecoded(text: string): 'member_qr' | 'member_no' | 'product_code' | 'unknown' {
	const s = text.trim();
	if (/^[\w-]+\.[\w-]+\.[\w-]+$/.test(s)) return 'member_qr';
	if (/^\d{10}$/.test(s)) return 'member_no';
	if (/^\d{8}$|^\d{13}$/.test(s) || /^[A-Z0-9][A-Z0-9-]{3,}$/i.test(s)) return 'product_code';
	return 'unknown';
}
