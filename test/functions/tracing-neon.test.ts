import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { buildFunction } from '../../infra/function-build.js';
import { openDatabase } from '../../shared/db/connect.js';
import { migrateToLatest } from '../../shared/db/migrate.js';
import { restEvent } from '../support/apigw.js';
import { createTestDatabase, type TestDatabase } from '../support/backends.js';
import { uid } from '../support/fixtures.js';
import { startLambdaProcess, type LambdaProcess } from '../support/lambda-process.js';
import { startWsBridge } from '../support/ws-bridge.js';

// Production reaches Neon over a WebSocket: Node's own, which goes through undici. Powertools'
// fetch instrumentation opened an X-Ray subsegment for the WebSocket's handshake that never closed
// (undici publishes no `undici:request:headers` for a 101), and no trace of that invocation
// reached the daemon at all. The built threads-list function runs under Lambda's runtime client;
// tracing starts with an instance's second invocation (functions/runtime/tracing.ts), and the
// connection is cut in between, as Neon's proxy does when a compute suspends, so that the traced
// invocation opens a WebSocket of its own.
interface Subsegment {
  name: string;
  trace_id?: string;
  in_progress?: boolean;
  namespace?: string;
  http?: { request?: { url?: string }; response?: { status?: number } };
  subsegments?: Subsegment[];
}
const pgbouncer = inject('pgbouncerPort') !== null;
const buildDir = mkdtempSync(join(tmpdir(), 'tracing-neon-'));
let daemon: Socket;
const received: Subsegment[] = [];
let testDb: TestDatabase;
let bridge: Awaited<ReturnType<typeof startWsBridge>>;
let list: LambdaProcess;

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
  const built = await buildFunction('threadsList', join(buildDir, 'threadsList'));
  list = await startLambdaProcess(
    built.dir,
    {
      NODE_ENV: 'production',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      POWERTOOLS_METRICS_DISABLED: 'true',
      AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${daemon.address().port}`,
      DATABASE_URL: testDb.pgbouncerUrl!,
      DATABASE_DRIVER: 'neon',
      NEON_WS_PROXY: bridge.proxy,
    },
    { functionName: 'chatkit-threadsList' },
  );
});
afterAll(async () => {
  await list?.stop();
  daemon?.close();
  await bridge?.stop();
  await testDb?.drop();
  rmSync(buildDir, { recursive: true, force: true });
});

const flatten = (items: Subsegment[]): Subsegment[] => items.flatMap((s) => [s, ...flatten(s.subsegments ?? [])]);
async function invoke(traceRoot: string) {
  const outcome = await list.api.invoke(restEvent({ method: 'GET', resource: '/threads', userId: uid('user') }), { traceId: `Root=${traceRoot};Parent=53995c3f42cd8ad8;Sampled=1` }).outcome;
  expect(outcome.kind === 'response' && JSON.parse(outcome.body).statusCode).toBe(200);
  await list.api.idle();
}

it.skipIf(!pgbouncer)('traces an invocation that opens its Neon WebSocket, the handshake a closed subsegment of its own', async () => {
  await invoke('1-67890abc-0123456789abcdef0123456a'); // the cold start: untraced, and opens the first connection
  bridge.dropConnections();
  const traceRoot = '1-67890abc-0123456789abcdef0123456b';
  await invoke(traceRoot);
  await expect.poll(() => flatten(received).map((s) => s.name)).toEqual(expect.arrayContaining(['## index.handler', '### store.loadThreads']));
  expect(received.every((s) => s.trace_id === traceRoot && !s.in_progress)).toBe(true);
  const handshake = flatten(received).find((s) => s.namespace === 'remote' && s.http?.request?.url?.includes('/v1'));
  expect(handshake).toMatchObject({ http: { response: { status: 101 } } });
  expect(handshake!.in_progress).toBeUndefined();
});
