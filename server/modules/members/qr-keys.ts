/**
 * The member QR signing key. Production reads MEMBER_QR_PRIVATE_KEY (Ed25519, PKCS#8 PEM);
 * demo and test use the fixed key below so restarts and several processes agree. The public
 * half is published as a JWK set for the tablets, which verify codes offline.
 */
import { createPrivateKey, createPublicKey, randomUUID, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, CompactSign, exportJWK, type JWK } from 'jose';
import { MEMBER_QR_ISSUER, MEMBER_QR_TTL_SECONDS, MEMBER_QR_TYP, type MemberQrClaims, type MemberQrKeySet } from '../../shared/member-qr.ts';

/** DEMO ONLY — committed on purpose so demo servers agree; production refuses to start without its own key. */
export const DEMO_MEMBER_QR_PRIVATE_KEY = `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIDbVPp6r3MTqlcUG5MBPWblxndb2Fu5XUP/u8ILD26a5
-----END PRIVATE KEY-----`;

export interface MemberQrSigner {
	kid: string;
	privateKey: KeyObject;
	publicJwk: JWK & { kid: string; alg: 'EdDSA'; use: 'sig' };
}

const signers = new Map<string, Promise<MemberQrSigner>>();

/** One signer per key (memoised: importing and thumbprinting per request would be waste). */
export function memberQrSigner(privateKeyPem: string | undefined): Promise<MemberQrSigner> {
	const pem = privateKeyPem?.trim() || DEMO_MEMBER_QR_PRIVATE_KEY;
	let signer = signers.get(pem);
	if (!signer) {
		signer = buildSigner(pem);
		signers.set(pem, signer);
	}
	return signer;
}

async function buildSigner(pem: string): Promise<MemberQrSigner> {
	const privateKey = createPrivateKey({ key: pem, format: 'pem' });
	if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error('MEMBER_QR_PRIVATE_KEY must be an Ed25519 key');
	const jwk = await exportJWK(createPublicKey(privateKey));
	const kid = (await calculateJwkThumbprint(jwk)).slice(0, 16);
	return { kid, privateKey, publicJwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, kid, alg: 'EdDSA', use: 'sig' } };
}

export function publicKeySet(signer: MemberQrSigner): MemberQrKeySet {
	return [signer.publicJwk];
}

export interface MintedMemberQr {
	token: string;
	issuedAt: number;
	expiresAt: number;
}

export async function mintMemberQr(
	signer: MemberQrSigner,
	member: { customerId: string; memberNo: string },
	nowMs = Date.now()
): Promise<MintedMemberQr> {
	const iat = Math.floor(nowMs / 1000);
	const claims: MemberQrClaims = {
		iss: MEMBER_QR_ISSUER,
		mno: member.memberNo,
		cid: member.customerId,
		iat,
		exp: iat + MEMBER_QR_TTL_SECONDS,
		// short random id: keeps the QR small while making every code distinct
		jti: randomUUID().slice(0, 8)
	};
	const token = await new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
		.setProtectedHeader({ alg: 'EdDSA', kid: signer.kid, typ: MEMBER_QR_TYP })
		.sign(signer.privateKey);
	return { token, issuedAt: iat, expiresAt: claims.exp };
}
