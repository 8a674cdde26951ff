import jwt from 'jsonwebtoken';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserTestsRun, launchChromium, serveOrigin, startDevServer, type DevServer } from '../support/browser.js';

// A front end on its own origin, as a browser runs it: Chromium enforces CORS on every call to the
// dev server (allowed origin: the app's), so what a page cannot read here, it cannot read anywhere.
const secret = 'browser-test-secret-of-at-least-32-bytes';
const token = (sub: string) => jwt.sign({ sub }, secret, { algorithm: 'HS256', expiresIn: '1h' });
// A 1×1 PNG.
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

describe.runIf(browserTestsRun())('a page on another origin, in Chromium', () => {
  let app: Awaited<ReturnType<typeof serveOrigin>>;
  let stranger: Awaited<ReturnType<typeof serveOrigin>>;
  let dev: DevServer;
  let browser: Browser;

  beforeAll(async () => {
    app = await serveOrigin('<!doctype html><title>app</title><p>my app');
    stranger = await serveOrigin('<!doctype html><title>stranger</title><p>another site');
    [dev, browser] = await Promise.all([startDevServer({ JWT_SECRET: secret, CORS_ORIGINS: app.origin }), launchChromium()]);
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await dev?.stop();
    await app?.close();
    await stranger?.close();
  });

  async function open(origin: string): Promise<Page> {
    const page = await browser.newPage();
    await page.goto(`${origin}/`);
    return page;
  }

  it('runs the two-phase upload, a streamed turn with the attachment, the REST calls and the preview', async () => {
    const page = await open(app.origin);
    const result = await page.evaluate(
      async ({ api, token, png }) => {
        const auth = { Authorization: `Bearer ${token}` };
        const chatkit = (body: unknown) => fetch(`${api}/chatkit`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
        const bytes = Uint8Array.from(atob(png), (c) => c.charCodeAt(0));

        const createdResponse = await chatkit({ type: 'attachments.create', params: { name: 'dot.png', size: bytes.length, mime_type: 'image/png' } });
        const created = (await createdResponse.json()) as any;
        const upload = await fetch(created.upload_descriptor.url, { method: created.upload_descriptor.method, headers: created.upload_descriptor.headers, body: bytes });

        // The turn, read as ChatKit reads it: the stream, event by event.
        const turn = await chatkit({ type: 'threads.create', params: { input: { content: [{ type: 'input_text', text: 'What is this?' }], attachments: [created.id], inference_options: {} } } });
        const reader = turn.body!.pipeThrough(new TextDecoderStream()).getReader();
        let sse = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          sse += value;
        }
        const events = sse.split('\n\n').filter(Boolean).map((block) => JSON.parse(block.replace(/^data: /, '')));
        const threadId = events[0].thread.id;
        const answer = events.filter((e) => e.type === 'thread.item.done' && e.item.type === 'assistant_message').map((e) => e.item.content[0].text);

        const thread = (await (await chatkit({ type: 'threads.get_by_id', params: { thread_id: threadId } })).json()) as any;
        const preview = await fetch(thread.items.data[0].attachments[0].preview_url);
        const previewBytes = (await preview.arrayBuffer()).byteLength;
        const list = await fetch(`${api}/threads?limit=5`, { headers: auth });
        const messages = (await (await fetch(`${api}/threads/${threadId}/messages?order=asc`, { headers: auth })).json()) as any;
        const removed = await fetch(`${api}/threads/${threadId}`, { method: 'DELETE', headers: auth });
        return {
          created: createdResponse.status,
          requestId: createdResponse.headers.get('X-Request-Id'),
          upload: upload.status,
          turn: [turn.status, turn.headers.get('Content-Type')],
          types: events.map((e) => e.type),
          answer,
          preview: [preview.status, preview.headers.get('Content-Type'), previewBytes, bytes.length],
          list: [list.status, ((await list.json()) as any).threads.map((t: { id: string }) => t.id)],
          threadId,
          messages: messages.messages.map((m: { type: string; content: string }) => [m.type, m.content]),
          removed: [removed.status, await removed.json()],
        };
      },
      { api: dev.url, token: token('alice'), png: PNG },
    );
    expect(result.created).toBe(200);
    expect(result.requestId).toMatch(/.+/); // exposed to the page
    expect(result.upload).toBe(200);
    expect(result.turn).toEqual([200, expect.stringMatching(/^text\/event-stream/)]);
    expect(result.types.slice(0, 3)).toEqual(['thread.created', 'thread.item.done', 'stream_options']);
    expect(result.answer).toEqual(['(offline echo) What is this? [with 1 attachment]']);
    expect(result.preview).toEqual([200, 'image/png', result.preview[3], result.preview[3]]);
    expect(result.list).toEqual([200, [result.threadId]]);
    expect(result.messages).toEqual([
      ['user_message', 'What is this?'],
      ['assistant_message', '(offline echo) What is this? [with 1 attachment]'],
    ]);
    expect(result.removed).toEqual([200, { status: 'deleted' }]);
    await page.close();
  });

  it('reads every error body the API and the upload URLs answer', async () => {
    const page = await open(app.origin);
    const errors = await page.evaluate(
      async ({ api, token, other }) => {
        const read = async (pending: Promise<Response>) => {
          const response = await pending;
          return [response.status, ((await response.json()) as any).error.code];
        };
        const auth = { Authorization: `Bearer ${token}` };
        const json = { ...auth, 'Content-Type': 'application/json' };
        const created = (await (await fetch(`${api}/chatkit`, { method: 'POST', headers: json, body: JSON.stringify({ type: 'attachments.create', params: { name: 'a.txt', size: 3, mime_type: 'text/plain' } }) })).json()) as any;
        const { url, headers } = created.upload_descriptor;
        return {
          noToken: await read(fetch(`${api}/chatkit`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })),
          badToken: await read(fetch(`${api}/threads`, { headers: { Authorization: 'Bearer not.a.jwt' } })),
          badRequest: await read(fetch(`${api}/chatkit`, { method: 'POST', headers: json, body: '{"type":"threads.nope"}' })),
          tooLarge: await read(fetch(`${api}/chatkit`, { method: 'POST', headers: json, body: 'x'.repeat(2 * 1024 * 1024) })),
          notFound: await read(fetch(`${api}/threads/thr_missing/messages`, { headers: auth })),
          anotherUsers: await read(fetch(`${api}/chatkit`, { method: 'POST', headers: json, body: JSON.stringify({ type: 'threads.get_by_id', params: { thread_id: other } }) })),
          noRoute: await read(fetch(`${api}/nowhere`, { headers: auth })),
          typeNotAllowed: await read(fetch(`${api}/chatkit`, { method: 'POST', headers: json, body: JSON.stringify({ type: 'attachments.create', params: { name: 'x.exe', size: 3, mime_type: 'application/x-msdownload' } }) })),
          uploadTooLong: await read(fetch(url, { method: 'PUT', headers, body: 'four' })),
          uploadShort: await read(fetch(url, { method: 'PUT', headers, body: 'ab' })),
          uploadForged: await read(fetch(url.replace(/.$/, (c: string) => (c === 'A' ? 'B' : 'A')), { method: 'PUT', headers, body: 'abc' })),
        };
      },
      { api: dev.url, token: token('alice'), other: 'thr_of_someone_else' },
    );
    expect(errors).toEqual({
      noToken: [401, 'unauthorized'],
      badToken: [401, 'unauthorized'],
      badRequest: [400, 'unknown_request_type'],
      tooLarge: [413, 'payload_too_large'],
      notFound: [404, 'not_found'],
      anotherUsers: [404, 'not_found'],
      noRoute: [404, 'route_not_found'],
      typeNotAllowed: [400, 'attachment_type_not_allowed'],
      uploadTooLong: [413, 'too_large'],
      uploadShort: [400, 'bad_request'],
      uploadForged: [403, 'forbidden'],
    });
    await page.close();
  });

  it('keeps a page on an origin that is not allowed from reading anything', async () => {
    const page = await open(stranger.origin);
    const outcome = await page.evaluate(async ({ api, token }) => {
      const attempt = (pending: Promise<Response>) => pending.then((r) => `read ${r.status}`, (e: Error) => e.name);
      return [
        await attempt(fetch(`${api}/threads`, { headers: { Authorization: `Bearer ${token}` } })),
        await attempt(fetch(`${api}/chatkit`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: '{"type":"threads.list","params":{}}' })),
        await attempt(fetch(`${api}/health`)),
      ];
    }, { api: dev.url, token: token('alice') });
    expect(outcome).toEqual(['TypeError', 'TypeError', 'TypeError']);
    await page.close();
  });
});
