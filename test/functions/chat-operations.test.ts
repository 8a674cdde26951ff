import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildFunction } from '../../infra/function-build.js';
import { openDatabase } from '../../shared/db/connect.js';
import { migrateToLatest } from '../../shared/db/migrate.js';
import { restEvent } from '../support/apigw.js';
import { createTestDatabase, type TestDatabase } from '../support/backends.js';
import { emfOutput } from '../support/emf.js';
import { uid } from '../support/fixtures.js';
import { startLambdaProcess, type LambdaProcess } from '../support/lambda-process.js';
import type { InvocationOutcome } from '../support/runtime-api.js';
import { startScriptedOpenAI, type ScriptedOpenAI } from '../support/scripted-openai.js';

// The metrics a real turn produces: the built chat function under Lambda's own runtime client,
// its Embedded Metric Format lines and JSON logs read from what its process writes, as CloudWatch
// reads them.
const buildDir = mkdtempSync(join(tmpdir(), 'chat-operations-'));
let testDb: TestDatabase;
let model: ScriptedOpenAI;
let chat: LambdaProcess;

beforeAll(async () => {
  const built = await buildFunction('chat', join(buildDir, 'chat'));
  testDb = await createTestDatabase();
  const seed = await openDatabase({ url: testDb.url });
  await migrateToLatest(seed.db);
  await seed.close();
  model = await startScriptedOpenAI();
  chat = await startLambdaProcess(
    built.dir,
    {
      NODE_ENV: 'production',
      DATABASE_URL: testDb.pgbouncerUrl ?? testDb.url,
      DATABASE_DRIVER: 'neon',
      NEON_WS_PROXY: inject('neonWsProxy'),
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: model.baseURL,
      POWERTOOLS_SERVICE_NAME: 'chatkit-chat',
      POWERTOOLS_METRICS_NAMESPACE: 'ChatKit/test',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    },
    { functionName: 'chatkit-chat' },
  );
});
afterAll(async () => {
  await chat?.stop();
  await model?.close();
  await testDb?.drop();
  rmSync(buildDir, { recursive: true, force: true });
});

const input = (text: string) => ({ content: [{ type: 'input_text', text }], attachments: [], inference_options: {} });
const chatEvent = (body: unknown) => restEvent({ method: 'POST', resource: '/chatkit', userId: uid('user'), body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });

/** Invokes, waits for the handler to be done, and reads what the process wrote meanwhile. */
async function invoke(event: unknown): Promise<{ outcome: InvocationOutcome; written: ReturnType<typeof emfOutput> }> {
  const from = chat.output().length;
  const outcome = await chat.api.invoke(event).outcome;
  await chat.api.idle();
  return { outcome, written: emfOutput(chat.output().slice(from)) };
}
const turnDocument = (written: ReturnType<typeof emfOutput>) => written.metrics().find((m) => 'Turns' in m)!;

describe('chat turn metrics', () => {
  it('a completed turn: time to first token, duration, database round trips, in the stage namespace', async () => {
    model.enqueue({ text: ['Fine', ' thanks.'], deltaDelayMs: 30 });
    const { written } = await invoke(chatEvent({ type: 'threads.create', params: { input: input('How are you?') } }));
    const turn = turnDocument(written);
    expect(turn).toMatchObject({ service: 'chatkit-chat', Turns: 1, ToolCalls: 0, TurnErrors: 0, TurnCancelled: 0, TurnTimedOut: 0 });
    expect(turn.TimeToFirstToken).toBeGreaterThanOrEqual(25);
    expect(turn.TurnDuration).toBeGreaterThanOrEqual(turn.TimeToFirstToken as number);
    expect(turn.DatabaseRoundTrips).toBeGreaterThanOrEqual(2);
    expect(new Set(written.namespaces())).toEqual(new Set(['ChatKit/test']));
  });

  it('a model failure: TurnErrors, also by its code, and the error logged with the request id the caller saw', async () => {
    const down = { failWith: { status: 500, message: 'the model is down' } };
    model.enqueue(down, down); // the SDK tries twice
    const event = chatEvent({ type: 'threads.create', params: { input: input('Anyone there?') } });
    const { outcome, written } = await invoke(event);
    expect(turnDocument(written)).toMatchObject({ Turns: 1, TurnErrors: 1 });
    expect(written.metrics()).toContainEqual({ service: 'chatkit-chat', code: 'stream.error', TurnErrors: 1 });
    expect(outcome.kind === 'stream' && outcome.prelude?.headers?.['x-request-id']).toBe(event.requestContext.requestId);
    expect(written.logs).toContainEqual(expect.objectContaining({ level: 'ERROR', message: 'the turn failed', requestId: event.requestContext.requestId }));
  });

  it('a tool the agent runs on the server: ToolCalls', async () => {
    model.enqueue({ functionCall: { name: 'search_conversations', arguments: '{"query":"sourdough"}' } }, { text: 'Nothing found.' });
    const { written } = await invoke(chatEvent({ type: 'threads.create', params: { input: input('What did we say about sourdough?') } }));
    expect(turnDocument(written)).toMatchObject({ Turns: 1, ToolCalls: 1 });
  });

  it('a JSON request is no turn, but its database round trips count', async () => {
    const { written } = await invoke(chatEvent({ type: 'threads.list', params: {} }));
    expect(written.metrics()).toEqual([{ service: 'chatkit-chat', DatabaseRoundTrips: 1 }]);
  });
});
