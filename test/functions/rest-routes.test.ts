import type { APIGatewayProxyResult, Handler } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../shared/db/connect.js';
import { migrateToLatest } from '../../shared/db/migrate.js';
import type { ThreadItem } from '../../shared/protocol/index.js';
import { PostgresStore } from '../../shared/store/postgres-store.js';
import { restEvent, type RestEventOptions } from '../support/apigw.js';
import { lambdaContext } from '../support/awslambda.js';
import { createTestDatabase } from '../support/backends.js';
import { thread, uid, userMessage } from '../support/fixtures.js';
import { openApiValidator } from '../support/openapi-validator.js';

// The three buffered REST functions, invoked as API Gateway invokes them, on a real database.
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let seedDb: Database;
let store: PostgresStore;
let handlers: Record<'list' | 'remove' | 'messages', Handler>;
const validate = openApiValidator();

beforeAll(async () => {
  testDb = await createTestDatabase();
  seedDb = await openDatabase({ url: testDb.url });
  await migrateToLatest(seedDb.db);
  store = new PostgresStore(seedDb.db);
  process.env.DATABASE_URL = testDb.url;
  handlers = {
    list: (await import('../../functions/threads-list.js')).handler as Handler,
    remove: (await import('../../functions/threads-delete.js')).handler as Handler,
    messages: (await import('../../functions/messages.js')).handler as Handler,
  };
});
afterAll(async () => {
  await seedDb?.close();
  await testDb?.drop();
});

async function invoke(name: keyof typeof handlers, options: RestEventOptions) {
  const result = (await handlers[name](restEvent(options), lambdaContext(), () => {})) as APIGatewayProxyResult;
  const body = JSON.parse(result.body);
  if (result.statusCode === 200) {
    expect(validate(options.resource, options.method, 200, body), 'response matches the OpenAPI document').toEqual([]);
  } else {
    expect(body).toEqual({ error: { code: expect.any(String), message: expect.any(String) } });
    expect(result.body).not.toMatch(/at .*\.(ts|js):\d+/); // no stack traces
  }
  return { status: result.statusCode, body, headers: result.headers ?? {} };
}

async function userWithThreads(n: number) {
  const userId = uid('user');
  const threads = [];
  for (let i = 0; i < n; i++) {
    const t = thread({ title: `t${i}` });
    await store.createThread(t, null, { userId });
    threads.push(t);
  }
  return { userId, threads };
}

describe('GET /threads', () => {
  const list = (userId: string | undefined, query?: Record<string, string>) =>
    invoke('list', { method: 'GET', resource: '/threads', userId, ...(query ? { query } : {}) });

  it('pages the caller\'s threads newest activity first', async () => {
    const { userId, threads } = await userWithThreads(5);
    const first = await list(userId, { limit: '2' });
    expect(first.status).toBe(200);
    expect(first.body.threads).toHaveLength(2);
    expect(first.body.has_more).toBe(true);
    const seen = [...first.body.threads];
    let cursor = first.body.next_cursor;
    while (cursor) {
      const next = await list(userId, { limit: '2', after: cursor });
      seen.push(...next.body.threads);
      cursor = next.body.next_cursor;
    }
    expect(seen.map((t: { id: string }) => t.id)).toEqual(threads.map((t) => t.id).reverse());
    expect(seen[0]).toEqual({ id: threads[4]!.id, title: 't4', created_at: threads[4]!.created_at, updated_at: expect.any(String) });
  });

  it("never lists another user's threads", async () => {
    await userWithThreads(2);
    const stranger = await list(uid('user'));
    expect(stranger.body).toEqual({ threads: [], has_more: false, next_cursor: null });
  });

  it('refuses bad parameters with 400 and a missing identity with 401', async () => {
    const { userId } = await userWithThreads(1);
    for (const limit of ['abc', '-1', '0', '1.5']) expect((await list(userId, { limit })).status).toBe(400);
    expect((await list(userId, { after: 'thr_unknown' })).body.error.code).toBe('invalid_cursor');
    expect((await list(undefined)).status).toBe(401);
  });
});

describe('DELETE /threads/{id}', () => {
  const remove = (userId: string, id: string) =>
    invoke('remove', { method: 'DELETE', resource: '/threads/{id}', pathParameters: { id }, userId });

  it('deletes the caller\'s thread once; unknown and other users\' threads are 404', async () => {
    const { userId, threads } = await userWithThreads(2);
    const intruder = await remove(uid('user'), threads[0]!.id);
    expect(intruder.status).toBe(404);
    expect(await store.loadThread(threads[0]!.id, { userId })).toMatchObject({ id: threads[0]!.id });

    expect(await remove(userId, threads[0]!.id)).toMatchObject({ status: 200, body: { status: 'deleted' } });
    expect((await remove(userId, threads[0]!.id)).status).toBe(404);
    expect((await remove(userId, 'thr_never')).status).toBe(404);
  });
});

describe('GET /threads/{id}/messages', () => {
  const messages = (userId: string, id: string, query?: Record<string, string>) =>
    invoke('messages', { method: 'GET', resource: '/threads/{id}/messages', pathParameters: { id }, userId, ...(query ? { query } : {}) });

  it('pages plain-text messages newest first by default, hidden context excluded', async () => {
    const { userId, threads } = await userWithThreads(1);
    const t = threads[0]!;
    const items: ThreadItem[] = [];
    for (let i = 0; i < 5; i++) items.push(userMessage(t.id, `message ${i}`));
    items.splice(2, 0, { id: uid('shcx'), thread_id: t.id, created_at: new Date().toISOString(), type: 'sdk_hidden_context', content: 'hidden' });
    items.push({ id: uid('tc'), thread_id: t.id, created_at: new Date().toISOString(), type: 'client_tool_call', status: 'pending', call_id: 'c1', name: 'n', arguments: {} });
    for (const item of items) await store.addThreadItem(t.id, item, { userId });

    const visible = items.filter((i) => i.type !== 'sdk_hidden_context');
    const pages = [];
    let cursor: string | undefined;
    do {
      const page = await messages(userId, t.id, { limit: '4', ...(cursor ? { after: cursor } : {}) });
      expect(page.status).toBe(200);
      pages.push(...page.body.messages);
      cursor = page.body.next_cursor ?? undefined;
    } while (cursor);
    expect(pages.map((m: { id: string }) => m.id)).toEqual(visible.map((i) => i.id).reverse());
    expect(pages[0]).toEqual({ id: visible.at(-1)!.id, type: 'client_tool_call', content: null, created_at: visible.at(-1)!.created_at });
    expect(pages.at(-1)).toEqual({ id: items[0]!.id, type: 'user_message', content: 'message 0', created_at: items[0]!.created_at });

    const asc = await messages(userId, t.id, { order: 'asc', limit: '2' });
    expect(asc.body.messages.map((m: { content: string }) => m.content)).toEqual(['message 0', 'message 1']);
  });

  it("answers 404 for another user's thread and 400 for bad parameters", async () => {
    const { userId, threads } = await userWithThreads(1);
    await store.addThreadItem(threads[0]!.id, userMessage(threads[0]!.id, 'private'), { userId });
    expect((await messages(uid('user'), threads[0]!.id)).status).toBe(404);
    expect((await messages(userId, threads[0]!.id, { order: 'sideways' })).status).toBe(400);
    expect((await messages(userId, threads[0]!.id, { limit: 'ten' })).status).toBe(400);
    expect((await messages(userId, threads[0]!.id, { after: 'msg_unknown' })).body.error.code).toBe('invalid_cursor');
  });
});
