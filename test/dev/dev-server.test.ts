import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevProcess, type DevProcess } from '../support/dev-process.js';
import { startScriptedOpenAI, type ScriptedOpenAI } from '../support/scripted-openai.js';
import { parseSse, readSse } from '../support/sse.js';

// `npm run dev` as a newcomer runs it: a child process on an embedded PGlite, over real HTTP.
const secret = 'dev-server-test-secret-of-32-bytes-or-more';
const token = (sub: string) => jwt.sign({ sub }, secret, { algorithm: 'HS256', expiresIn: '1h' });
const alice = token('alice');
const bob = token('bob');
const carol = token('carol');
const dave = token('dave');

let model: ScriptedOpenAI;
let dataDir: string;
let server: DevProcess;

const startDevServer = () =>
  startDevProcess({ DATA_DIR: dataDir, DATABASE_URL: '', JWT_SECRET: secret, OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: model.baseURL });


const chatkit = (body: unknown, as = alice, init: RequestInit = {}) =>
  fetch(`${server.url}/chatkit`, {
    method: 'POST',
    headers: { authorization: `Bearer ${as}`, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...init,
  });
const json = async (response: Response | Promise<Response>): Promise<any> => (await response).json();
const get = (path: string, as = alice) => fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${as}` } });
const input = (text: string) => ({ content: [{ type: 'input_text', text }], attachments: [], inference_options: {} });

beforeAll(async () => {
  model = await startScriptedOpenAI();
  dataDir = mkdtempSync(join(tmpdir(), 'chatkit-dev-'));
  server = await startDevServer();
}, 90_000);
afterAll(async () => {
  await server?.stop();
  await model?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm run dev', () => {
  let threadId: string;

  it('answers /health once ready', async () => {
    const response = await fetch(`${server.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('answers CORS preflights without a token, and exposes the request id', async () => {
    const preflight = await fetch(`${server.url}/threads`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    const response = await get('/threads');
    expect(response.headers.get('x-request-id')).toMatch(/.+/);
  });

  it('publishes the OpenAPI 3.1 document of the REST routes', async () => {
    const document = await json(fetch(`${server.url}/openapi.json`));
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths).sort()).toEqual(['/threads', '/threads/{id}', '/threads/{id}/messages']);
    expect(document.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('streams a full turn: thread, user item, stream options, the answer, the title', async () => {
    model.enqueue({ text: ['Hello', ' from', ' the model.'] });
    model.enqueueTitle('Greetings');
    const response = await chatkit({ type: 'threads.create', params: { input: input('Hi there') } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = parseSse(await response.text());
    const types = events.map((e) => e.type);
    expect(types.slice(0, 3)).toEqual(['thread.created', 'thread.item.done', 'stream_options']);
    // The dev server sees a client leave, so ChatKit's stop button stops the turn here.
    expect(events[2]).toEqual({ type: 'stream_options', stream_options: { allow_cancel: true } });
    const done = events.filter((e) => e.type === 'thread.item.done').map((e) => (e as { item: { type: string } }).item);
    expect(done.map((i) => i.type)).toEqual(['user_message', 'assistant_message']);
    expect(JSON.stringify(done[1])).toContain('Hello from the model.');
    expect(types).toContain('thread.updated');
    threadId = (events[0] as { thread: { id: string } }).thread.id;
  });

  it('lists and pages the thread over the REST routes', async () => {
    const threads = await json(get('/threads'));
    expect(threads.threads[0]).toMatchObject({ id: threadId, title: 'Greetings' });
    const page1 = await json(get(`/threads/${threadId}/messages?limit=1&order=asc`));
    expect(page1).toMatchObject({ messages: [{ type: 'user_message', content: 'Hi there' }], has_more: true });
    const page2 = await json(get(`/threads/${threadId}/messages?limit=1&order=asc&after=${page1.next_cursor}`));
    expect(page2).toMatchObject({ messages: [{ type: 'assistant_message', content: 'Hello from the model.' }], has_more: false, next_cursor: null });
  });

  it("gives another user 404 on every route that names the thread, and an empty list", async () => {
    expect((await get(`/threads/${threadId}/messages`, bob)).status).toBe(404);
    expect((await fetch(`${server.url}/threads/${threadId}`, { method: 'DELETE', headers: { authorization: `Bearer ${bob}` } })).status).toBe(404);
    expect(await json(get('/threads', bob))).toEqual({ threads: [], has_more: false, next_cursor: null });
    for (const request of [
      { type: 'threads.get_by_id', params: { thread_id: threadId } },
      { type: 'items.list', params: { thread_id: threadId } },
      { type: 'threads.add_user_message', params: { thread_id: threadId, input: input('hijack') } },
      { type: 'threads.delete', params: { thread_id: threadId } },
    ]) {
      const response = await chatkit(request, bob);
      expect(response.status, request.type).toBe(404);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect((await json(response)).error.code).toBe('not_found');
    }
  });

  it('refuses bad input on every route with its 4xx and a JSON error', async () => {
    const cases: Array<[Promise<Response>, number]> = [
      [chatkit('{not json'), 400],
      [chatkit({ type: 'threads.nope', params: {} }), 400],
      [chatkit({ type: 'threads.add_user_message', params: {} }), 400],
      [chatkit('x'.repeat(2 * 1024 * 1024)), 413],
      [chatkit({ type: 'threads.list', params: {} }, 'not-a-jwt'), 401],
      [get('/threads?limit=-3'), 400],
      [get(`/threads/${threadId}/messages?order=up`), 400],
      [fetch(`${server.url}/threads`), 401],
      [get('/nowhere'), 404],
    ];
    for (const [pending, status] of cases) {
      const response = await pending;
      expect(response.status).toBe(status);
      expect(await response.json()).toEqual({ error: { code: expect.any(String), message: expect.any(String) } });
    }
  });

  it('serves a request as the reference types dump it (nulls), and refuses a second turn on a busy thread with 409', async () => {
    model.enqueue({ text: ['Slow', ' reply', ' here.'], deltaDelayMs: 100 });
    const dumped = {
      type: 'threads.create',
      metadata: {},
      params: {
        input: {
          content: [{ type: 'input_text', text: 'Hi from a reference client' }, { type: 'input_tag', id: 't', text: 'x', data: {}, group: null, interactive: false }],
          attachments: [],
          quoted_text: null,
          inference_options: { tool_choice: null, model: null },
        },
      },
    };
    const response = await chatkit(dumped, carol);
    expect(response.status).toBe(200);
    const events = readSse(response);
    const created = (await events.next()).value as { type: string; thread: { id: string } };
    expect(created.type).toBe('thread.created');
    const busy = await chatkit({ type: 'threads.add_user_message', params: { thread_id: created.thread.id, input: input('me too') } }, carol);
    expect(busy.status).toBe(409);
    expect(await busy.json()).toEqual({ error: { code: 'thread_busy', message: expect.any(String) } });
    const rest: string[] = [];
    for await (const event of events) rest.push(event.type);
    expect(rest).not.toContain('error');
    expect(rest).toContain('thread.item.done');
  });

  it('takes an attachment through the two-phase upload on disk: upload, message, the model sees it, preview, delete', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
    const created = await json(chatkit({ type: 'attachments.create', params: { name: 'dot.png', size: png.length, mime_type: 'image/png' } }, dave));
    expect(created).toMatchObject({ type: 'image', upload_descriptor: { method: 'PUT' }, preview_url: expect.stringMatching(/^http:\/\/localhost:\d+\/attachments\//) }); // the chat page's origin
    const wrong = await fetch(created.upload_descriptor.url, { method: 'PUT', headers: created.upload_descriptor.headers, body: new Uint8Array(Buffer.concat([png, png])) });
    expect(wrong.status).toBe(413);
    const uploaded = await fetch(created.upload_descriptor.url, { method: 'PUT', headers: created.upload_descriptor.headers, body: new Uint8Array(png) });
    expect(uploaded.status).toBe(200);

    model.enqueue({ text: ['A dot.'] });
    const response = await chatkit({ type: 'threads.create', params: { input: { ...input('What is this?'), attachments: [created.id] } } }, dave);
    const events = parseSse(await response.text());
    const threadId = (events[0] as { thread: { id: string } }).thread.id;
    const sent = model.requests.filter((r) => r.body?.stream).at(-1)!.body.input[0];
    expect(sent.content[1]).toEqual({ type: 'input_image', detail: 'auto', image_url: `data:image/png;base64,${png.toString('base64')}` });

    const thread = await json(chatkit({ type: 'threads.get_by_id', params: { thread_id: threadId } }, dave));
    const preview = thread.items.data[0].attachments[0].preview_url;
    expect(Buffer.from(await (await fetch(preview)).arrayBuffer())).toEqual(png);
    expect((await fetch(preview.replace(/.$/, (c: string) => (c === 'A' ? 'B' : 'A')))).status).toBe(403);

    const removed = await fetch(`${server.url}/threads/${threadId}`, { method: 'DELETE', headers: { authorization: `Bearer ${dave}` } });
    expect(removed.status).toBe(200);
    expect((await fetch(preview)).status).toBe(404);
  });

  it('keeps the partial answer when the client disconnects mid-stream, and tells the model next turn', async () => {
    model.enqueue({ text: ['Partial', ' answer', ' that', ' never', ' ends', '.'], deltaDelayMs: 300 });
    const aborter = new AbortController();
    const response = await chatkit(
      { type: 'threads.add_user_message', params: { thread_id: threadId, input: input('Tell me a long story') } },
      alice,
      { signal: aborter.signal },
    );
    let deltas = 0;
    try {
      for await (const event of readSse(response)) {
        if (event.type === 'thread.item.updated' && event.update.type === 'assistant_message.content_part.text_delta' && ++deltas === 2) {
          aborter.abort();
        }
      }
    } catch {
      // the abort ends the read
    }
    expect(deltas).toBe(2);

    let last: { content: string | null; type: string } | undefined;
    for (let attempt = 0; attempt < 50 && last?.type !== 'assistant_message'; attempt++) {
      await new Promise((r) => setTimeout(r, 100));
      last = (await json(get(`/threads/${threadId}/messages?limit=1`))).messages[0];
    }
    expect(last).toMatchObject({ type: 'assistant_message' });
    expect(last!.content).toMatch(/^Partial answer/);
    expect(last!.content).not.toContain('never ends');

    model.enqueue({ text: ['Understood.'] });
    // The cancelled turn may still be releasing the thread: a client sends again after a 409.
    let next = await chatkit({ type: 'threads.add_user_message', params: { thread_id: threadId, input: input('Never mind') } });
    for (let attempt = 0; next.status === 409 && attempt < 20; attempt++) {
      await new Promise((r) => setTimeout(r, 100));
      next = await chatkit({ type: 'threads.add_user_message', params: { thread_id: threadId, input: input('Never mind') } });
    }
    expect(next.status).toBe(200);
    await next.text();
    const history = JSON.stringify(model.requests.at(-1)!.body);
    expect(history).toContain('Partial answer');
    expect(history.toLowerCase()).toContain('cancel');
  });

  it('stops cleanly on SIGTERM and keeps everything across a restart on the same DATA_DIR', async () => {
    expect(await server.stop()).toBe(0);
    server = await startDevServer();
    const threads = await json(get('/threads'));
    expect(threads.threads.map((t: { id: string }) => t.id)).toEqual([threadId]);
    const messages = await json(get(`/threads/${threadId}/messages?limit=100`));
    expect(messages.messages.length).toBeGreaterThanOrEqual(5);
  }, 90_000);
});
