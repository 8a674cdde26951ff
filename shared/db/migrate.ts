import { sql, type Kysely } from 'kysely';
import { Migrator } from 'kysely/migration';
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

export type MigrationOutcome =
  | { status: 'migrated'; applied: string[] }
  /** The database has every migration this code has, and later ones it does not know: nothing was changed. */
  | { status: 'ahead'; unknown: string[] };

/**
 * `migrateToLatest`, except that a database already migrated by newer code is left as it is and
 * reported, where Kysely would refuse it as "corrupted migrations" (a previously executed
 * migration is missing from the code; `allowUnorderedMigrations` does not lift that check).
 * This is what lets older code be deployed again, or a failed deploy roll back, over a database
 * that is ahead. A database whose history diverges (it lacks some of this code's migrations too)
 * is still an error: neither side's schema can be assumed.
 */
export async function migrateUnlessAhead(db: Kysely<any>): Promise<MigrationOutcome> {
  const ahead = await aheadOfCode(db);
  if (ahead) return ahead;
  try {
    return { status: 'migrated', ...(await migrateToLatest(db)) };
  } catch (error) {
    // Newer code may have migrated between the check and the migrator's lock.
    const late = await aheadOfCode(db);
    if (late) return late;
    throw error;
  }
}

async function aheadOfCode(db: Kysely<any>): Promise<MigrationOutcome | undefined> {
  const executed = await executedMigrations(db);
  const known = Object.keys(migrations);
  const unknown = executed.filter((name) => !known.includes(name));
  if (unknown.length === 0) return undefined;
  const missing = known.filter((name) => !executed.includes(name));
  if (missing.length > 0) {
    throw new Error(
      `the database's migrations diverge from this code's: it has ${unknown.join(', ')}, which this code does not know, ` +
        `but not ${missing.join(', ')}; reconcile them by hand before deploying`,
    );
  }
  return { status: 'ahead', unknown };
}

/** Names recorded in Kysely's migration table (none when it does not exist yet). */
async function executedMigrations(db: Kysely<any>): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`SELECT name FROM kysely_migration ORDER BY name`
    .execute(db)
    .catch((error: { code?: string }) => {
      if (error.code === '42P01') return { rows: [] }; // undefined_table: nothing migrated yet
      throw error;
    });
  return rows.map((row) => row.name);
}
