/**
 * `npm run dev`: the Hono server with reload on change (tsx watch) and Vite's dev server with
 * hot module reload; Vite proxies /api, /webhooks, /l and /sandbox to the server.
 */
import { spawn } from 'node:child_process';

const children = [
	spawn('node', ['--import', 'tsx', '--watch-path=server', '--watch-path=migrations', 'server/main.ts'], {
		stdio: 'inherit',
		env: { ...process.env, PUBLIC_BASE_URL: process.env.PUBLIC_BASE_URL ?? 'http://localhost:5173' }
	}),
	spawn('npx', ['vite', 'dev', '--host'], { stdio: 'inherit' })
];
const stop = () => children.forEach((c) => c.kill('SIGTERM'));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
for (const c of children) c.on('exit', (code) => { if (code) { stop(); process.exit(code); } });
