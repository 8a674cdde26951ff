import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../shared/db/connect.js';
import { migrateToLatest } from '../../shared/db/migrate.js';
import { migrations } from '../../migrations/index.js';
import { createTestDatabase } from '../support/backends.js';

const allMigrations = Object.keys(migrations);

describe('migrations', () => {
  const databases: Array<Awaited<ReturnType<typeof createTestDatabase>>> = [];
  const fresh = async () => {
    const created = await createTestDatabase();
    databases.push(created);
    return created;
  };
  afterAll(async () => {
    await Promise.all(databases.map((d) => d.drop()));
  });

  it('apply to an empty database, then re-running is a no-op', async () => {
    const { url } = await fresh();
    const database = await openDatabase({ url });
    try {
      expect(await migrateToLatest(database.db)).toEqual({ applied: allMigrations });
      expect(await migrateToLatest(database.db)).toEqual({ applied: [] });
      const { rows } = await sql<{ table_name: string }>`
        SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name LIKE 'chatkit_%'
        ORDER BY table_name`.execute(database.db);
      expect(rows.map((r) => r.table_name)).toEqual([
        'chatkit_attachments',
        'chatkit_item_feedback',
        'chatkit_paused_turns',
        'chatkit_thread_items',
        'chatkit_threads',
      ]);
    } finally {
      await database.close();
    }
  });

  it('run from several processes at once without corrupting anything: each migration applies exactly once', async () => {
    const { url } = await fresh();
    const runners = await Promise.all([1, 2, 3, 4].map(() => openDatabase({ url })));
    try {
      const results = await Promise.all(runners.map((r) => migrateToLatest(r.db)));
      expect(results.flatMap((r) => r.applied).sort()).toEqual([...allMigrations].sort());
      const { rows } = await sql<{ name: string }>`SELECT name FROM kysely_migration ORDER BY name`.execute(runners[0]!.db);
      expect(rows.map((r) => r.name)).toEqual(allMigrations);
    } finally {
      await Promise.all(runners.map((r) => r.close()));
    }
  });
});
