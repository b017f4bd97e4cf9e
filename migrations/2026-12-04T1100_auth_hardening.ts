/**
 * Issue 13 (auth): shared rate limits, session generations, enrollment codes, and an index
 * for the security part of the audit log.
 * - `rate_limits`: one row per limited key (token bucket + growing lockout). Every process
 *   updates the same row in one atomic upsert, so N processes enforce one limit. UNLOGGED:
 *   a check is a write on a hot path (the member card), and without WAL it costs about half
 *   as much; after a database crash or failover the buckets start full again, which is fine.
 * - `staff.session_generation`: a session token carries the generation it was issued under;
 *   bumping it (PIN change/reset) ends every earlier session of that person at once.
 * - `enrollment_codes`: one-time codes a manager/admin issues for enrolling a tablet (hash only).
 * Frozen once shipped. Kysely<any> and raw SQL only.
 */
import type { Kysely } from 'kysely';
import { runStatements } from './2026-11-23T0900_schema_v1.ts';

export async function up(db: Kysely<any>): Promise<void> {
	await runStatements(
		db,
		`create unlogged table rate_limits (
			key text primary key,
			tokens double precision not null,
			updated_at timestamptz not null default now(),
			locked_until timestamptz,
			strikes integer not null default 0,
			last_allowed boolean not null default true,
			expires_at timestamptz not null
		);
		create index rate_limits_expires_idx on rate_limits (expires_at);
		alter table staff add column session_generation integer not null default 0;
		create table enrollment_codes (
			code_hash text primary key,
			store_id text not null references stores(id),
			issued_by uuid not null references staff(id),
			issued_at timestamptz not null default now(),
			expires_at timestamptz not null,
			used_at timestamptz,
			used_by_device uuid references devices(id)
		);
		create index audit_log_security_idx on audit_log (at desc) where action like 'security.%'`
	);
}

export async function down(db: Kysely<any>): Promise<void> {
	await runStatements(
		db,
		`drop index if exists audit_log_security_idx;
		drop table if exists enrollment_codes;
		alter table staff drop column if exists session_generation;
		drop table if exists rate_limits`
	);
}
