/**
 * Tracked links: minting (with the follow-up that carries them) and the redirect's lookup.
 * Each app instance has one code → target cache and one click buffer (`createLinkState`, built
 * in runtime.ts and passed as `deps.links`), closed by the runtime on shutdown.
 */
import type { Db, DbOrTrx } from '../../db/index.ts';
import type { Logger } from '../../logger.ts';
import type { AppDeps } from '../../http/context.ts';
import { ClickBuffer } from './click-buffer.ts';
import { CODE_PATTERN, mintClickId, redirectTarget } from './codes.ts';
import { Lru } from './lru.ts';
import { findLinkTarget, insertLinks, type NewTrackedLink } from './links.repository.ts';

export { mintLinkCode, trackedLinkUrl } from './codes.ts';
export type { NewTrackedLink };

interface CachedLink {
	/** The EC URL with the ref appended: computed once per code, not parsed again per tap. */
	location: string;
	customerId: string | null;
}

export interface LinkState {
	cache: Lru<string, CachedLink>;
	/** Lookups in flight: concurrent first clicks on one code share one query. */
	loading: Map<string, Promise<CachedLink | null>>;
	clicks: ClickBuffer;
}

const CACHE_SIZE = 50_000;

/** One app's link cache and click buffer. */
export function createLinkState(db: Db, logger: Logger): LinkState {
	return { cache: new Lru(CACHE_SIZE), loading: new Map(), clicks: new ClickBuffer(db, logger) };
}

/** Kept for tests and benchmarks that flush clicks: the app's link state. */
export function linkState(deps: AppDeps): LinkState {
	return deps.links;
}

/** Flushes buffered clicks; called by the runtime before the database closes. */
export async function closeLinks(deps: AppDeps): Promise<void> {
	await deps.links.clicks.close();
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
	const state = deps.links;
	const link = state.cache.get(code) ?? (await loadLink(deps, state, code));
	if (!link) return null;
	state.clicks.record({
		click_id: mintClickId(),
		code,
		customer_id: link.customerId,
		clicked_at: new Date(),
		user_agent: userAgent ? userAgent.slice(0, 512) : null
	});
	return link.location;
}

/**
 * Reads one code into the cache. A link shared in a group chat is tapped by many people at
 * once: without sharing the pending lookup, every one of those first taps would query.
 */
function loadLink(deps: AppDeps, state: LinkState, code: string): Promise<CachedLink | null> {
	let pending = state.loading.get(code);
	if (!pending) {
		pending = findLinkTarget(deps.db, code)
			.then((row) => {
				if (!row) return null;
				const link = { location: redirectTarget(row.target_url, code), customerId: row.customer_id };
				state.cache.set(code, link);
				return link;
			})
			.finally(() => state.loading.delete(code));
		state.loading.set(code, pending);
	}
	return pending;
}

export { eraseClicksOf } from './links.repository.ts';
/** Merge support: the owning repository's "reassign customer" function (server/modules/identity/merge.service.ts). */
export { reassignTrackedLinks, reassignLinkClicks } from './links.repository.ts';
