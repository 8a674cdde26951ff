import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../shared/db/connect.js';
import { migrateToLatest } from '../../shared/db/migrate.js';
import { PostgresStore } from '../../shared/store/postgres-store.js';
import { restEvent } from '../support/apigw.js';
import { installAwslambdaShim, invokeStreaming } from '../support/awslambda.js';
import { createTestDatabase, type TestDatabase } from '../support/backends.js';
import { uid } from '../support/fixtures.js';
import { startScriptedOpenAI, type ScriptedOpenAI } from '../support/scripted-openai.js';
import { parseSse } from '../support/sse.js';

// POST /chatkit as Lambda response streaming runs it, through a faithful `awslambda` shim.
let testDb: TestDatabase;
let seedDb: Database;
let store: PostgresStore;
let model: ScriptedOpenAI;
let handler: unknown;

beforeAll(async () => {
  testDb = await createTestDatabase();
  seedDb = await openDatabase({ url: testDb.url });
  await migrateToLatest(seedDb.db);
  store = new PostgresStore(seedDb.db);
  model = await startScriptedOpenAI();
  Object.assign(process.env, { DATABASE_URL: testDb.url, OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: model.baseURL, NODE_ENV: 'production' });
  installAwslambdaShim();
  handler = (await import('../../functions/chat.js')).handler;
});
afterAll(async () => {
  await model?.close();
  await seedDb?.close();
  await testDb?.drop();
});

const input = (text: string) => ({ content: [{ type: 'input_text', text }], attachments: [], inference_options: {} });
const chat = (userId: string | undefined, body: unknown, options: Parameters<typeof invokeStreaming>[2] & { receivedMsAgo?: number } = {}) => {
  const event = restEvent({ method: 'POST', resource: '/chatkit', userId, body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
  if (options.receivedMsAgo !== undefined) event.requestContext.requestTimeEpoch = Date.now() - options.receivedMsAgo;
  return invokeStreaming(handler, event, options);
};

describe('the chat function', () => {
  it('streams a turn as SSE after the metadata prelude', async () => {
    const userId = uid('user');
    model.enqueue({ text: ['Streaming', ' works.'] });
    model.enqueueTitle('Streams');
    const result = await chat(userId, { type: 'threads.create', params: { input: input('Does streaming work?') } });
    expect(result.statusCode).toBe(200);
    expect(result.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(result.ended).toBe(true);
    expect(result.chunks.length).toBeGreaterThan(3); // written as events arrive, not buffered
    const events = parseSse(result.body);
    expect(events.map((e) => e.type).slice(0, 3)).toEqual(['thread.created', 'thread.item.done', 'stream_options']);
    const threadId = (events[0] as { thread: { id: string } }).thread.id;
    const items = await store.loadThreadItems(threadId, { order: 'asc' }, { userId });
    expect(items.data.map((i) => i.type)).toEqual(['user_message', 'assistant_message']);
  });

  it('answers non-streaming operations with JSON', async () => {
    const result = await chat(uid('user'), { type: 'threads.list', params: {} });
    expect(result.statusCode).toBe(200);
    expect(result.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(result.body)).toEqual({ data: [], has_more: false });
  });

  it("answers 404 JSON, not a stream, for another user's thread", async () => {
    const owner = uid('user');
    model.enqueue({ text: 'hi' });
    const created = parseSse((await chat(owner, { type: 'threads.create', params: { input: input('mine') } })).body);
    const threadId = (created[0] as { thread: { id: string } }).thread.id;
    const result = await chat(uid('user'), { type: 'threads.add_user_message', params: { thread_id: threadId, input: input('theirs') } });
    expect(result.statusCode).toBe(404);
    expect(result.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(result.body)).toEqual({ error: { code: 'not_found', message: 'thread not found' } });
  });

  it('answers bad input with 400, oversized bodies with 413, no identity with 401', async () => {
    const bad = await chat(uid('user'), '{nope');
    expect([bad.statusCode, JSON.parse(bad.body).error.code]).toEqual([400, 'invalid_json']);
    const big = await chat(uid('user'), JSON.stringify({ type: 'threads.list', params: {}, metadata: { pad: 'x'.repeat(1_100_000) } }));
    expect([big.statusCode, JSON.parse(big.body).error.code]).toEqual([413, 'payload_too_large']);
    const anonymous = await chat(undefined, { type: 'threads.list', params: {} });
    expect(anonymous.statusCode).toBe(401);
  });

  it('keeps the partial answer when the client disconnects', async () => {
    const userId = uid('user');
    model.enqueue({ text: ['Partial', ' answer', ' that', ' goes', ' on'], deltaDelayMs: 150 });
    const result = await chat(userId, { type: 'threads.create', params: { input: input('Go on') } }, {
      disconnectWhen: (body) => body.split('text_delta').length > 2, // after the second delta
    });
    expect(result.disconnected).toBe(true);
    const threads = await store.loadThreads({}, { userId });
    const items = (await store.loadThreadItems(threads.data[0]!.id, { order: 'asc', includeHidden: true }, { userId })).data;
    expect(items.map((i) => i.type)).toEqual(['user_message', 'assistant_message', 'sdk_hidden_context']);
    expect(items[1]).toMatchObject({ content: [{ text: 'Partial answer' }] });
    await new Promise((r) => setTimeout(r, 50));
    expect(model.requests.filter((r) => r.body?.stream).at(-1)!.aborted).toBe(true);
  });

  it('stops the model before the function times out, keeps what was said and tells the client', async () => {
    const userId = uid('user');
    model.enqueue({ text: ['Slow', ' answer', ' keeps', ' going', ' and', ' going'], deltaDelayMs: 250 });
    // 5.6 s left and a 5 s safety margin: the answer is cut after about 600 ms.
    const result = await chat(userId, { type: 'threads.create', params: { input: input('Take your time') } }, { remainingTimeMs: 5_600 });
    expect(result.ended).toBe(true);
    const threads = await store.loadThreads({}, { userId });
    const items = (await store.loadThreadItems(threads.data[0]!.id, { order: 'asc', includeHidden: true }, { userId })).data;
    expect(items.map((i) => i.type)).toEqual(['user_message', 'assistant_message', 'sdk_hidden_context']);
    const answer = items[1] as { content: Array<{ text: string }> };
    expect(answer.content[0]!.text.startsWith('Slow')).toBe(true);
    expect(answer.content[0]!.text).not.toContain('going and going');
    // The client is still there: it is shown the partial answer as done, then told it was cut off.
    const events = result.body.split('\n\n').filter(Boolean).map((block) => JSON.parse(block.replace(/^data: /, '')));
    expect(events.slice(-2)).toEqual([
      { type: 'thread.item.done', item: items[1] },
      { type: 'error', code: 'stream.error', message: expect.any(String), allow_retry: true },
    ]);
  });

  it("stops before the route's integration timeout too, counting the time before the handler ran", async () => {
    const userId = uid('user');
    model.enqueue({ text: ['Slow', ' answer', ' keeps', ' going', ' and', ' going'], deltaDelayMs: 250 });
    // The function has a minute left, but API Gateway received the request 1.4 s ago (a cold
    // start) and gives up 7 s after that: with the 5 s margin the answer is cut after about 600 ms.
    process.env.INTEGRATION_TIMEOUT_MS = '7000';
    try {
      const result = await chat(userId, { type: 'threads.create', params: { input: input('Take your time') } }, { remainingTimeMs: 60_000, receivedMsAgo: 1_400 });
      expect(result.ended).toBe(true);
    } finally {
      delete process.env.INTEGRATION_TIMEOUT_MS;
    }
    const threads = await store.loadThreads({}, { userId });
    const items = (await store.loadThreadItems(threads.data[0]!.id, { order: 'asc', includeHidden: true }, { userId })).data;
    expect(items.map((i) => i.type)).toEqual(['user_message', 'assistant_message', 'sdk_hidden_context']);
    expect((items[1] as { content: Array<{ text: string }> }).content[0]!.text).not.toContain('going and going');
  });
});
