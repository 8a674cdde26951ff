import { createMiddleware } from 'hono/factory';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../shared/db/connect.js';
import type { ApiEnv } from '../../shared/http/env.js';
import { openApiDocument } from '../../shared/http/openapi.js';
import { listThreadsApp } from '../../shared/http/rest-apps.js';
import { createLogger } from '../../shared/log.js';
import { PostgresStore } from '../../shared/store/postgres-store.js';
import { createMigratedDatabase, type TestDatabase } from '../support/backends.js';
import { thread, uid, userMessage } from '../support/fixtures.js';
import { openApiValidator } from '../support/openapi-validator.js';

// GET /threads?q= : the REST face of Store.searchThreads, checked against the OpenAPI document.
let testDb: TestDatabase;
let database: Database;
let store: PostgresStore;
let app: ReturnType<typeof listThreadsApp>;
const validate = openApiValidator();

beforeAll(async () => {
  ({ testDb, database } = await createMigratedDatabase());
  store = new PostgresStore(database.db);
  // The user id comes from a test header: the route is what is under test, not authentication.
  const transport = {
    authenticate: createMiddleware<ApiEnv>(async (c, next) => {
      c.set('userId', c.req.header('x-test-user') ?? 'nobody');
      await next();
    }),
    connection: createMiddleware<ApiEnv>(async (c, next) => {
      c.set('abortSignal', c.req.raw.signal);
      await next();
    }),
  };
  app = listThreadsApp({ store, transport, logger: createLogger('test'), corsOrigins: ['*'] });
});
afterAll(async () => {
  await database?.close();
  await testDb?.drop();
});

async function get(query: string, userId: string) {
  const response = await app.request(`/threads${query}`, { headers: { 'x-test-user': userId } });
  const body = await response.json();
  if (response.status === 200) expect(validate('/threads', 'get', 200, body)).toEqual([]);
  return { status: response.status, body: body as any };
}

async function threadSaying(userId: string, title: string, text: string) {
  const t = thread({ title });
  await store.createThread(t, null, { userId });
  await store.addThreadItem(t.id, userMessage(t.id, text), { userId });
  return t.id;
}

describe('GET /threads?q=', () => {
  it('answers the matching threads, most relevant first, with snippets, a page at a time', async () => {
    const userId = uid('user');
    const strong = await threadSaying(userId, 'Invoices', 'invoice for march, the march invoice, invoice again');
    const weak = await threadSaying(userId, 'Mixed', 'one invoice among many other words about travel plans');
    await threadSaying(userId, 'Other', 'nothing relevant');
    await threadSaying(uid('user'), 'Not yours', 'invoice invoice invoice');

    const first = await get('?q=invoice&limit=1', userId);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      threads: [{ id: strong, title: 'Invoices', created_at: expect.any(String), updated_at: expect.any(String), snippet: expect.stringContaining('**invoice**'), matched_at: expect.any(String) }],
      has_more: true,
      next_cursor: strong,
    });
    const second = await get(`?q=invoice&limit=1&after=${strong}`, userId);
    expect(second.body).toMatchObject({ threads: [{ id: weak }], has_more: false, next_cursor: null });
  });

  it('keeps the plain list without q, and refuses a blank or overlong q', async () => {
    const userId = uid('user');
    await threadSaying(userId, 'Plain', 'hello');
    const plain = await get('', userId);
    expect(plain.body.threads).toHaveLength(1);
    expect(plain.body.threads[0]).not.toHaveProperty('snippet');
    expect((await get('?q=%20%20', userId)).status).toBe(400);
    expect((await get(`?q=${'a'.repeat(501)}`, userId)).status).toBe(400);
    expect((await get(`?q=${encodeURIComponent("'); DROP TABLE chatkit_threads; --")}`, userId)).body).toEqual({ threads: [], has_more: false, next_cursor: null });
    expect((await get('?q=hello&after=thr_unknown', userId)).body).toMatchObject({ error: { code: 'invalid_cursor' } });
  });

  it('is documented in the OpenAPI document', () => {
    const parameters = (openApiDocument() as any).paths['/threads'].get.parameters as Array<{ name: string; in: string }>;
    expect(parameters.map((p) => `${p.in}:${p.name}`)).toEqual(expect.arrayContaining(['query:q', 'query:limit', 'query:after']));
  });
});
