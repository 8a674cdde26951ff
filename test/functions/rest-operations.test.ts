import type { Handler } from 'aws-lambda';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../shared/db/connect.js';
import { migrateToLatest } from '../../shared/db/migrate.js';
import { restEvent } from '../support/apigw.js';
import { lambdaContext } from '../support/awslambda.js';
import { createTestDatabase, type TestDatabase } from '../support/backends.js';
import { emfLines } from '../support/emf.js';
import { uid } from '../support/fixtures.js';

// What a buffered route reports about the database, per invocation, on a real PostgreSQL.
let testDb: TestDatabase;
let admin: Database;
let handler: Handler;
let stdout: ReturnType<typeof emfLines>;

beforeAll(async () => {
  testDb = await createTestDatabase();
  admin = await openDatabase({ url: testDb.url, maxConnections: 1 });
  await migrateToLatest(admin.db);
  Object.assign(process.env, { DATABASE_URL: testDb.url, POWERTOOLS_SERVICE_NAME: 'chatkit-threadsList', POWERTOOLS_METRICS_DISABLED: 'false', POWERTOOLS_LOG_LEVEL: 'SILENT' });
  handler = (await import('../../functions/threads-list.js')).handler as Handler;
});
afterAll(async () => {
  await admin?.close();
  await testDb?.drop();
});
beforeEach(() => (stdout = emfLines()));
afterEach(() => stdout.restore());

const list = () => handler(restEvent({ method: 'GET', resource: '/threads', userId: uid('user') }), lambdaContext(), () => {});

it('counts the round trips of each invocation', async () => {
  await list();
  await list();
  expect(stdout.metrics()).toEqual([
    { service: 'chatkit-threadsList', DatabaseRoundTrips: 1 },
    { service: 'chatkit-threadsList', DatabaseRoundTrips: 1 },
  ]);
});

it('counts a connection dropped while idle (Neon suspending, a pooler restarting): the next query reconnects', async () => {
  await list();
  const { rows } = await sql<{ dropped: boolean }>`
    SELECT pg_terminate_backend(pid) AS dropped FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`.execute(admin.db);
  expect(rows.length).toBeGreaterThan(0);
  await new Promise((resolve) => setTimeout(resolve, 200)); // the pool notices the closed socket
  expect((await list()).statusCode).toBe(200);
  expect(stdout.metrics().at(-1)).toEqual({ service: 'chatkit-threadsList', DatabaseRoundTrips: 1, DatabaseReconnects: 1 });
});
