import { Migrator, type MigrationResultSet } from 'kysely/migration';
import { migrations } from '../../migrations/index.ts';
import type { Db } from './index.ts';

/** Applies every pending migration; throws with the failing migration's name. */
export async function migrateToLatest(db: Db): Promise<MigrationResultSet> {
	const migrator = new Migrator({
		db,
		provider: { getMigrations: async () => migrations }
	});
	const result = await migrator.migrateToLatest();
	if (result.error) {
		const failed = result.results?.find((r) => r.status === 'Error');
		const err = result.error instanceof Error ? result.error : new Error(String(result.error));
		err.message = `migration ${failed?.migrationName ?? '?'} failed: ${err.message}`;
		throw err;
	}
	return result;
}
