import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEMO_MEMBER_QR_PRIVATE_KEY, memberQrSigner, mintMemberQr, publicKeySet } from '../../server/modules/members/qr-keys.ts';
import { MEMBER_QR_TTL_SECONDS, verifyMemberQr } from '../../server/shared/member-qr.ts';

const member = { customerId: '00000000-0000-4000-8000-000000000001', memberNo: '1000000001' };
const otherBrandPem = () => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

describe('member QR signing and verification', () => {
	it('round-trips: the public key set verifies a fresh code and yields the member', async () => {
		const signer = await memberQrSigner(undefined);
		const { token, expiresAt, issuedAt } = await mintMemberQr(signer, member);
		expect(expiresAt - issuedAt).toBe(MEMBER_QR_TTL_SECONDS);
		const result = await verifyMemberQr(token, publicKeySet(signer));
		expect(result).toMatchObject({ ok: true, claims: { mno: '1000000001', cid: member.customerId, iss: 'tsunagu' } });
		// the QR carries a signed token, never just the member id
		expect(token.split('.')).toHaveLength(3);
	});

	it('uses the same demo key in every process and publishes only the public half', async () => {
		const a = await memberQrSigner(undefined);
		const b = await memberQrSigner(DEMO_MEMBER_QR_PRIVATE_KEY);
		expect(a.kid).toBe(b.kid);
		expect(publicKeySet(a)[0]).toEqual({ kty: 'OKP', crv: 'Ed25519', x: expect.any(String), kid: a.kid, alg: 'EdDSA', use: 'sig' });
		expect(publicKeySet(a)[0]).not.toHaveProperty('d');
	});

	it('mints a different code on every rotation', async () => {
		const signer = await memberQrSigner(undefined);
		const one = await mintMemberQr(signer, member);
		const two = await mintMemberQr(signer, member);
		expect(one.token).not.toBe(two.token);
	});

	it("rejects a code from another brand's key as unknown_key", async () => {
		const other = await memberQrSigner(otherBrandPem());
		const { token } = await mintMemberQr(other, member);
		const ours = await memberQrSigner(undefined);
		expect(await verifyMemberQr(token, publicKeySet(ours))).toEqual({ ok: false, reason: 'unknown_key' });
	});

	it('rejects a forged code that claims our kid as bad_signature', async () => {
		const ours = await memberQrSigner(undefined);
		const forger = await memberQrSigner(otherBrandPem());
		const { token } = await mintMemberQr({ ...forger, kid: ours.kid }, member);
		expect(await verifyMemberQr(token, publicKeySet(ours))).toEqual({ ok: false, reason: 'bad_signature' });
	});

	it('rejects a tampered payload (member number changed) as bad_signature', async () => {
		const signer = await memberQrSigner(undefined);
		const { token } = await mintMemberQr(signer, member);
		const [h, p, s] = token.split('.');
		const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
		const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, mno: '1000000002' })).toString('base64url')}.${s}`;
		expect(await verifyMemberQr(forged, publicKeySet(signer))).toEqual({ ok: false, reason: 'bad_signature' });
	});

	it('rejects a replayed old code (past its 5 minutes) as expired', async () => {
		const signer = await memberQrSigner(undefined);
		const issued = Date.now() - (MEMBER_QR_TTL_SECONDS + 60) * 1000;
		const { token } = await mintMemberQr(signer, member, issued);
		expect(await verifyMemberQr(token, publicKeySet(signer))).toEqual({ ok: false, reason: 'expired' });
		// the same code was fine while fresh
		expect((await verifyMemberQr(token, publicKeySet(signer), issued + 1000)).ok).toBe(true);
	});

	it('rejects a code dated in the future as not_yet_valid', async () => {
		const signer = await memberQrSigner(undefined);
		const { token } = await mintMemberQr(signer, member, Date.now() + 10 * 60 * 1000);
		expect(await verifyMemberQr(token, publicKeySet(signer))).toEqual({ ok: false, reason: 'not_yet_valid' });
	});

	it('rejects malformed input as malformed', async () => {
		const keys = publicKeySet(await memberQrSigner(undefined));
		for (const bad of ['', 'hello', '1000000001', 'a.b.c', 'eyJhbGciOiJIUzI1NiJ9.e30.x']) {
			expect(await verifyMemberQr(bad, keys)).toEqual({ ok: false, reason: 'malformed' });
		}
	});

	it('refuses a non-Ed25519 key at start', async () => {
		const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
		await expect(memberQrSigner(rsa)).rejects.toThrow(/Ed25519/);
	});
});
