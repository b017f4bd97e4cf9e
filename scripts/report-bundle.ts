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
