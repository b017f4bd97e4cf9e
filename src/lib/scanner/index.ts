/**
 * Entry point for screens: `loadScanner()` pulls html5-qrcode in on demand (its own chunk,
 * never in the initial bundle), and `attachTestHook()` lets e2e tests and the benchmark
 * deliver a decoded text through the very same `onDecode` path as the camera.
 */
import type { DecodeHandler, Scanner } from './scanner.ts';

export type { Scanner, DecodeHandler } from './scanner.ts';

export async function loadScanner(): Promise<Scanner> {
	const { Html5QrcodeScanner } = await import('./html5-qrcode-scanner.ts');
	return new Html5QrcodeScanner();
}

declare global {
	interface Window {
		__tsunaguScanner?: { inject(text: string): void };
	}
}

/**
 * Present only when the page was opened with `?scannerTest=1` (kept for the session) or in a
 * dev build. Harmless in production: it can only do what showing a code to the camera does.
 */
export function attachTestHook(onDecode: DecodeHandler): () => void {
	if (typeof window === 'undefined') return () => {};
	const flag = new URLSearchParams(location.search).get('scannerTest') === '1';
	if (flag) sessionStorage.setItem('tsunagu.scannerTest', '1');
	if (!import.meta.env.DEV && !flag && sessionStorage.getItem('tsunagu.scannerTest') !== '1') return () => {};
	window.__tsunaguScanner = { inject: (text: string) => onDecode(text) };
	return () => {
		delete window.__tsunaguScanner;
	};
}
