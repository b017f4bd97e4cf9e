/**
 * Tracked links: minting (with the follow-up that carries them) and the redirect's lookup.
 * Each app instance has one code → target cache and one click buffer, kept per `deps` so
 * tests with several apps stay apart, and closed by the runtime on shutdown.
 */
import type { DbOrTrx } from '../../db/index.ts';
import type { AppDeps } from '../../http/context.ts';
import { ClickBuffer } from './click-buffer.ts';
import { CODE_PATTERN, mintClickId, redirectTarget } from './codes.ts';
import { Lru } from './lru.ts';
import { findLinkTarget, insertLinks, type NewTrackedLink } from './links.repository.ts';

export { mintLinkCode, trackedLinkUrl } from './codes.ts';
export type { NewTrackedLink };

interface CachedLink {
	targetUrl: string;
	customerId: string | null;
}

interface LinkState {
	cache: Lru<string, CachedLink>;
	clicks: ClickBuffer;
}

const CACHE_SIZE = 50_000;
const states = new WeakMap<AppDeps, LinkState>();

export function linkState(deps: AppDeps): LinkState {
	let state = states.get(deps);
	if (!state) {
		state = { cache: new Lru(CACHE_SIZE), clicks: new ClickBuffer(deps.db, deps.logger) };
		states.set(deps, state);
	}
	return state;
}

/** Flushes buffered clicks; called by the runtime before the database closes. */
export async function closeLinks(deps: AppDeps): Promise<void> {
	await states.get(deps)?.clicks.close();
}

export async function createLinks(db: DbOrTrx, links: NewTrackedLink[]): Promise<void> {
	await insertLinks(db, links);
}

/**
 * Resolves a code to its redirect URL and queues the click; null for an unknown code.
 * Only the user agent is kept — never the IP address.
 */
export async function followLink(deps: AppDeps, code: string, userAgent: string | undefined): Promise<string | null> {
	if (!CODE_PATTERN.test(code)) return null;
	const state = linkState(deps);
	let link = state.cache.get(code);
	if (!link) {
		const row = await findLinkTarget(deps.db, code);
		if (!row) return null;
		link = { targetUrl: row.target_url, customerId: row.customer_id };
		state.cache.set(code, link);
	}
	state.clicks.record({
		click_id: mintClickId(),
		code,
		customer_id: link.customerId,
		clicked_at: new Date(),
		user_agent: userAgent ? userAgent.slice(0, 512) : null
	});
	return redirectTarget(link.targetUrl, code);
}
