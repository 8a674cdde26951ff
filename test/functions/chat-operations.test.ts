import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { restEvent } from '../support/apigw.js';
import { installAwslambdaShim, invokeStreaming } from '../support/awslambda.js';
import { createTestDatabase, type TestDatabase } from '../support/backends.js';
import { emfLines } from '../support/emf.js';
import { uid } from '../support/fixtures.js';
import { startScriptedOpenAI, type ScriptedOpenAI } from '../support/scripted-openai.js';
import { openDatabase } from '../../shared/db/connect.js';
import { migrateToLatest } from '../../shared/db/migrate.js';

// The metrics a real turn produces, through the chat function as Lambda runs it.
let testDb: TestDatabase;
let model: ScriptedOpenAI;
let handler: unknown;
let stdout: ReturnType<typeof emfLines>;

beforeAll(async () => {
  testDb = await createTestDatabase();
  const seed = await openDatabase({ url: testDb.url });
  await migrateToLatest(seed.db);
  await seed.close();
  model = await startScriptedOpenAI();
  Object.assign(process.env, {
    DATABASE_URL: testDb.url,
    OPENAI_API_KEY: 'sk-test',
    OPENAI_BASE_URL: model.baseURL,
    NODE_ENV: 'production',
    POWERTOOLS_SERVICE_NAME: 'chatkit-chat',
    POWERTOOLS_METRICS_NAMESPACE: 'ChatKit/test',
    POWERTOOLS_METRICS_DISABLED: 'false',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
  });
  installAwslambdaShim();
  handler = (await import('../../functions/chat.js')).handler;
});
afterAll(async () => {
  await model?.close();
  await testDb?.drop();
});
beforeEach(() => (stdout = emfLines()));
afterEach(() => stdout.restore());

const input = (text: string) => ({ content: [{ type: 'input_text', text }], attachments: [], inference_options: {} });
const newThread = (text: string, options: Parameters<typeof invokeStreaming>[2] = {}) =>
  invokeStreaming(
    handler,
    restEvent({ method: 'POST', resource: '/chatkit', userId: uid('user'), body: JSON.stringify({ type: 'threads.create', params: { input: input(text) } }), headers: { 'Content-Type': 'application/json' } }),
    options,
  );
const turnDocument = () => stdout.metrics().find((m) => 'Turns' in m)!;

describe('chat turn metrics', () => {
  it('a completed turn: time to first token, duration, database round trips, in the stage namespace', async () => {
    model.enqueue({ text: ['Fine', ' thanks.'], deltaDelayMs: 30 });
    await newThread('How are you?');
    const turn = turnDocument();
    expect(turn).toMatchObject({ service: 'chatkit-chat', Turns: 1, ToolCalls: 0, TurnErrors: 0, TurnCancelled: 0, TurnTimedOut: 0 });
    expect(turn.TimeToFirstToken).toBeGreaterThanOrEqual(25);
    expect(turn.TurnDuration).toBeGreaterThanOrEqual(turn.TimeToFirstToken as number);
    expect(turn.DatabaseRoundTrips).toBeGreaterThanOrEqual(2);
    expect(new Set(stdout.namespaces())).toEqual(new Set(['ChatKit/test']));
  });

  it('a model failure: TurnErrors, also by its code, and the error logged with the request id the caller saw', async () => {
    const down = { failWith: { status: 500, message: 'the model is down' } };
    model.enqueue(down, down); // the SDK tries twice
    const event = restEvent({ method: 'POST', resource: '/chatkit', userId: uid('user'), body: JSON.stringify({ type: 'threads.create', params: { input: input('Anyone there?') } }), headers: { 'Content-Type': 'application/json' } });
    const result = await invokeStreaming(handler, event);
    expect(turnDocument()).toMatchObject({ Turns: 1, TurnErrors: 1 });
    expect(stdout.metrics()).toContainEqual({ service: 'chatkit-chat', code: 'stream.error', TurnErrors: 1 });
    expect(result.headers['x-request-id']).toBe(event.requestContext.requestId);
    expect(stdout.logs).toContainEqual(expect.objectContaining({ level: 'ERROR', message: 'the turn failed', requestId: event.requestContext.requestId }));
  });

  it('a client that goes away: TurnCancelled', async () => {
    model.enqueue({ text: ['One', ' two', ' three', ' four'], deltaDelayMs: 100 });
    await newThread('Count slowly', { disconnectWhen: (body) => body.includes('text_delta') });
    expect(turnDocument()).toMatchObject({ Turns: 1, TurnCancelled: 1, TurnTimedOut: 0 });
  });

  it('a tool the agent runs on the server: ToolCalls', async () => {
    model.enqueue({ functionCall: { name: 'search_conversations', arguments: '{"query":"sourdough"}' } }, { text: 'Nothing found.' });
    await newThread('What did we say about sourdough?');
    expect(turnDocument()).toMatchObject({ Turns: 1, ToolCalls: 1 });
  });

  it('a JSON request is no turn, but its database round trips count', async () => {
    await invokeStreaming(handler, restEvent({ method: 'POST', resource: '/chatkit', userId: uid('user'), body: JSON.stringify({ type: 'threads.list', params: {} }), headers: { 'Content-Type': 'application/json' } }));
    expect(stdout.metrics()).toEqual([{ service: 'chatkit-chat', DatabaseRoundTrips: 1 }]);
  });
});
