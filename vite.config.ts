import { sveltekit } from '@sveltejs/kit/vite';
import { SvelteKitPWA } from '@vite-pwa/sveltekit';
import { defineConfig } from 'vitest/config';

const apiTarget = `http://127.0.0.1:${process.env.PORT ?? 3000}`;

export default defineConfig({
	plugins: [
		sveltekit(),
		// The staff tablet works in basements: the whole app shell is precached by a generated
		// service worker; the tablet registers it itself (workbox-window) to show an update prompt.
		SvelteKitPWA({
			strategies: 'generateSW',
			registerType: 'prompt',
			injectRegister: false,
			kit: { spa: true, adapterFallback: 'index.html' },
			manifest: {
				name: 'つなぐ Tsunagu',
				short_name: 'つなぐ',
				lang: 'ja',
				id: '/staff',
				start_url: '/staff',
				scope: '/',
				display: 'standalone',
				orientation: 'any',
				background_color: '#f6f5f1',
				theme_color: '#1f4e5f',
				icons: [
					{ src: '/icon-192.png', sizes: '192x192', type: 'image/png' },
					{ src: '/icon-512.png', sizes: '512x512', type: 'image/png' },
					{ src: '/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' }
				]
			},
			workbox: {
				globPatterns: ['client/**/*.{js,css,html,ico,png,svg,webmanifest,woff2}'],
				navigateFallback: '/index.html',
				navigateFallbackDenylist: [/^\/api\//, /^\/webhooks\//, /^\/l\//, /^\/sandbox\//, /^\/sdk\//, /^\/healthz/, /^\/shop(\/|$)/],
				// First install takes the open page over so it works offline right away; later
				// versions wait for the staff's "更新" (SKIP_WAITING message from workbox-window).
				clientsClaim: true,
				skipWaiting: false,
				cleanupOutdatedCaches: true
			}
		})
	],
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
