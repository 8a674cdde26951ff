import type { Handler } from 'aws-lambda';
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { openDatabase } from '../../shared/db/connect.js';
import { migrateToLatest } from '../../shared/db/migrate.js';
import { restEvent } from '../support/apigw.js';
import { lambdaContext } from '../support/awslambda.js';
import { createTestDatabase, type TestDatabase } from '../support/backends.js';
import { uid } from '../support/fixtures.js';
import { startWsBridge } from '../support/ws-bridge.js';

// Production reaches Neon over a WebSocket: Node's own, which goes through undici. Powertools'
// fetch instrumentation opened an X-Ray subsegment for the WebSocket's handshake that never closed
// (undici publishes no `undici:request:headers` for a 101), and no trace of that invocation
// reached the daemon at all. Tracing starts with the second invocation of an environment
// (functions/runtime/tracing.ts); the connection is cut in between, as Neon's proxy does when a
// compute suspends, so that the traced invocation opens a WebSocket of its own.
interface Subsegment {
  name: string;
  trace_id?: string;
  in_progress?: boolean;
  namespace?: string;
  http?: { request?: { url?: string }; response?: { status?: number } };
  subsegments?: Subsegment[];
}
const pgbouncer = inject('pgbouncerPort') !== null;
let daemon: Socket;
const received: Subsegment[] = [];
let testDb: TestDatabase;
let bridge: Awaited<ReturnType<typeof startWsBridge>>;
let handler: Handler;

beforeAll(async () => {
  if (!pgbouncer) return;
  daemon = createSocket('udp4');
  daemon.on('message', (message) => {
    const text = message.toString('utf8');
    received.push(JSON.parse(text.slice(text.indexOf('\n') + 1)) as Subsegment);
  });
  await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', resolve));
  testDb = await createTestDatabase();
  const seed = await openDatabase({ url: testDb.url });
  await migrateToLatest(seed.db);
  await seed.close();
  bridge = await startWsBridge();
  Object.assign(process.env, {
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    LAMBDA_TASK_ROOT: '/var/task',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
    _HANDLER: 'index.handler',
    AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${daemon.address().port}`,
    DATABASE_URL: testDb.pgbouncerUrl!,
    DATABASE_DRIVER: 'neon',
    NEON_WS_PROXY: bridge.proxy,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  handler = (await import('../../functions/threads-list.js')).handler as Handler;
});
afterAll(async () => {
  daemon?.close();
  await bridge?.stop();
  await testDb?.drop();
});

const flatten = (list: Subsegment[]): Subsegment[] => list.flatMap((s) => [s, ...flatten(s.subsegments ?? [])]);
const invoke = async (traceRoot: string) => {
  process.env._X_AMZN_TRACE_ID = `Root=${traceRoot};Parent=53995c3f42cd8ad8;Sampled=1`;
  const result = await handler(restEvent({ method: 'GET', resource: '/threads', userId: uid('user') }), lambdaContext(), () => {});
  expect(result.statusCode).toBe(200);
};

it.skipIf(!pgbouncer)('traces an invocation that opens its Neon WebSocket, the handshake a closed subsegment of its own', async () => {
  await invoke('1-67890abc-0123456789abcdef0123456a'); // the cold start: untraced, and opens the first connection
  bridge.dropConnections();
  const traceRoot = '1-67890abc-0123456789abcdef0123456b';
  await invoke(traceRoot);
  await expect.poll(() => flatten(received).map((s) => s.name)).toEqual(expect.arrayContaining(['## index.handler', '### store.loadThreads']));
  const subsegments = flatten(received);
  expect(subsegments.every((s) => s.trace_id === undefined || s.trace_id === traceRoot)).toBe(true);
  expect(received.every((s) => s.trace_id === traceRoot && !s.in_progress)).toBe(true);
  const handshake = subsegments.find((s) => s.namespace === 'remote' && s.http?.request?.url?.includes('/v1'));
  expect(handshake).toMatchObject({ http: { response: { status: 101 } } });
  expect(handshake!.in_progress).toBeUndefined();
});
