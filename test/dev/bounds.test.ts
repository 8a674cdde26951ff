import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEARCH_LOCK_SPACE, SEARCHES_PER_USER } from '../../shared/store/search.js';
import { createTestDatabase, type TestDatabase } from '../support/backends.js';
import { startDevProcess, type DevProcess } from '../support/dev-process.js';
import { uid } from '../support/fixtures.js';
import { startScriptedOpenAI, type ScriptedOpenAI } from '../support/scripted-openai.js';
import { readSse } from '../support/sse.js';

// Every request costs a bounded amount, seen from outside: `npm run dev` on real PostgreSQL,
// over HTTP. Message size (MESSAGE_MAX_CHARS), search, and what a failed turn leaves in the log.
const secret = 'bounds-test-secret-of-at-least-32-bytes';
const MESSAGE_MAX_CHARS = 1_000_000;

let testDb: TestDatabase;
let model: ScriptedOpenAI;
let dataDir: string;
let server: DevProcess;

const startDevServer = () =>
  startDevProcess({
    DATA_DIR: dataDir,
    DATABASE_URL: testDb.url,
    JWT_SECRET: secret,
    OPENAI_API_KEY: 'sk-test',
    OPENAI_BASE_URL: model.baseURL,
    MESSAGE_MAX_CHARS: String(MESSAGE_MAX_CHARS),
    POWERTOOLS_LOG_LEVEL: 'ERROR',
  });

beforeAll(async () => {
  testDb = await createTestDatabase();
  model = await startScriptedOpenAI();
  dataDir = mkdtempSync(join(tmpdir(), 'chatkit-bounds-'));
  server = await startDevServer();
}, 90_000);
afterAll(async () => {
  await server?.stop();
  await model?.close();
  await testDb?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

const tokenFor = (sub: string) => jwt.sign({ sub }, secret, { algorithm: 'HS256', expiresIn: '1h' });
const chatkit = (body: unknown, sub: string) =>
  fetch(`${server.url}/chatkit`, { method: 'POST', headers: { authorization: `Bearer ${tokenFor(sub)}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
const get = (path: string, sub: string) => fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${tokenFor(sub)}` } });
const input = (text: string) => ({ content: [{ type: 'input_text', text }], attachments: [], inference_options: {} });
const drain = async (response: Response) => {
  const events: Array<{ type: string }> = [];
  for await (const event of readSse(response)) events.push(event);
  return events;
};
const search = (q: string, sub: string) => get(`/threads?q=${encodeURIComponent(q)}&limit=100`, sub);

describe('message size over HTTP', () => {
  it(`refuses more than MESSAGE_MAX_CHARS (${MESSAGE_MAX_CHARS.toLocaleString('en')}) with a 400 naming the field, and stores nothing`, async () => {
    const sub = uid('user');
    const response = await chatkit({ type: 'threads.create', params: { input: input('x'.repeat(MESSAGE_MAX_CHARS + 1)) } }, sub);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: { code: 'message_too_long', message: `threads.create: params.input: the message's text is 1,000,001 characters; at most 1,000,000 are accepted` },
    });
    expect(await (await get('/threads', sub)).json()).toMatchObject({ threads: [] });
  });

  it('stores a message of ~900 KB of distinct hyphenated words (more lexemes than a tsvector holds) and finds it', async () => {
    const sub = uid('user');
    const words = Array.from({ length: 60_000 }, (_, n) => `kw${(n + 1).toString(16)}-zq${((n + 1) * 7).toString(16)}`);
    model.enqueue({ text: 'Quite a text.' });
    model.enqueueTitle('Long');
    const response = await chatkit({ type: 'threads.create', params: { input: input(words.join(' ')) } }, sub);
    expect(response.status).toBe(200);
    const events = await drain(response);
    expect(events.some((event) => event.type === 'error')).toBe(false);
    const found = (await (await search('kw1-zq7', sub)).json()) as { threads: Array<{ snippet: string }> };
    expect(found.threads).toHaveLength(1);
    expect(found.threads[0]!.snippet).toContain('**kw1**-**zq7**');
  });
});

describe('search over HTTP', () => {
  it('answers a query with no word to find with an empty page', async () => {
    const sub = uid('user');
    model.enqueue({ text: 'Ok.' });
    model.enqueueTitle('Fruit');
    await drain(await chatkit({ type: 'threads.create', params: { input: input('apples and pears') } }, sub));
    const response = await search('-zzzz', sub);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ threads: [], has_more: false, next_cursor: null });
  });

  it(`answers 429 with Retry-After past ${SEARCHES_PER_USER} searches of one user at once; another user's search runs`, async () => {
    const busy = uid('user');
    const other = uid('user');
    const holder = new pg.Client({ connectionString: testDb.url });
    await holder.connect();
    try {
      for (let n = 1; n <= SEARCHES_PER_USER; n++) await holder.query('SELECT pg_advisory_lock($1::int, hashtext($2))', [SEARCH_LOCK_SPACE, `${busy}:${n}`]);
      const refused = await search('anything', busy);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(await refused.json()).toEqual({ error: { code: 'too_many_searches', message: expect.stringContaining(`at most ${SEARCHES_PER_USER} searches`) } });
      expect((await search('anything', other)).status).toBe(200);
    } finally {
      await holder.end();
    }
    expect((await search('anything', busy)).status).toBe(200);
  });
});

describe("a failed turn's log", () => {
  it('names the URL the model could not fetch, without its signature or credentials', async () => {
    const signature = 'b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2';
    const url = `https://files.example-bucket.s3.amazonaws.com/attached/u/atc_9?X-Amz-Credential=ASIADEVEXAMPLE%2F20261126&X-Amz-Signature=${signature}`;
    model.enqueue({ failWith: { status: 400, message: `Error while downloading ${url}.` } });
    const response = await chatkit({ type: 'threads.create', params: { input: input('Read my file') } }, uid('user'));
    const events = await drain(response);
    expect(events.some((event) => event.type === 'error')).toBe(true);
    for (let waited = 0; !server.output.join('').includes('the turn failed') && waited < 5_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
    const log = server.output.join('');
    expect(log).toContain('the turn failed');
    expect(log).toContain('files.example-bucket.s3.amazonaws.com/attached/u/atc_9');
    expect(log).not.toContain(signature);
    expect(log).not.toContain('ASIADEVEXAMPLE');
  });
});
