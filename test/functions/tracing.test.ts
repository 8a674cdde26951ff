import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../shared/db/connect.js';
import { migrateToLatest } from '../../shared/db/migrate.js';
import { restEvent } from '../support/apigw.js';
import { installAwslambdaShim, invokeStreaming } from '../support/awslambda.js';
import { createTestDatabase, type TestDatabase } from '../support/backends.js';
import { uid } from '../support/fixtures.js';
import { startScriptedOpenAI, type ScriptedOpenAI } from '../support/scripted-openai.js';

// X-Ray as Lambda runs it: active tracing hands the function a trace header, and the SDK sends
// each finished subsegment over UDP to the daemon, here a local socket that keeps them.
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

let daemon: Socket;
const received: XraySubsegment[] = [];
let testDb: TestDatabase;
let model: ScriptedOpenAI;
let chat: unknown;
const traceRoot = '1-67890abc-0123456789abcdef01234567';

beforeAll(async () => {
  daemon = createSocket('udp4');
  daemon.on('message', (message) => {
    const text = message.toString('utf8');
    received.push(JSON.parse(text.slice(text.indexOf('\n') + 1)) as XraySubsegment);
  });
  await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', resolve));

  testDb = await createTestDatabase();
  const seed = await openDatabase({ url: testDb.url });
  await migrateToLatest(seed.db);
  await seed.close();
  model = await startScriptedOpenAI();
  Object.assign(process.env, {
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    LAMBDA_TASK_ROOT: '/var/task',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    _HANDLER: 'index.handler',
    _X_AMZN_TRACE_ID: `Root=${traceRoot};Parent=53995c3f42cd8ad8;Sampled=1`,
    AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${daemon.address().port}`,
    AWS_XRAY_DEBUG_MODE: '',
    DATABASE_URL: testDb.url,
    OPENAI_API_KEY: 'sk-test',
    OPENAI_BASE_URL: model.baseURL,
    NODE_ENV: 'production',
    POWERTOOLS_SERVICE_NAME: 'chatkit-chat',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  installAwslambdaShim();
  chat = (await import('../../functions/chat.js')).handler;
});
afterAll(async () => {
  daemon?.close();
  await model?.close();
  await testDb?.drop();
});

/** Every subsegment received, nested ones included, flattened. */
const all = (list: XraySubsegment[] = received): XraySubsegment[] => list.flatMap((s) => [s, ...all(s.subsegments ?? [])]);
const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

describe('X-Ray traces of a chat turn', () => {
  it('a handler subsegment per invocation, with the database and model calls inside it', async () => {
    model.enqueue({ text: ['Traced', ' answer.'] });
    model.enqueueTitle('Traces');
    const event = restEvent({ method: 'POST', resource: '/chatkit', userId: uid('user'), body: JSON.stringify({ type: 'threads.create', params: { input: { content: [{ type: 'input_text', text: 'Trace me' }], attachments: [], inference_options: {} } } }), headers: { 'Content-Type': 'application/json' } });
    await invokeStreaming(chat, event);
    await settle();

    const subsegments = all();
    const handler = subsegments.find((s) => s.name === '## index.handler')!;
    expect(handler).toBeDefined();
    expect(handler.trace_id).toBe(traceRoot);
    expect(handler.annotations).toMatchObject({ ColdStart: true, Service: 'chatkit-chat', requestId: event.requestContext.requestId });

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

  it('the next invocation is no cold start, and a failed database call is marked on its subsegment', async () => {
    received.length = 0;
    process.env._X_AMZN_TRACE_ID = `Root=1-67890abd-0123456789abcdef01234568;Parent=53995c3f42cd8ad9;Sampled=1`;
    const list = restEvent({ method: 'POST', resource: '/chatkit', userId: uid('user'), body: JSON.stringify({ type: 'items.list', params: { thread_id: 'thr_missing' } }), headers: { 'Content-Type': 'application/json' } });
    const result = await invokeStreaming(chat, list);
    expect(result.statusCode).toBe(404);
    await settle();
    const subsegments = all();
    expect(subsegments.find((s) => s.name === '## index.handler')?.annotations).toMatchObject({ ColdStart: false });
    const failed = subsegments.filter((s) => s.name.startsWith('### store.'));
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.some((s) => s.error || s.fault)).toBe(true);
  });
});
