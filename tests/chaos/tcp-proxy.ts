/**
 * A tiny TCP proxy in front of PostgreSQL for the chaos run. `stall()` makes the path behave
 * like a black hole: connections are still accepted, but nothing is forwarded either way and
 * bytes already in flight are dropped — the sockets stay open, as behind a dead NAT or a frozen
 * VM. `resume()` forwards again for new connections; the stalled ones stay dead (as in real
 * life) until the client gives up on them.
 */
import net from 'node:net';

export interface TcpProxy {
	port: number;
	stall(): void;
	resume(): void;
	close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
	let stalled = false;
	const live = new Set<{ client: net.Socket; upstream: net.Socket | null; dead: boolean }>();
	const server = net.createServer((client) => {
		const link = { client, upstream: null as net.Socket | null, dead: stalled };
		live.add(link);
		client.on('error', () => {});
		client.on('close', () => {
			live.delete(link);
			link.upstream?.destroy();
		});
		if (link.dead) return; // accepted, never answered
		const upstream = net.connect(target.port, target.host);
		link.upstream = upstream;
		upstream.on('error', () => client.destroy());
		upstream.on('close', () => {
			if (!link.dead) client.destroy();
		});
		client.on('data', (chunk) => {
			if (!link.dead) upstream.write(chunk);
		});
		upstream.on('data', (chunk) => {
			if (!link.dead) client.write(chunk);
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	return {
		port: (server.address() as net.AddressInfo).port,
		stall() {
			stalled = true;
			for (const link of live) link.dead = true;
		},
		resume() {
			stalled = false;
		},
		close: () =>
			new Promise<void>((resolve) => {
				for (const link of live) {
					link.client.destroy();
					link.upstream?.destroy();
				}
				server.close(() => resolve());
			})
	};
}
