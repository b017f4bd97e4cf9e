import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vitest/config';

const apiTarget = `http://127.0.0.1:${process.env.PORT ?? 3000}`;

export default defineConfig({
	plugins: [sveltekit()],
	server: {
		// `npm run dev`: Vite serves the app with hot reload and forwards server paths to Hono.
		port: 5173,
		proxy: {
			'/api': apiTarget,
			'/healthz': apiTarget,
			'/l/': apiTarget,
			'/webhooks': apiTarget,
			'/sandbox': apiTarget,
			'/sdk': apiTarget
		}
	},
	test: {
		include: ['tests/unit/**/*.test.ts', 'tests/integration/**/*.test.ts'],
		environment: 'node',
		testTimeout: 60_000,
		hookTimeout: 120_000,
		// PGlite instances are memory-hungry WASM; two forks match the 2-core CI machine.
		pool: 'forks',
		maxWorkers: 2,
		server: { deps: { inline: ['kysely'] } }
	}
});
