/**
 * Records how the demo data was generated: the anchor date ("today" of the seed, history spans
 * the 12 months before it), the PRNG seed and the size. A re-seed on the same anchor and seed
 * produces identical rows. Frozen once shipped. Kysely<any> and raw SQL only.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
	await sql
		.raw(
			`create table demo_seed (
				id integer primary key default 1 check (id = 1),
				anchor_date date not null,
				prng_seed integer not null,
				customers integer not null,
				generator text not null,
				seeded_at timestamptz not null default now()
			)`
		)
		.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
	await sql.raw(`drop table if exists demo_seed`).execute(db);
}
