import type { Handler } from 'aws-lambda';
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { openDatabase } from '../../shared/db/connect.js';
import { migrateToLatest } from '../../shared/db/migrate.js';
import { restEvent } from '../support/apigw.js';
import { lambdaContext } from '../support/awslambda.js';
import { createTestDatabase, type TestDatabase } from '../support/backends.js';
import { uid } from '../support/fixtures.js';

// Production reaches Neon over a WebSocket. Patching node's http module for X-Ray opened a
// subsegment for the WebSocket upgrade that never closed, and no trace reached the daemon at all.
const pgbouncer = inject('pgbouncerPort') !== null;
let daemon: Socket;
const received: Array<{ name: string; trace_id?: string; in_progress?: boolean }> = [];
let testDb: TestDatabase;
let handler: Handler;

beforeAll(async () => {
  if (!pgbouncer) return;
  daemon = createSocket('udp4');
  daemon.on('message', (message) => {
    const text = message.toString('utf8');
    received.push(JSON.parse(text.slice(text.indexOf('\n') + 1)));
  });
  await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', resolve));
  testDb = await createTestDatabase();
  const seed = await openDatabase({ url: testDb.url });
  await migrateToLatest(seed.db);
  await seed.close();
  Object.assign(process.env, {
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    LAMBDA_TASK_ROOT: '/var/task',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    _HANDLER: 'index.handler',
    _X_AMZN_TRACE_ID: 'Root=1-67890abc-0123456789abcdef0123456a;Parent=53995c3f42cd8ad8;Sampled=1',
    AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${daemon.address().port}`,
    DATABASE_URL: testDb.pgbouncerUrl!,
    DATABASE_DRIVER: 'neon',
    NEON_WS_PROXY: inject('neonWsProxy'),
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  handler = (await import('../../functions/threads-list.js')).handler as Handler;
});
afterAll(async () => {
  daemon?.close();
  await testDb?.drop();
});

it.skipIf(!pgbouncer)('traces a request whose database is reached over the Neon driver (WebSocket)', async () => {
  const result = await handler(restEvent({ method: 'GET', resource: '/threads', userId: uid('user') }), lambdaContext(), () => {});
  expect(result.statusCode).toBe(200);
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(received.map((s) => s.name).sort()).toEqual(['## index.handler', '### store.loadThreads']);
  expect(received.every((s) => s.trace_id === '1-67890abc-0123456789abcdef0123456a' && !s.in_progress)).toBe(true);
});
