/**
 * The member card's calls to /api/member/*, through the same typed client and error type as
 * the tablet (hc is a few hundred bytes: fine inside LINE on a phone). Responses are typed by
 * the routes (src/lib/api/types.ts). The demo-login endpoints belong to the sandbox, which is
 * not part of the API (AppType), so they keep a small typed fetch of their own.
 */
import { api, ApiError, call, networkError, toApiError } from '../api/client.ts';

export { ApiError };
export type { MemberCard, MemberConfig, MemberQr, MemberData, LegalDoc, MemberProfileInput } from '../api/types.ts';
import type { MemberProfileInput as ProfileInput } from '../api/types.ts';

/** A demo LINE user of the sandbox (server/sandbox/line/demo.routes.ts). */
export interface DemoUser {
	userId: string;
	name: string;
	memberNo: string;
	linked: boolean;
}

async function sandbox<T>(path: string, body?: unknown): Promise<T> {
	let res: Response;
	try {
		res = await fetch(path, {
			method: body === undefined ? 'GET' : 'POST',
			headers: body === undefined ? {} : { 'content-type': 'application/json' },
			body: body === undefined ? undefined : JSON.stringify(body)
		});
	} catch (err) {
		throw networkError(err);
	}
	const json = await res.json().catch(() => null);
	if (!res.ok) throw toApiError(res.status, json);
	return json as T;
}

const bearer = (session: string) => ({ auth: { bearer: session } }) as const;

export const memberApi = {
	config: () => call((o) => api.member.config.$get({}, o), { auth: 'none' }),
	session: (idToken: string) => call((o) => api.member.session.$post({ json: { idToken } }, o), { auth: 'none' }),
	consent: (session: string, messagesOptIn: boolean, link?: { memberNo: string; birthday: string }, linkingOptIn = false) =>
		call((o) => api.member.consent.$post({ json: { session, termsAccepted: true, messagesOptIn, linkingOptIn, link } }, o), { auth: 'none' }),
	saveProfile: (session: string, profile: ProfileInput) => call((o) => api.member.profile.$put({ json: profile }, o), bearer(session)),
	setConsent: (session: string, purpose: 'staff_messages' | 'purchase_linking', granted: boolean, clientId: string) =>
		call((o) => api.member.consent[':purpose'].$put({ param: { purpose }, json: { granted, clientId } }, o), bearer(session)),
	myData: (session: string) => call((o) => api.member.data.$get({}, o), bearer(session)),
	leave: (session: string, clientId: string) => call((o) => api.member.leave.$post({ json: { clientId } }, o), bearer(session)),
	legal: (doc: 'terms' | 'privacy') => call((o) => api.member.legal[':doc'].$get({ param: { doc } }, o), { auth: 'none' }),
	card: (session: string) => call((o) => api.member.card.$get({}, o), bearer(session)),
	qr: (session: string) => call((o) => api.member.qr.$post({}, o), bearer(session)),
	demoUsers: () => sandbox<{ users: DemoUser[] }>('/sandbox/line/demo-users'),
	demoLogin: (user: { userId?: string; name?: string; newUser?: boolean }) =>
		sandbox<{ userId: string; name: string; idToken: string }>('/sandbox/line/login', user)
};
export type Purchase = import('../api/types.ts').MemberCard['purchases'][number];

