/**
 * `npm run bench:start`: seconds from spawning the server on an empty database to a ready
 * /healthz, seed included (target: under 30 s). Runs on a fresh PGlite directory, then on a
 * fresh PostgreSQL database (DATABASE_URL's server, or 127.0.0.1 by default; skipped when
 * unreachable). Prints the figures; asserts nothing.
 *
 *   npm run bench:start [-- --runs 3] [-- --pglite-only]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '1' }, 'pglite-only': { type: 'boolean', default: false } } });
const runs = Math.max(1, Number(values.runs));
const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const TIMEOUT_MS = 120_000;

interface StartResult {
	readySeconds: number;
	seedMs: number | null;
	/** user + system CPU seconds of the server process until ready (Linux), for a loaded machine. */
	cpuSeconds: number | null;
}

/** utime + stime of a process from /proc (clock ticks are 100 Hz on Linux). */
function cpuSecondsOf(pid: number | undefined): number | null {
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
		const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		return (Number(fields[11]) + Number(fields[12])) / 100;
	} catch {
		return null;
	}
}

function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const srv = createServer();
		srv.listen(0, '127.0.0.1', () => {
			const port = (srv.address() as { port: number }).port;
			srv.close(() => resolve(port));
		});
		srv.on('error', reject);
	});
}

async function ensureBuild(): Promise<void> {
	await new Promise<void>((resolve, reject) => {
		const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/ensure-build.ts'], { stdio: 'inherit' });
		child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ensure-build exited with ${code}`))));
	});
}

/** Spawns server/main.ts as `npm start` does and polls /healthz until it answers 200. */
async function timeStart(env: Record<string, string | undefined>): Promise<StartResult> {
	const port = await freePort();
	const childEnv: Record<string, string | undefined> = { ...process.env, TSUNAGU_MODE: 'demo', HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', ...env };
	for (const key of Object.keys(childEnv)) if (childEnv[key] === undefined) delete childEnv[key];
	const started = performance.now();
	const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
		env: childEnv,
		stdio: ['ignore', 'pipe', 'pipe']
	});
	let seedMs: number | null = null;
	let output = '';
	child.stdout.on('data', (chunk: Buffer) => {
		output += chunk.toString();
		const m = /"ms":(\d+)[^\n]*"msg":"demo data seeded"/.exec(output);
		if (m) seedMs = Number(m[1]);
	});
	child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
	const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
	try {
		for (;;) {
			if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${output.slice(-2000)}`);
			if (performance.now() - started > TIMEOUT_MS) throw new Error(`not ready after ${TIMEOUT_MS / 1000}s:\n${output.slice(-2000)}`);
			try {
				const res = await fetch(`http://127.0.0.1:${port}/healthz`);
				if (res.ok) break;
			} catch {
				// not listening yet
			}
			await new Promise((r) => setTimeout(r, 50));
		}
		const readySeconds = (performance.now() - started) / 1000;
		const cpuSeconds = cpuSecondsOf(child.pid);
		if (seedMs === null) throw new Error(`ready, but the log does not show the demo seed:\n${output.slice(-2000)}`);
		return { readySeconds, seedMs, cpuSeconds };
	} finally {
		child.kill('SIGTERM');
		await exited;
	}
}

function describeRun(r: StartResult): string {
	const cpu = r.cpuSeconds === null ? '' : `, server CPU ${r.cpuSeconds.toFixed(2)} s`;
	return `ready in ${r.readySeconds.toFixed(2)} s (seed ${((r.seedMs ?? 0) / 1000).toFixed(2)} s${cpu}; load average ${loadavg()[0].toFixed(1)})`;
}

async function benchPglite(): Promise<void> {
	for (let i = 1; i <= runs; i++) {
		const dir = mkdtempSync(join(tmpdir(), 'tsunagu-bench-'));
		try {
			const r = await timeStart({ PGLITE_DIR: join(dir, 'pglite'), DATABASE_URL: undefined });
			console.log(`pglite    run ${i}: ${describeRun(r)}`);
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	}
}

async function admin(query: string): Promise<void> {
	const url = new URL(serverUrl);
	url.pathname = '/postgres';
	const client = new pg.Client({ connectionString: url.toString() });
	await client.connect();
	try {
		await client.query(query);
	} finally {
		await client.end();
	}
}

async function benchPostgres(): Promise<void> {
	try {
		await admin('select 1');
	} catch {
		console.log(`postgres  skipped: no server at ${new URL(serverUrl).host}`);
		return;
	}
	for (let i = 1; i <= runs; i++) {
		const name = `tsunagu_bench_${randomBytes(5).toString('hex')}`;
		await admin(`create database ${name}`);
		try {
			const url = new URL(serverUrl);
			url.pathname = `/${name}`;
			const r = await timeStart({ DATABASE_URL: url.toString() });
			console.log(`postgres  run ${i}: ${describeRun(r)}`);
		} finally {
			await admin(`drop database if exists ${name} with (force)`);
		}
	}
}

await ensureBuild();
console.log('npm start on an empty database → ready /healthz (seed included; target < 30 s)');
await benchPglite();
if (!values['pglite-only']) await benchPostgres();
