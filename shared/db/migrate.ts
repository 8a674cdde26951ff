import { Migrator, type Kysely } from 'kysely';
import { migrations } from '../../migrations/index.js';

/**
 * Applies every pending migration. Safe to run again (a no-op) and from several processes at
 * once: Kysely's Migrator holds a PostgreSQL advisory lock for the whole run.
 */
export async function migrateToLatest(db: Kysely<any>): Promise<{ applied: string[] }> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error) {
    const failed = results.find((r) => r.status === 'Error')?.migrationName;
    throw new Error(`migration ${failed ?? '(setup)'} failed: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  return { applied: results.filter((r) => r.status === 'Success').map((r) => r.migrationName) };
}
