/**
 * LIFF behind one small interface. The SDK is imported dynamically (the card's first paint
 * does not wait for it); in demo mode @line/liff-mock stands in for the LINE app, and the
 * chosen demo user's ID token (issued by the local LINE sandbox) is fed to it.
 */
import type { Liff } from '@line/liff';

export interface LiffSession {
	/** The LIFF ID token; null when a login redirect is under way. */
	idToken(): string | null;
	/** Drops LINE's cached login and logs in again (expired ID token). */
	relogin(): void;
	/** Demo only: sets which user the mock LINE app is logged in as. */
	useDemoToken?(idToken: string, profile: { userId: string; displayName: string }): void;
	/**
	 * LINE's 友だち追加 / ブロック解除 sub-window (liff.requestFriendship, LIFF 2.28+, Full size
	 * only). False where this LINE or SDK cannot show it: the card explains instead.
	 */
	canRequestFriendship(): boolean;
	/** `userIdHint`: the demo sandbox's user when the card was restored without a LIFF login */
	requestFriendship(userIdHint?: string): Promise<void>;
}

/** `?liffLegacy=1` (demo and tests): behave like a LINE app whose LIFF lacks requestFriendship. */
const legacyRequested = () => typeof location !== 'undefined' && new URLSearchParams(location.search).get('liffLegacy') === '1';

export async function startLiff(liffId: string, mock: boolean): Promise<LiffSession> {
	const liff = (await import('@line/liff')).default as Liff;
	if (mock) return startMock(liff, liffId);
	await liff.init({ liffId });
	return {
		idToken: () => {
			if (!liff.isLoggedIn()) {
				liff.login({ redirectUri: location.href });
				return null;
			}
			return liff.getIDToken();
		},
		relogin: () => {
			liff.logout();
			liff.login({ redirectUri: location.href });
		},
		canRequestFriendship: () => typeof liff.requestFriendship === 'function' && liff.isApiAvailable('requestFriendship'),
		requestFriendship: () => liff.requestFriendship()
	};
}

async function startMock(liff: Liff, liffId: string): Promise<LiffSession> {
	const { LiffMockPlugin } = await import('@line/liff-mock');
	liff.use(new LiffMockPlugin());
	type Mocked = Liff & { $mock: { set(data: Record<string, unknown>): void } };
	await (liff.init as (config: { liffId: string; mock: boolean }) => Promise<void>)({ liffId, mock: true });
	let token: string | null = null;
	let userId: string | null = null;
	return {
		idToken: () => token,
		relogin: () => {
			token = null;
		},
		// @line/liff-mock has no requestFriendship: the local LINE sandbox stands in for the sub-window
		canRequestFriendship: () => !legacyRequested(),
		requestFriendship: async (userIdHint) => {
			const who = userId ?? userIdHint;
			if (!who) return;
			await fetch('/sandbox/line/request-friendship', {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify({ userId: who })
			});
		},
		useDemoToken: (idToken, profile) => {
			token = idToken;
			userId = profile.userId;
			(liff as Mocked).$mock.set({ getIDToken: idToken, getProfile: { ...profile, pictureUrl: '', statusMessage: '' } });
		}
	};
}
