// SPA: rendered in the browser from API data; the fallback page serves every route.
export const ssr = false;
export const prerender = false;
