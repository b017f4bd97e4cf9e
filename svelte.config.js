import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
const config = {
	preprocess: vitePreprocess(),
	kit: {
		// SPA: every screen is rendered in the browser from API data; the Hono server serves
		// build/ and answers unknown paths with the fallback so deep links and offline reloads work.
		adapter: adapter({ pages: 'build', assets: 'build', fallback: 'index.html', strict: true }),
		serviceWorker: { register: false }
	}
};

export default config;
