/**
 * The member card's calls to /api/member/*. Plain fetch (no client library): this page runs
 * inside LINE on phones, and every kilobyte of JavaScript counts.
 */

export interface MemberConfig {
	liffId: string;
	mock: boolean;
}

export interface Purchase {
	channel: 'store' | 'ec';
	at: string;
	totalYen: number;
	kind: string;
	storeName: string | null;
	staffName: string | null;
	items: string[];
}

export interface MemberQr {
	token: string;
	issuedAt: number;
	expiresAt: number;
	rotateSeconds: number;
}

export interface MemberCard {
	name: string | null;
	memberNo: string;
	purchases: Purchase[];
	qr: MemberQr;
}

export interface DemoUser {
	userId: string;
	name: string;
	memberNo: string;
	linked: boolean;
}

/** An API error with the server's stable code (e.g. `id_token_expired`, `link_mismatch`). */
export class MemberApiError extends Error {
	constructor(
		readonly status: number,
		readonly code: string,
		message: string
	) {
		super(message);
	}
}

async function call<T>(path: string, init: RequestInit & { session?: string } = {}): Promise<T> {
	const headers: Record<string, string> = { accept: 'application/json' };
	if (init.body) headers['content-type'] = 'application/json';
	if (init.session) headers.authorization = `Bearer ${init.session}`;
	let res: Response;
	try {
		res = await fetch(path, { ...init, headers });
	} catch {
		throw new MemberApiError(0, 'network', 'network');
	}
	const body = await res.json().catch(() => null);
	if (!res.ok) {
		const error = (body as { error?: { code?: string; message?: string } } | null)?.error;
		throw new MemberApiError(res.status, error?.code ?? 'error', error?.message ?? res.statusText);
	}
	return body as T;
}

export const memberApi = {
	config: () => call<MemberConfig>('/api/member/config'),
	session: (idToken: string) =>
		call<{ session: string; status: 'linked' | 'needs_consent' }>('/api/member/session', { method: 'POST', body: JSON.stringify({ idToken }) }),
	consent: (session: string, messagesOptIn: boolean, link?: { memberNo: string; birthday: string }) =>
		call<{ session: string; status: 'linked'; memberNo: string }>('/api/member/consent', {
			method: 'POST',
			body: JSON.stringify({ session, termsAccepted: true, messagesOptIn, link })
		}),
	card: (session: string) => call<MemberCard>('/api/member/card', { session }),
	qr: (session: string) => call<MemberQr>('/api/member/qr', { method: 'POST', session }),
	demoUsers: () => call<{ users: DemoUser[] }>('/sandbox/line/demo-users'),
	demoLogin: (user: { userId?: string; name?: string; newUser?: boolean }) =>
		call<{ userId: string; name: string; idToken: string }>('/sandbox/line/login', { method: 'POST', body: JSON.stringify(user) })
};
