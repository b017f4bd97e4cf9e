/**
 * html5-qrcode behind the Scanner interface. This module (and the library) is only ever
 * reached through a dynamic import from `loadScanner()`, so it is its own chunk.
 */
import { Html5Qrcode, Html5QrcodeSupportedFormats } from 'html5-qrcode';
import type { DecodeHandler, Scanner } from './scanner.ts';

export class Html5QrcodeScanner implements Scanner {
	private instance: Html5Qrcode | null = null;

	async start(element: HTMLElement, onDecode: DecodeHandler): Promise<void> {
		if (!element.id) element.id = `scanner-${Math.random().toString(36).slice(2)}`;
		this.instance = new Html5Qrcode(element.id, {
			verbose: false,
			formatsToSupport: [
				Html5QrcodeSupportedFormats.QR_CODE,
				Html5QrcodeSupportedFormats.EAN_13,
				Html5QrcodeSupportedFormats.EAN_8,
				Html5QrcodeSupportedFormats.CODE_128
			]
		});
		await this.instance.start({ facingMode: 'environment' }, { fps: 10, qrbox: { width: 280, height: 280 } }, (text) => onDecode(text), undefined);
	}

	async stop(): Promise<void> {
		const instance = this.instance;
		this.instance = null;
		if (!instance) return;
		try {
			if (instance.isScanning) await instance.stop();
			instance.clear();
		} catch {
			// Stopping a camera that never started (permission denied) is not an error for the screen.
		}
	}
}
