import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, testDbKinds, type TestDatabase } from '../helpers/db.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const FIXTURES = join(ROOT, 'tests/fixtures/csv');

function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, ['--import', 'tsx', 'server/cli/import.ts', ...args], {
			cwd: ROOT,
			env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent', ...env },
			stdio: ['ignore', 'pipe', 'pipe']
		});
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', (d) => (stdout += d));
		child.stderr.on('data', (d) => (stderr += d));
		child.on('error', reject);
		child.on('close', (code) => resolve({ code, stdout, stderr }));
	});
}

describe.each(testDbKinds())('npm run import on %s', (kind) => {
	let tmp: string;
	let tdb: TestDatabase | undefined;
	let env: Record<string, string>;
	beforeAll(async () => {
		tmp = await mkdtemp(join(tmpdir(), 'tsunagu-import-cli-'));
		if (kind === 'postgres') {
			tdb = await createTestDatabase('postgres', { migrate: false });
			env = { DATABASE_URL: tdb.url! };
		} else {
			env = { PGLITE_DIR: join(tmp, 'pglite') };
		}
	});
	afterAll(async () => {
		await tdb?.dispose();
		await rm(tmp, { recursive: true, force: true });
	});

	it('exits 2 on a file it cannot read, and on a bad kind', async () => {
		const missing = await runCli(['pos', join(tmp, 'nope.csv')], env);
		expect(missing.code).toBe(2);
		expect(missing.stderr).toMatch(/cannot read/);
		expect((await runCli(['receipts', join(FIXTURES, 'pos.csv')], env)).code).toBe(2);
	});

	it('exits 1 when every row is bad, listing them with line numbers in the summary and the errors file', async () => {
		// a fresh database has no stores: every POS line names an unknown store
		const errors = join(tmp, 'pos.errors.csv');
		const r = await runCli(['pos', join(FIXTURES, 'pos.csv'), '--errors', errors], env);
		expect(r.code).toBe(1);
		expect(r.stdout).toContain('rows read: 5, loaded: 0, bad: 5');
		expect(r.stdout).toContain('line 2: unknown store_code "shibuya"');
		expect((await readFile(errors, 'utf8')).trim().split('\n')).toHaveLength(6);
	});

	it('exits 0 and prints a JSON summary when rows load', async () => {
		const r = await runCli(['products', join(FIXTURES, 'products.csv'), '--json'], env);
		expect(r.code).toBe(0);
		expect(JSON.parse(r.stdout.trim())).toMatchObject({ kind: 'products', rowsOk: 3, rowsBad: 0, counts: { products_new: 3 } });
	});
}, 240_000); // each test spawns the CLI, which on PGlite first creates and migrates the database: slow on a loaded 2-core machine
