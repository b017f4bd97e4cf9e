/**
 * Prints the gzipped JavaScript each entry of the built app loads first, so budget creep shows
 * in every build. Entry = the chunks the SPA shell imports plus each route's node.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const root = 'build/_app/immutable';

function jsFiles(dir: string): string[] {
	return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
		e.isDirectory() ? jsFiles(join(dir, e.name)) : e.name.endsWith('.js') ? [join(dir, e.name)] : []
	);
}

export function gzipSize(file: string): number {
	return gzipSync(readFileSync(file), { level: 9 }).length;
}

const files = jsFiles(root);
const total = files.reduce((sum, f) => sum + gzipSize(f), 0);
const largest = files
	.map((f) => ({ f: f.replace(`${root}/`, ''), size: gzipSize(f), raw: statSync(f).size }))
	.sort((a, b) => b.size - a.size)
	.slice(0, 8);
console.log(`\nJavaScript in build: ${files.length} files, ${(total / 1024).toFixed(1)} KB gzipped in all`);
for (const { f, size } of largest) console.log(`  ${(size / 1024).toFixed(1).padStart(7)} KB  ${f}`);

// --- Staff tablet budget: initial JS of /staff (≤ 120 KB gzipped) and the on-demand scanner chunk.
interface ManifestChunk { file: string; imports?: string[]; dynamicImports?: string[] }
const manifest = JSON.parse(readFileSync('.svelte-kit/output/client/.vite/manifest.json', 'utf8')) as Record<string, ManifestChunk>;
const clientBuild = '.svelte-kit/output/client';

/** Files a manifest key loads before it runs (static imports, transitively). */
function staticClosure(keys: string[], seen = new Set<string>()): Set<string> {
	for (const key of keys) {
		const chunk = manifest[key];
		if (!chunk || seen.has(chunk.file)) continue;
		seen.add(chunk.file);
		staticClosure(chunk.imports ?? [], seen);
	}
	return seen;
}

/** The JS a first visit to a route loads: the kit entries, root layout/error and the route's layouts and page. */
export function routeInitialFiles(routeId: string): Set<string> {
	const app = readFileSync('.svelte-kit/generated/client-optimized/app.js', 'utf8');
	const match = app.match(new RegExp(`"${routeId.replace(/[()[\]]/g, '\\$&')}": \\[~?(\\d+),?\\[?([\\d,~]*)`));
	if (!match) throw new Error(`route ${routeId} not in the client dictionary`);
	const nodes = [0, 1, Number(match[1]), ...match[2].split(',').filter(Boolean).map((n) => Number(n.replace('~', '')))];
	const entries = Object.keys(manifest).filter((k) => k.endsWith('/client/entry.js') || k.endsWith('client-optimized/app.js'));
	return staticClosure([...entries, ...nodes.map((n) => `.svelte-kit/generated/client-optimized/nodes/${n}.js`)]);
}

function kb(files: Iterable<string>): string {
	let sum = 0;
	for (const f of files) sum += gzipSize(join(clientBuild, f));
	return `${(sum / 1024).toFixed(1)} KB`;
}

const staffInitial = routeInitialFiles('/(staff)/staff');
const scannerFiles = [...staticClosure(['src/lib/scanner/html5-qrcode-scanner.ts'])].filter((f) => !staffInitial.has(f));
console.log(`\nStaff tablet (/staff) initial JS: ${kb(staffInitial)} gzipped in ${staffInitial.size} files (budget 120 KB)`);
console.log(`Scanner chunk (html5-qrcode, loaded on the scan screen): ${kb(scannerFiles)} gzipped`);

// The LIFF member card has its own budget (runs inside LINE on phones).
await import('./report-member-bundle.ts');
