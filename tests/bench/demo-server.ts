/**
 * The e2e demo server (tests/e2e/server.ts) in a child process for the tablet benches: in-memory
 * PGlite, since those figures are about the tablet, not the database.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export async function startDemoServer(port: number): Promise<ChildProcess> {
	const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), E2E_PORT: String(port), LOG_LEVEL: 'warn' };
	delete env.DATABASE_URL;
	const child = spawn(process.execPath, ['--import', 'tsx', 'tests/e2e/server.ts'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
	const deadline = Date.now() + 180_000;
	while (Date.now() < deadline) {
		try {
			if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return child;
		} catch {
			// not listening yet
		}
		await new Promise((r) => setTimeout(r, 500));
	}
	child.kill();
	throw new Error('the demo server did not come up');
}
