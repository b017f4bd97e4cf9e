/**
 * Which address a request comes from — the one place that decides it. By default the
 * socket's peer address: X-Forwarded-For is written by whoever sends the request, so
 * trusting it without a proxy in front lets a client pick a new address per request and
 * walk past every per-address limit. With TRUST_PROXY, the header is read from the right:
 * - a hop count N: the proxies are the last N hops (socket included); the address before them is the client's;
 * - CIDRs: hops inside those networks are proxies; the first address from the right outside them is the client's.
 */
import { BlockList, isIP } from 'node:net';
import type { Context } from 'hono';

export type TrustProxy = { kind: 'none' } | { kind: 'hops'; hops: number } | { kind: 'cidrs'; cidrs: string[] };

/** Parses TRUST_PROXY: unset/false/0 → none; a whole number → hops; a comma list of CIDRs (or bare addresses). */
export function parseTrustProxy(raw: string | undefined): TrustProxy {
	const value = (raw ?? '').trim();
	if (value === '' || value === 'false' || value === '0') return { kind: 'none' };
	if (/^\d+$/.test(value)) return { kind: 'hops', hops: Number(value) };
	const cidrs = value.split(',').map((s) => s.trim()).filter(Boolean);
	for (const cidr of cidrs) {
		if (!parseCidr(cidr)) throw new Error(`TRUST_PROXY: "${cidr}" is not a hop count, an IP address or a CIDR (e.g. 10.0.0.0/8)`);
	}
	return { kind: 'cidrs', cidrs };
}

function parseCidr(cidr: string): { network: string; prefix: number; family: 'ipv4' | 'ipv6' } | null {
	const [address, prefixText] = cidr.split('/');
	const version = isIP(address);
	if (version === 0) return null;
	const max = version === 4 ? 32 : 128;
	const prefix = prefixText === undefined ? max : Number(prefixText);
	if (!Number.isInteger(prefix) || prefix < 0 || prefix > max || (prefixText !== undefined && !/^\d+$/.test(prefixText))) return null;
	return { network: address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

const blockLists = new Map<string, BlockList>();
function trustedNetworks(cidrs: string[]): BlockList {
	const cacheKey = cidrs.join(',');
	let list = blockLists.get(cacheKey);
	if (!list) {
		list = new BlockList();
		for (const cidr of cidrs) {
			const parsed = parseCidr(cidr)!;
			list.addSubnet(parsed.network, parsed.prefix, parsed.family);
		}
		blockLists.set(cacheKey, list);
	}
	return list;
}

/** `::ffff:10.0.0.1` (IPv4 on a dual-stack socket) → `10.0.0.1`; anything else as it is. */
function normalize(address: string): string {
	const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
	return mapped ? mapped[1] : address;
}

function isTrusted(list: BlockList, address: string): boolean {
	const version = isIP(address);
	if (version === 0) return false;
	return list.check(address, version === 4 ? 'ipv4' : 'ipv6');
}

/** The peer address of the TCP connection (Node server); 'local' for in-process requests (tests). */
export function socketAddress(c: Context<any>): string {
	const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
	const address = incoming?.socket?.remoteAddress;
	return address ? normalize(address) : 'local';
}

/** The client's address under the TRUST_PROXY setting. */
export function clientAddress(c: Context<any>, trust: TrustProxy): string {
	const socket = socketAddress(c);
	if (trust.kind === 'none') return socket;
	const forwarded = (c.req.header('x-forwarded-for') ?? '')
		.split(',')
		.map((s) => normalize(s.trim()))
		.filter(Boolean);
	// nearest hop last: [client?, proxy1, proxy2, …, socket peer]
	const chain = [...forwarded, socket];
	if (trust.kind === 'hops') {
		return chain[Math.max(0, chain.length - 1 - trust.hops)];
	}
	const list = trustedNetworks(trust.cidrs);
	for (let i = chain.length - 1; i >= 0; i--) {
		if (!isTrusted(list, chain[i])) return chain[i];
	}
	// every hop is a trusted proxy: the farthest one is all we know
	return chain[0];
}
