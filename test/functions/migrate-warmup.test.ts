import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../shared/db/connect.js';
import { migrateToLatest } from '../../shared/db/migrate.js';
import { migrations } from '../../migrations/index.js';
import { createTestDatabase, type TestDatabase } from '../support/backends.js';

let testDb: TestDatabase;
let check: Database;
let migrate: (event: CloudFormationCustomResourceEvent) => Promise<{ PhysicalResourceId: string; Data?: { Applied: number } }>;
let warmup: () => Promise<{ ok: boolean; ms: number }>;

beforeAll(async () => {
  testDb = await createTestDatabase();
  // The deploy migrates over the direct URL; the app and the warm-up use the pooled one.
  Object.assign(process.env, { DATABASE_URL_UNPOOLED: testDb.url, DATABASE_URL: testDb.pgbouncerUrl ?? testDb.url, POWERTOOLS_LOG_LEVEL: 'ERROR' });
  migrate = (await import('../../functions/migrate.js')).handler;
  warmup = (await import('../../functions/warmup.js')).handler;
  check = await openDatabase({ url: testDb.url });
});
afterAll(async () => {
  await check?.close();
  await testDb?.drop();
});

const event = (RequestType: 'Create' | 'Update' | 'Delete') =>
  ({
    RequestType,
    ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:provider',
    ResponseURL: 'https://cloudformation-custom-resource-response.example/',
    StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/ChatKit-prod/1',
    RequestId: crypto.randomUUID(),
    LogicalResourceId: 'Migrations',
    ResourceType: 'Custom::ChatKitMigrations',
    ResourceProperties: { ServiceToken: 'arn', MigrationsHash: 'abc' },
    ...(RequestType === 'Create' ? {} : { PhysicalResourceId: 'chatkit-migrations', OldResourceProperties: { MigrationsHash: 'old' } }),
  }) as CloudFormationCustomResourceEvent;

describe('the migration custom resource', () => {
  it('applies migrations on Create, does nothing new on Update, and keeps the data on Delete', async () => {
    expect(await migrate(event('Create'))).toEqual({ PhysicalResourceId: 'chatkit-migrations', Data: { Applied: Object.keys(migrations).length } });
    expect(await migrate(event('Update'))).toEqual({ PhysicalResourceId: 'chatkit-migrations', Data: { Applied: 0 } });
    await sql`INSERT INTO chatkit_threads (id, user_id, data, created_at) VALUES ('thr_keep', 'u', '{}', now())`.execute(check.db);
    expect(await migrate(event('Delete'))).toEqual({ PhysicalResourceId: 'chatkit-migrations' });
    const { rows } = await sql<{ id: string }>`SELECT id FROM chatkit_threads`.execute(check.db);
    expect(rows).toEqual([{ id: 'thr_keep' }]);
  });
});

describe('the migration custom resource over a database ahead of the code', () => {
  // A rollback's Update (or an older commit deployed again) runs this code's migrations against
  // a database that newer code has already migrated.
  const ahead = async (rows: (db: Database['db']) => Promise<unknown>) => {
    const database = await createTestDatabase();
    const direct = await openDatabase({ url: database.url });
    await migrateToLatest(direct.db);
    await rows(direct.db);
    return { database, direct };
  };
  const withTarget = async <T>(url: string, run: () => Promise<T>) => {
    const saved = process.env.DATABASE_URL_UNPOOLED;
    process.env.DATABASE_URL_UNPOOLED = url;
    try {
      return await run();
    } finally {
      process.env.DATABASE_URL_UNPOOLED = saved;
    }
  };
  const schema = (db: Database['db']) =>
    sql<{ n: string }>`SELECT count(*) AS n FROM information_schema.columns WHERE table_schema = 'public'`.execute(db).then((r) => r.rows[0]!.n);

  it('succeeds without changing anything when the database has migrations the code does not know', async () => {
    const { database, direct } = await ahead((db) => sql`INSERT INTO kysely_migration (name, timestamp) VALUES ('9999_from_newer_code', now())`.execute(db));
    try {
      const before = await schema(direct.db);
      expect(await withTarget(database.url, () => migrate(event('Update')))).toEqual({ PhysicalResourceId: 'chatkit-migrations', Data: { Applied: 0 } });
      expect(await schema(direct.db)).toBe(before);
      const { rows } = await sql<{ name: string }>`SELECT name FROM kysely_migration ORDER BY name`.execute(direct.db);
      expect(rows.map((r) => r.name)).toEqual([...Object.keys(migrations), '9999_from_newer_code']);
    } finally {
      await direct.close();
      await database.drop();
    }
  });

  it('still fails when the histories diverge (the database lacks one of the code\'s migrations)', async () => {
    const first = Object.keys(migrations)[0]!;
    const { database, direct } = await ahead(async (db) => {
      await sql`INSERT INTO kysely_migration (name, timestamp) VALUES ('9999_from_another_branch', now())`.execute(db);
      await sql`DELETE FROM kysely_migration WHERE name = ${first}`.execute(db);
    });
    try {
      await expect(withTarget(database.url, () => migrate(event('Update')))).rejects.toThrow(/diverge.*9999_from_another_branch.*0001_initial/);
    } finally {
      await direct.close();
      await database.drop();
    }
  });
});

describe('the warm-up', () => {
  it('pings the pooled endpoint and reports how long it took', async () => {
    const first = await warmup();
    const second = await warmup();
    expect(first).toMatchObject({ ok: true });
    expect(second.ok).toBe(true);
    expect(typeof second.ms).toBe('number');
  });
});
