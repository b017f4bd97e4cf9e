/**
 * `npm start` builds the app once: when build/ is missing or older than the sources.
 * A fresh clone therefore needs only `npm install && npm start`.
 */
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function newestMtime(dir: string): number {
	let newest = 0;
	for (const entry of readdirSync(dir, { withFileTypes: true })) {
		const p = join(dir, entry.name);
		newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
	}
	return newest;
}

const marker = 'build/index.html';
const sources = ['src', 'static', 'svelte.config.js', 'vite.config.ts'];
const built = existsSync(marker) ? statSync(marker).mtimeMs : 0;
const changed = Math.max(...sources.map((s) => (statSync(s).isDirectory() ? newestMtime(s) : statSync(s).mtimeMs)));
if (changed > built) {
	console.log(built ? 'Sources changed: rebuilding the app…' : 'Building the app (first start)…');
	execSync('npm run build', { stdio: 'inherit' });
}
