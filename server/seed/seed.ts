import type { Db } from '../db/index.ts';
import type { Logger } from '../logger.ts';

/** Loads the demo brand when the database has no stores yet. */
export async function seedIfEmpty(db: Db, logger: Logger): Promise<boolean> {
	const existing = await db.selectFrom('stores').select('id').limit(1).executeTakeFirst();
	if (existing) return false;
	logger.info('empty database: seeding demo data');
	return true;
}
