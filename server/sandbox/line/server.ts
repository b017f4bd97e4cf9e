/**
 * Runs the LINE sandbox as its own HTTP server (demo and test modes only). In tests it binds
 * port 0 and reports the port it got; the server is unref'd so a forgotten close never keeps a
 * test process alive.
 */
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { linePlatformApp, type LinePlatformOptions } from './platform.ts';
import { LineSandboxState } from './state.ts';

export interface RunningLineSandbox {
	url: string;
	port: number;
	state: LineSandboxState;
	close(): Promise<void>;
}

export interface StartLineSandboxOptions extends Omit<LinePlatformOptions, 'state'> {
	port: number;
	host?: string;
}

export async function startLineSandbox(opts: StartLineSandboxOptions): Promise<RunningLineSandbox> {
	const state = new LineSandboxState();
	const app = linePlatformApp({ ...opts, state });
	const host = opts.host ?? '127.0.0.1';
	const server = await listen(app.fetch, opts.port, host).catch((err: NodeJS.ErrnoException) => {
		// Another demo process already holds PORT+1: a free port works just as well.
		if (err.code === 'EADDRINUSE' && opts.port !== 0) return listen(app.fetch, 0, host);
		throw err;
	});
	const port = (server.address() as AddressInfo).port;
	return {
		url: `http://127.0.0.1:${port}`,
		port,
		state,
		close: () => new Promise<void>((resolve) => server.close(() => resolve()))
	};
}

function listen(fetch: (req: Request) => Response | Promise<Response>, port: number, hostname: string): Promise<ServerType> {
	return new Promise((resolve, reject) => {
		const server = serve({ fetch, port, hostname });
		server.once('error', reject);
		server.once('listening', () => {
			server.off('error', reject);
			server.unref();
			resolve(server);
		});
	});
}
