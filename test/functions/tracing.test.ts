import { mkdtempSync, rmSync } from 'node:fs';
import { createSocket, type Socket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildFunction } from '../../infra/function-build.js';
import { openDatabase } from '../../shared/db/connect.js';
import { migrateToLatest } from '../../shared/db/migrate.js';
import { restEvent } from '../support/apigw.js';
import { createTestDatabase, type TestDatabase } from '../support/backends.js';
import { uid } from '../support/fixtures.js';
import { startLambdaProcess, type LambdaProcess } from '../support/lambda-process.js';
import { startScriptedOpenAI, type ScriptedOpenAI } from '../support/scripted-openai.js';
import { startSecretsExtension, type SecretsExtensionStandIn } from '../support/secrets-extension.js';

// X-Ray as Lambda runs it: the built chat function under Lambda's own runtime client, each
// invocation with its trace header from the Runtime API (Lambda-Runtime-Trace-Id), and the X-Ray
// SDK sending each finished subsegment over UDP to the daemon, here a local socket that keeps them.
interface XraySubsegment {
  id: string;
  name: string;
  trace_id?: string;
  parent_id?: string;
  namespace?: string;
  annotations?: Record<string, unknown>;
  http?: { request?: { url?: string; method?: string } };
  error?: boolean;
  fault?: boolean;
  subsegments?: XraySubsegment[];
}

const DATABASE_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:chatkit/database-AbCdEf';
const OPENAI_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:chatkit/openai-AbCdEf';
const buildDir = mkdtempSync(join(tmpdir(), 'tracing-'));
let daemon: Socket;
const received: XraySubsegment[] = [];
let testDb: TestDatabase;
let model: ScriptedOpenAI;
let extension: SecretsExtensionStandIn;
let chat: LambdaProcess;

beforeAll(async () => {
  daemon = createSocket('udp4');
  daemon.on('message', (message) => {
    const text = message.toString('utf8');
    received.push(JSON.parse(text.slice(text.indexOf('\n') + 1)) as XraySubsegment);
  });
  await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', resolve));
  const built = await buildFunction('chat', join(buildDir, 'chat'));
  testDb = await createTestDatabase();
  const seed = await openDatabase({ url: testDb.url });
  await migrateToLatest(seed.db);
  await seed.close();
  model = await startScriptedOpenAI();
  extension = await startSecretsExtension();
  extension.serve({ [DATABASE_ARN]: { DATABASE_URL: testDb.pgbouncerUrl ?? testDb.url }, [OPENAI_ARN]: { OPENAI_API_KEY: 'sk-test' } });
  chat = await startLambdaProcess(
    built.dir,
    {
      NODE_ENV: 'production',
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: 'chatkit-chat',
      POWERTOOLS_LOG_LEVEL: 'WARN',
      POWERTOOLS_METRICS_DISABLED: 'true',
      AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${daemon.address().port}`,
      DATABASE_SECRET_ARN: DATABASE_ARN,
      OPENAI_SECRET_ARN: OPENAI_ARN,
      PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: String(extension.port),
      AWS_SESSION_TOKEN: extension.sessionToken,
      DATABASE_DRIVER: 'neon',
      NEON_WS_PROXY: inject('neonWsProxy'),
      OPENAI_BASE_URL: model.baseURL,
    },
    { functionName: 'chatkit-chat' },
  );
});
afterAll(async () => {
  await chat?.stop();
  daemon?.close();
  await extension?.close();
  await model?.close();
  await testDb?.drop();
  rmSync(buildDir, { recursive: true, force: true });
});

/** Every subsegment received, nested ones included, flattened. */
const all = (list: XraySubsegment[] = received): XraySubsegment[] => list.flatMap((s) => [s, ...all(s.subsegments ?? [])]);
/** The subsegments sent for one trace (each arrives with its trace id; nested ones inside it). */
const ofTrace = (root: string) => received.filter((s) => s.trace_id === root).flatMap((s) => all([s]));
const traceHeader = (root: string) => `Root=${root};Parent=53995c3f42cd8ad8;Sampled=1`;
const chatEvent = (body: unknown) => restEvent({ method: 'POST', resource: '/chatkit', userId: uid('user'), body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
const create = (text: string) => ({ type: 'threads.create', params: { input: { content: [{ type: 'input_text', text }], attachments: [], inference_options: {} } } });

async function invoke(event: unknown, root: string) {
  const outcome = await chat.api.invoke(event, { traceId: traceHeader(root) }).outcome;
  await chat.api.idle(); // the handler is done: its subsegments are closed and sent
  return outcome;
}

describe('X-Ray traces of the chat function under the runtime client', () => {
  it("leaves an instance's first invocation to what Lambda records itself, and logs no 'context missing' error, at init or after", async () => {
    model.enqueue({ text: 'Untraced.' });
    expect(await invoke(chatEvent(create('First')), '1-67890abc-0123456789abcdef0123456a')).toMatchObject({ kind: 'stream', prelude: { statusCode: 200 } });
    // The next invocation waits for the tracer if it is still loading; this one has nothing to wait for.
    expect(await invoke(chatEvent({ type: 'threads.list', params: {} }), '1-67890abc-0123456789abcdef0123456b')).toMatchObject({ kind: 'stream' });
    await expect.poll(() => ofTrace('1-67890abc-0123456789abcdef0123456b').length).toBeGreaterThan(0);
    expect(ofTrace('1-67890abc-0123456789abcdef0123456a')).toEqual([]);
    expect(chat.output()).not.toMatch(/Missing AWS Lambda trace data|context missing|Failed to get the current sub\/segment/i);
  });

  it('from the second invocation on: a handler subsegment per invocation, with the database and model calls inside it', async () => {
    const root = '1-67890abc-0123456789abcdef01234567';
    model.enqueue({ text: ['Traced', ' answer.'] });
    model.enqueueTitle('Traces');
    const event = chatEvent(create('Trace me'));
    await invoke(event, root);
    await expect.poll(() => ofTrace(root).some((s) => s.name === '## index.handler')).toBe(true);

    const subsegments = ofTrace(root);
    const handler = subsegments.find((s) => s.name === '## index.handler')!;
    // The cold start was an invocation before: Lambda's own trace shows its Initialization.
    expect(handler.annotations).toMatchObject({ ColdStart: false, Service: 'chatkit-chat', requestId: event.requestContext.requestId });

    const inside = (s: XraySubsegment): boolean => s.parent_id === handler.id || subsegments.some((p) => p.id === s.parent_id && inside(p)) || (handler.subsegments ?? []).some((c) => c.id === s.id);
    const store = subsegments.filter((s) => s.name.startsWith('### store.'));
    expect(store.map((s) => s.name)).toEqual(expect.arrayContaining(['### store.createThread', '### store.endTurn']));
    for (const s of store) expect(inside(s), s.name).toBe(true);

    const modelCalls = subsegments.filter((s) => s.namespace === 'remote' && s.http?.request?.url?.endsWith('/v1/responses'));
    expect(modelCalls.length).toBeGreaterThanOrEqual(2); // the answer and the title
    for (const s of modelCalls) {
      expect(s.name).toBe('127.0.0.1');
      expect(inside(s)).toBe(true);
      expect(s.fault ?? false).toBe(false);
    }
  });

  it('marks a failed database call on its subsegment', async () => {
    const root = '1-67890abd-0123456789abcdef01234568';
    const outcome = await invoke(chatEvent({ type: 'items.list', params: { thread_id: 'thr_missing' } }), root);
    expect(outcome).toMatchObject({ kind: 'stream', prelude: { statusCode: 404 } });
    await expect.poll(() => ofTrace(root).some((s) => s.name === '## index.handler')).toBe(true);
    const failed = ofTrace(root).filter((s) => s.name.startsWith('### store.'));
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.some((s) => s.error || s.fault)).toBe(true);
  });
});
