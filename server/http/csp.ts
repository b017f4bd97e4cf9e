/**
 * The Content-Security-Policy every response carries. Device and session tokens live in
 * localStorage, so injected script is the threat that matters: scripts come only from this
 * origin, plus the exact inline bootstrap scripts of the built SPA (by SHA-256 hash, computed
 * from build/ at startup — no 'unsafe-inline', no nonces to thread through static files).
 * Styles allow inline (Svelte style attributes and transitions); that cannot run code.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** LINE endpoints the real LIFF SDK talks to from the member card (inside the LINE app). */
const LINE_CONNECT = ['https://api.line.me', 'https://access.line.me', 'https://liffsdk.line-scdn.net'];

export interface CspOptions {
	/** Directory of the built SPA; its inline scripts are allowed by hash. */
	staticDir?: string;
}

export function contentSecurityPolicy(options: CspOptions) {
	const hashes = options.staticDir ? inlineScriptHashes(options.staticDir) : [];
	return {
		defaultSrc: ["'self'"],
		scriptSrc: ["'self'", ...hashes.map((h) => `'${h}'`)],
		styleSrc: ["'self'", "'unsafe-inline'"],
		// product images may live on the brand's CDN; QR codes are data: URLs
		imgSrc: ["'self'", 'data:', 'blob:', 'https:'],
		fontSrc: ["'self'", 'data:'],
		connectSrc: ["'self'", ...LINE_CONNECT],
		workerSrc: ["'self'", 'blob:'],
		manifestSrc: ["'self'"],
		mediaSrc: ["'self'", 'blob:'],
		objectSrc: ["'none'"],
		baseUri: ["'self'"],
		formAction: ["'self'"],
		frameAncestors: ["'none'"]
	};
}

/** sha256-… of every inline <script> in the built HTML files (the SvelteKit bootstrap). */
export function inlineScriptHashes(dir: string): string[] {
	if (!existsSync(dir)) return [];
	const hashes = new Set<string>();
	for (const file of htmlFiles(dir)) {
		const html = readFileSync(file, 'utf8');
		for (const m of html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/gi)) {
			if (m[1].trim() === '') continue;
			hashes.add(`sha256-${createHash('sha256').update(m[1], 'utf8').digest('base64')}`);
		}
	}
	return [...hashes].sort();
}

function htmlFiles(dir: string, depth = 0): string[] {
	if (depth > 4) return [];
	const files: string[] = [];
	for (const entry of readdirSync(dir, { withFileTypes: true })) {
		const path = join(dir, entry.name);
		if (entry.isDirectory() && entry.name !== '_app') files.push(...htmlFiles(path, depth + 1));
		else if (entry.isFile() && entry.name.endsWith('.html')) files.push(path);
	}
	return files;
}
