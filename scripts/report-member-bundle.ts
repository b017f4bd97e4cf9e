/**
 * Prints the JavaScript the LIFF member card (/member) loads inside LINE, gzipped: the SvelteKit
 * start + app entries, the root layout, the /member page and everything they import statically,
 * plus the LIFF SDK (imported dynamically, but always needed in LINE). @line/liff-mock is
 * demo-only and listed apart. Exits non-zero above the 150 KB budget.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const BUDGET_KB = 150;
const client = '.svelte-kit/output/client';
const nodesDir = '.svelte-kit/generated/client-optimized/nodes';

interface Chunk {
	file: string;
	imports?: string[];
	dynamicImports?: string[];
	isEntry?: boolean;
}

const manifestPath = join(client, '.vite/manifest.json');
if (!existsSync(manifestPath)) {
	console.error('member bundle: no Vite manifest (run vite build first)');
	process.exit(1);
}
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, Chunk>;

function nodeOf(route: string): string {
	const file = readdirSync(nodesDir).find((f) => readFileSync(join(nodesDir, f), 'utf8').includes(route));
	if (!file) throw new Error(`no client node imports ${route}`);
	return join(nodesDir, file);
}

function staticClosure(keys: string[], into = new Set<string>()): Set<string> {
	for (const key of keys) {
		if (into.has(key) || !manifest[key]) continue;
		into.add(key);
		staticClosure(manifest[key].imports ?? [], into);
	}
	return into;
}

const gz = (key: string) => gzipSync(readFileSync(join(client, manifest[key].file)), { level: 9 }).length;
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

const page = nodeOf('src/routes/member/+page.svelte');
const entries = Object.keys(manifest).filter((k) => manifest[k].isEntry && !k.includes('/nodes/'));
const layout = nodeOf('src/routes/+layout.svelte');
const liffSdk = (manifest[page].dynamicImports ?? []).filter((k) => k.includes('@line/liff/'));
const mock = (manifest[page].dynamicImports ?? []).filter((k) => k.includes('liff-mock'));

const loaded = staticClosure([...entries, layout, page, ...liffSdk]);
const total = [...loaded].reduce((sum, k) => sum + gz(k), 0);
const mockOnly = [...staticClosure(mock)].filter((k) => !loaded.has(k));
const mockTotal = mockOnly.reduce((sum, k) => sum + gz(k), 0);

console.log(`\nLIFF member card (/member) JavaScript: ${kb(total)} gzipped in ${loaded.size} files (LIFF SDK included; budget ${BUDGET_KB} KB)`);
for (const k of [...loaded].sort((a, b) => gz(b) - gz(a)).slice(0, 6)) console.log(`  ${kb(gz(k)).padStart(9)}  ${manifest[k].file}  (${k.replace(/^.*node_modules\//, '')})`);
console.log(`  + demo only: @line/liff-mock ${kb(mockTotal)} (loaded in demo mode, never in production)`);
if (total > BUDGET_KB * 1024) {
	console.error(`  OVER BUDGET: ${kb(total)} > ${BUDGET_KB} KB`);
	process.exitCode = 1;
}
