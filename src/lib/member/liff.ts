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
}

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
		}
	};
}

async function startMock(liff: Liff, liffId: string): Promise<LiffSession> {
	const { LiffMockPlugin } = await import('@line/liff-mock');
	liff.use(new LiffMockPlugin());
	type Mocked = Liff & { $mock: { set(data: Record<string, unknown>): void } };
	await (liff.init as (config: { liffId: string; mock: boolean }) => Promise<void>)({ liffId, mock: true });
	let token: string | null = null;
	return {
		idToken: () => token,
		relogin: () => {
			token = null;
		},
		useDemoToken: (idToken, profile) => {
			token = idToken;
			(liff as Mocked).$mock.set({ getIDToken: idToken, getProfile: { ...profile, pictureUrl: '', statusMessage: '' } });
		}
	};
}
