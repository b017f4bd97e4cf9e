/**
 * LINE Login: verifies a LIFF ID token with LINE's verify endpoint
 * (POST {loginApiBase}/oauth2/v2.1/verify, form fields id_token + client_id). LINE answers 400
 * with `{"error":"invalid_request","error_description":"IdToken expired."}` and similar; those
 * descriptions are mapped to our own reasons here so nothing past this file reads LINE's text.
 */

export interface LineLoginSettings {
	loginApiBase: string;
	loginChannelId: string;
}

export interface LineIdentity {
	/** The LINE user id (`U` + 32 hex digits). */
	sub: string;
	name?: string;
	picture?: string;
}

export type IdTokenFailure = 'expired' | 'wrong_audience' | 'invalid' | 'unavailable';

export type IdTokenResult = { ok: true; identity: LineIdentity } | { ok: false; reason: IdTokenFailure };

const VERIFY_TIMEOUT_MS = 5000;

export async function verifyIdToken(settings: LineLoginSettings, idToken: string): Promise<IdTokenResult> {
	let res: Response;
	try {
		res = await fetch(`${settings.loginApiBase}/oauth2/v2.1/verify`, {
			method: 'POST',
			headers: { 'content-type': 'application/x-www-form-urlencoded' },
			body: new URLSearchParams({ id_token: idToken, client_id: settings.loginChannelId }),
			signal: AbortSignal.timeout(VERIFY_TIMEOUT_MS)
		});
	} catch {
		return { ok: false, reason: 'unavailable' };
	}
	const body = (await res.json().catch(() => null)) as Record<string, unknown> | null;
	if (res.status === 200 && body && typeof body.sub === 'string') {
		// LINE already checked the audience; checking again costs nothing and guards a misconfigured base URL.
		if (String(body.aud) !== settings.loginChannelId) return { ok: false, reason: 'wrong_audience' };
		return {
			ok: true,
			identity: {
				sub: body.sub,
				name: typeof body.name === 'string' ? body.name : undefined,
				picture: typeof body.picture === 'string' ? body.picture : undefined
			}
		};
	}
	if (res.status === 400 && body) return { ok: false, reason: reasonFromDescription(String(body.error_description ?? '')) };
	return { ok: false, reason: 'unavailable' };
}

function reasonFromDescription(description: string): IdTokenFailure {
	if (/expired/i.test(description)) return 'expired';
	if (/audience/i.test(description)) return 'wrong_audience';
	return 'invalid';
}
