/** rate_limits: Kysely only. One row per limited key; every change is one atomic statement. */
import { sql } from 'kysely';
import type { DbOrTrx } from '../../db/index.ts';
import { escapeLike } from '../../db/like.ts';

export interface BucketParams {
	key: string;
	capacity: number;
	refillPerSecond: number;
	/** 0 = a plain token bucket; otherwise the first lockout, doubled per strike up to lockMaxSeconds. */
	lockBaseSeconds: number;
	lockMaxSeconds: number;
	/** A lockout is forgotten (strikes back to 0) this long after it ended. */
	decaySeconds: number;
	/** The row is garbage after this long without use (a full bucket and a forgotten lockout). */
	ttlSeconds: number;
}

export interface BucketRow {
	allowed: boolean;
	tokens: number;
	locked_until: Date | null;
	strikes: number;
	locked_now: boolean;
}

/**
 * Takes one token for `key`, creating the bucket full on first use. While a lockout runs,
 * nothing changes and the answer is "no". When the token taken leaves less than one and the
 * policy has lockouts, the key is locked for base × 2^strikes (capped) and starts a fresh
 * bucket after it. All of it in one upsert, so concurrent callers in any process serialize
 * on the row and never exceed the limit together.
 */
export async function takeToken(db: DbOrTrx, p: BucketParams): Promise<BucketRow> {
	const cap = sql`${p.capacity}::float8`;
	const refill = sql`least(${cap}, r.tokens + extract(epoch from (now() - r.updated_at)) * ${p.refillPerSecond}::float8)`;
	const lockedBefore = sql`(r.locked_until is not null and r.locked_until > now())`;
	const locks = sql`(${p.lockBaseSeconds}::float8 > 0)`;
	const allowed = sql`(not ${lockedBefore} and ${refill} >= 1)`;
	const lockNow = sql`(${allowed} and ${locks} and ${refill} - 1 < 1)`;
	const strikes = sql`(case when r.locked_until is null or r.locked_until < now() - make_interval(secs => ${p.decaySeconds}::float8) then 0 else r.strikes end)`;
	const lockSeconds = sql`least(${p.lockMaxSeconds}::float8, ${p.lockBaseSeconds}::float8 * power(2, ${strikes}))`;
	const result = await sql<BucketRow>`
		insert into rate_limits as r (key, tokens, updated_at, locked_until, strikes, last_allowed, expires_at)
		values (${p.key}, ${cap} - 1, now(), null, 0, true, now() + make_interval(secs => ${p.ttlSeconds}::float8))
		on conflict (key) do update set
			tokens = case when ${lockedBefore} then r.tokens when ${lockNow} then ${cap} when ${allowed} then ${refill} - 1 else ${refill} end,
			updated_at = case when ${lockedBefore} then r.updated_at else now() end,
			strikes = case when ${lockNow} then ${strikes} + 1 else r.strikes end,
			locked_until = case when ${lockNow} then now() + make_interval(secs => ${lockSeconds}) else r.locked_until end,
			last_allowed = ${allowed},
			expires_at = greatest(r.expires_at, now() + make_interval(secs => ${p.ttlSeconds}::float8))
		returning last_allowed as allowed, tokens, locked_until, strikes,
			(last_allowed and locked_until is not null and locked_until > now()) as locked_now`.execute(db);
	return result.rows[0];
}

/** Gives one token back (up to the capacity) unless the key is locked. */
export async function returnToken(db: DbOrTrx, key: string, capacity: number): Promise<void> {
	await db
		.updateTable('rate_limits')
		.set({ tokens: sql`least(${capacity}::float8, tokens + 1)` })
		.where('key', '=', key)
		.where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', sql<Date>`now()`)]))
		.execute();
}

/** The running lockouts among these keys (without taking anything). */
export async function lockedKeys(db: DbOrTrx, keys: string[]): Promise<Array<{ key: string; locked_until: Date }>> {
	if (keys.length === 0) return [];
	const rows = await db
		.selectFrom('rate_limits')
		.select(['key', 'locked_until'])
		.where('key', 'in', keys)
		.where('locked_until', '>', sql<Date>`now()`)
		.execute();
	return rows.map((r) => ({ key: r.key, locked_until: r.locked_until! }));
}

/** Deletes up to `limit` expired rows; returns how many went. */
export async function deleteExpired(db: DbOrTrx, limit: number): Promise<number> {
	const result = await db
		.deleteFrom('rate_limits')
		.where('key', 'in', (eb) =>
			eb.selectFrom('rate_limits').select('key').where('expires_at', '<', sql<Date>`now()`).limit(limit)
		)
		.executeTakeFirst();
	return Number(result.numDeletedRows);
}

/** Clears the keys (an admin unlock, and tests). */
export async function deleteKeys(db: DbOrTrx, keys: string[]): Promise<void> {
	if (keys.length === 0) return;
	await db.deleteFrom('rate_limits').where('key', 'in', keys).execute();
}

/** Erasure: buckets keyed by the person's LINE user id (`member.user:U…`, `member.link_failures:line:U…`). */
export async function deleteKeysMentioning(db: DbOrTrx, values: string[]): Promise<number> {
	const needles = values.filter((v) => v.length >= 6);
	if (needles.length === 0) return 0;
	let deleted = 0;
	for (const n of needles) {
		const rows = await db.deleteFrom('rate_limits').where('key', 'like', `%${escapeLike(n)}%`).returning('key').execute();
		deleted += rows.length;
	}
	return deleted;
}
