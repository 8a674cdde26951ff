import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../shared/db/connect.js';
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

describe('the warm-up', () => {
  it('pings the pooled endpoint and reports how long it took', async () => {
    const first = await warmup();
    const second = await warmup();
    expect(first).toMatchObject({ ok: true });
    expect(second.ok).toBe(true);
    expect(typeof second.ms).toBe('number');
  });
});
