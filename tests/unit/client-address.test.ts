import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { loadConfig, ConfigError } from '../../server/config.ts';
import { clientAddress, parseTrustProxy, type TrustProxy } from '../../server/http/client-address.ts';

/** The address the app would see for a request from `socket` with this X-Forwarded-For. */
async function seen(trust: TrustProxy, socket: string | undefined, forwarded?: string): Promise<string> {
	const app = new Hono().get('/', (c) => c.text(clientAddress(c, trust)));
	const res = await app.request('/', { headers: forwarded ? { 'x-forwarded-for': forwarded } : {} }, socket ? { incoming: { socket: { remoteAddress: socket } } } : undefined);
	return res.text();
}

describe('TRUST_PROXY', () => {
	it('parses none, hop counts and CIDR lists, and refuses anything else', () => {
		expect(parseTrustProxy(undefined)).toEqual({ kind: 'none' });
		expect(parseTrustProxy('false')).toEqual({ kind: 'none' });
		expect(parseTrustProxy('0')).toEqual({ kind: 'none' });
		expect(parseTrustProxy('2')).toEqual({ kind: 'hops', hops: 2 });
		expect(parseTrustProxy('10.0.0.0/8, fd00::/8,192.0.2.1')).toEqual({ kind: 'cidrs', cidrs: ['10.0.0.0/8', 'fd00::/8', '192.0.2.1'] });
		for (const bad of ['true', '10.0.0.0/33', 'proxy.local', '10.0.0.0/x']) expect(() => parseTrustProxy(bad)).toThrow(/TRUST_PROXY/);
		expect(() => loadConfig({ TSUNAGU_MODE: 'test', TRUST_PROXY: 'yes' })).toThrow(ConfigError);
		expect(loadConfig({ TSUNAGU_MODE: 'test' }).trustProxy).toEqual({ kind: 'none' });
	});

	it('uses the socket address by default, whatever X-Forwarded-For says', async () => {
		expect(await seen({ kind: 'none' }, '198.51.100.7', '1.2.3.4')).toBe('198.51.100.7');
		expect(await seen({ kind: 'none' }, '::ffff:198.51.100.7')).toBe('198.51.100.7');
		expect(await seen({ kind: 'none' }, undefined, '1.2.3.4')).toBe('local');
	});

	it('skips the trusted hops from the right', async () => {
		expect(await seen({ kind: 'hops', hops: 1 }, '10.0.0.2', '203.0.113.9')).toBe('203.0.113.9');
		// a client prepending its own hops does not move the answer
		expect(await seen({ kind: 'hops', hops: 1 }, '10.0.0.2', '1.1.1.1, 203.0.113.9')).toBe('203.0.113.9');
		expect(await seen({ kind: 'hops', hops: 2 }, '10.0.0.2', '1.1.1.1, 203.0.113.9, 10.0.0.3')).toBe('203.0.113.9');
		// fewer hops than configured: the farthest one known
		expect(await seen({ kind: 'hops', hops: 3 }, '10.0.0.2', '203.0.113.9')).toBe('203.0.113.9');
	});

	it('with CIDRs, takes the first address from the right outside the trusted networks', async () => {
		const trust = parseTrustProxy('10.0.0.0/8,fd00::/8');
		expect(await seen(trust, '10.0.0.2', '1.1.1.1, 203.0.113.9, 10.1.2.3')).toBe('203.0.113.9');
		expect(await seen(trust, 'fd00::1', '2001:db8::5')).toBe('2001:db8::5');
		// a request that reaches the server directly is its own client, header or not
		expect(await seen(trust, '198.51.100.7', '1.1.1.1')).toBe('198.51.100.7');
	});
});

describe('ENROLLMENT_CODE_REQUIRED', () => {
	it('defaults to off outside production and can be switched', () => {
		expect(loadConfig({ TSUNAGU_MODE: 'test' }).enrollmentCodeRequired).toBe(false);
		expect(loadConfig({ TSUNAGU_MODE: 'test', ENROLLMENT_CODE_REQUIRED: 'true' }).enrollmentCodeRequired).toBe(true);
	});
});
