/**
 * The shared rate limiter (rate_limits): token bucket, refill, lockouts that double per
 * strike and are forgotten later, the sweep of expired keys — and on PostgreSQL, two
 * processes on one database allowing exactly the limit between them, not twice it.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { giveBack, lockedFor, sweepExpired, take, type LimitPolicy } from '../../server/modules/ratelimit/rate-limit.service.ts';
import { createTestDatabase, testDbKinds, type TestDatabase } from '../helpers/db.ts';

/** Starts the child; resolves `ready` once it is connected, and `done` with its count. */
function startChild(args: string[]) {
	const child = spawn(process.execPath, ['--import', 'tsx', ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
	let out = '';
	let markReady: () => void;
	const ready = new Promise<void>((resolve) => (markReady = resolve));
	const done = new Promise<number>((resolve, reject) => {
		child.stdout.on('data', (chunk: Buffer) => {
			out += chunk.toString();
			if (out.includes('ready\n')) markReady();
		});
		child.on('error', reject);
		child.on('exit', (code) => {
			if (code !== 0) return reject(new Error(`child exited with ${code}`));
			const last = out.trim().split('\n').at(-1)!;
			resolve((JSON.parse(last) as { allowed: number }).allowed);
		});
	});
	return { ready, done, go: () => child.stdin.end('go\n') };
}

describe.each(testDbKinds())('shared rate limits on %s', (kind) => {
	let database: TestDatabase;
	const db = () => database.db;
	/** Moves a key's clock back, as if `seconds` had passed. */
	const age = (key: string, seconds: number) =>
		db()
			.updateTable('rate_limits')
			.set({
				updated_at: sql`updated_at - make_interval(secs => ${seconds})`,
				locked_until: sql`locked_until - make_interval(secs => ${seconds})`,
				expires_at: sql`expires_at - make_interval(secs => ${seconds})`
			})
			.where('key', '=', key)
			.execute();

	beforeAll(async () => {
		database = await createTestDatabase(kind);
	}, 300_000);
	afterAll(async () => database?.dispose());

	it('allows the capacity, refuses the next with a retry time, and refills with time', async () => {
		const policy: LimitPolicy = { name: 'test.bucket', capacity: 3, refillPerSecond: 0.5 };
		const results = [];
		for (let i = 0; i < 4; i++) results.push(await take(db(), policy, 'k'));
		expect(results.map((r) => r.allowed)).toEqual([true, true, true, false]);
		expect(results[3].retryAfterSeconds).toBe(2);
		await age('test.bucket:k', 2);
		expect((await take(db(), policy, 'k')).allowed).toBe(true);
		expect((await take(db(), policy, 'k')).allowed).toBe(false);
		// another key has its own bucket
		expect((await take(db(), policy, 'other')).allowed).toBe(true);
	});

	it('takes concurrent requests one at a time: exactly the capacity passes', async () => {
		const policy: LimitPolicy = { name: 'test.concurrent', capacity: 10, refillPerSecond: 1 / 3600 };
		const results = await Promise.all(Array.from({ length: 25 }, () => take(db(), policy, 'k')));
		expect(results.filter((r) => r.allowed)).toHaveLength(10);
	});

	it('locks when the bucket runs dry, doubles the lockout per strike, and forgets it after the decay', async () => {
		const policy: LimitPolicy = {
			name: 'test.lock',
			capacity: 2,
			refillPerSecond: 1 / 60,
			lockout: { baseSeconds: 100, maxSeconds: 300, decaySeconds: 1000 }
		};
		const key = 'test.lock:k';
		expect((await take(db(), policy, 'k')).lockedNow).toBe(false);
		const second = await take(db(), policy, 'k');
		expect(second).toMatchObject({ allowed: true, lockedNow: true, strikes: 1 });
		const refused = await take(db(), policy, 'k');
		expect(refused.allowed).toBe(false);
		expect(refused.retryAfterSeconds).toBeGreaterThan(95);
		expect(await lockedFor(db(), policy, ['k', 'nobody'])).toBeGreaterThan(95);

		await age(key, 101);
		expect(await lockedFor(db(), policy, ['k'])).toBeNull();
		await take(db(), policy, 'k');
		const again = await take(db(), policy, 'k');
		expect(again).toMatchObject({ lockedNow: true, strikes: 2 });
		expect(Math.round((again.lockedUntil!.getTime() - Date.now()) / 1000)).toBeGreaterThan(195);

		await age(key, 201);
		await take(db(), policy, 'k');
		const third = await take(db(), policy, 'k');
		// capped at maxSeconds
		expect(Math.round((third.lockedUntil!.getTime() - Date.now()) / 1000)).toBeLessThanOrEqual(300);
		expect(third.strikes).toBe(3);

		// long after the last lockout the strikes start again from the base
		await age(key, 300 + 1001);
		await take(db(), policy, 'k');
		const fresh = await take(db(), policy, 'k');
		expect(fresh.strikes).toBe(1);
		expect(Math.round((fresh.lockedUntil!.getTime() - Date.now()) / 1000)).toBeLessThanOrEqual(100);
	});

	it('gives a token back for a success, but not during a lockout', async () => {
		const policy: LimitPolicy = { name: 'test.refund', capacity: 2, refillPerSecond: 1 / 3600, lockout: { baseSeconds: 60, maxSeconds: 60 } };
		await take(db(), policy, 'k');
		await giveBack(db(), policy, 'k');
		expect((await take(db(), policy, 'k')).lockedNow).toBe(false);
		expect((await take(db(), policy, 'k')).lockedNow).toBe(true);
		await giveBack(db(), policy, 'k');
		expect((await take(db(), policy, 'k')).allowed).toBe(false);
	});

	it('sweeps keys that expired (full again and no lockout to remember)', async () => {
		const policy: LimitPolicy = { name: 'test.sweep', capacity: 5, refillPerSecond: 1 };
		await take(db(), policy, 'old');
		await take(db(), policy, 'new');
		await age('test.sweep:old', 10);
		await sweepExpired(db());
		const keys = (await db().selectFrom('rate_limits').select('key').where('key', 'like', 'test.sweep:%').execute()).map((r) => r.key);
		expect(keys).toEqual(['test.sweep:new']);
	});

	it.runIf(kind === 'postgres')(
		'two processes on one database allow exactly the limit between them, not twice it',
		async () => {
			const script = new URL('../helpers/rate-limit-child.ts', import.meta.url).pathname;
			const children = [1, 2].map(() => startChild([script, database.url!, 'shared', '40']));
			await Promise.all(children.map((c) => c.ready));
			for (const c of children) c.go();
			const allowed = await Promise.all(children.map((c) => c.done));
			// each process tries 40 times: limits kept per process would allow 30 + 30; a shared
			// one allows 30 in all, however the attempts interleave (one process may even get them all)
			expect(allowed[0] + allowed[1]).toBe(30);
		},
		180_000
	);
});
