import { Logger } from '@aws-lambda-powertools/logger';
import { serve } from '@hono/node-server';
import jwt from 'jsonwebtoken';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevApp } from '../../dev/app.js';
import { DiskAttachmentStore } from '../../dev/disk-attachments.js';
import { devTransport } from '../../dev/transport.js';
import { authConfigFromEnv, createTokenVerifier } from '../../shared/auth/index.js';
import type { Database } from '../../shared/db/connect.js';
import { EchoResponder } from '../../shared/responder/echo-responder.js';
import { ChatKitServer } from '../../shared/server/index.js';
import { PostgresStore } from '../../shared/store/postgres-store.js';
import { createMigratedDatabase, type TestDatabase } from '../support/backends.js';
import { uid } from '../support/fixtures.js';
import { parseSse } from '../support/sse.js';

// The dev server's upload and preview routes (dev/disk-attachments.ts) over real HTTP, in the app
// `npm run dev` serves: the body is streamed to disk and counted as it arrives, and every signed
// URL is checked against the attachment's row.

const secret = 'dev-uploads-test-secret-of-at-least-32-bytes';
const MiB = 1024 * 1024;
let testDb: TestDatabase;
let database: Database;
let filesDir: string;
let url: string;
let close: () => Promise<void>;
let token: string;

beforeAll(async () => {
  ({ testDb, database } = await createMigratedDatabase());
  const store = new PostgresStore(database.db);
  filesDir = mkdtempSync(join(tmpdir(), 'dev-uploads-'));
  const files = new DiskAttachmentStore(filesDir, 'files-secret', () => url, store);
  const chatkit = new ChatKitServer({ store, responder: new EchoResponder(), attachments: files });
  const { transport, settled } = devTransport(createTokenVerifier(authConfigFromEnv({ JWT_SECRET: secret })));
  const app = createDevApp({ api: { transport, logger: new Logger({ logLevel: 'ERROR' }), corsOrigins: ['*'] }, store, chatkit, files });
  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = async () => {
    server.close();
    (server as unknown as { closeAllConnections(): void }).closeAllConnections();
    await settled();
  };
});
afterAll(async () => {
  await close?.();
  await database?.close();
  await testDb?.drop();
  rmSync(filesDir, { recursive: true, force: true });
});

const newUser = () => (token = jwt.sign({ sub: uid('dev') }, secret, { algorithm: 'HS256', expiresIn: '1h' }));
const chatkit = async (body: unknown) => {
  const response = await fetch(`${url}/chatkit`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, text: await response.text() };
};
async function create(name: string, mime_type: string, size: number) {
  const { status, text } = await chatkit({ type: 'attachments.create', params: { name, mime_type, size } });
  expect(status, text).toBe(200);
  return JSON.parse(text) as { id: string; upload_descriptor: { url: string; headers: Record<string, string> }; preview_url?: string };
}
const put = (upload: { url: string; headers: Record<string, string> }, bytes: Uint8Array) => fetch(upload.url, { method: 'PUT', headers: upload.headers, body: bytes });
/** Every file the store holds, by path under its root. */
const stored = (dir = filesDir): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? stored(join(dir, entry.name)).map((p) => join(entry.name, p)) : [entry.name]));

/**
 * A PUT of `total` bytes in 1 MiB chunks as a client streams it (chunked, or with the length
 * declared), stopping when the answer comes: the status, its body, and how much had been sent then.
 */
function streamingPut(target: string, headers: Record<string, string>, total: number) {
  return new Promise<{ status: number; body: string; sentWhenAnswered: number }>((resolve, reject) => {
    const chunk = Buffer.alloc(MiB, 0x61);
    let sent = 0;
    let answered = false;
    const req = request(target, { method: 'PUT', headers }, (response) => {
      answered = true;
      const sentWhenAnswered = sent;
      let body = '';
      response.setEncoding('utf8').on('data', (text: string) => (body += text));
      response.on('end', () => {
        req.destroy();
        resolve({ status: response.statusCode ?? 0, body, sentWhenAnswered });
      });
    });
    req.on('error', (error) => (answered ? undefined : reject(error)));
    const pump = () => {
      while (!answered && sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      if (!answered) req.end();
    };
    pump();
  });
}

describe('the dev upload route', () => {
  it('stops reading a body past its grant: a chunked 256 MiB PUT to a 4-byte grant is refused while it arrives, and nothing is kept', async () => {
    newUser();
    const file = await create('four.txt', 'text/plain', 4);
    const answer = await streamingPut(file.upload_descriptor.url, { 'content-type': 'text/plain' }, 256 * MiB);
    expect(answer.sentWhenAnswered).toBeLessThan(64 * MiB);
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toEqual({ error: { code: 'too_large', message: 'expected 4 bytes' } });
    expect(stored()).toEqual([]);

    // Declared too long: refused before a byte of the body is read.
    const declared = await streamingPut(file.upload_descriptor.url, { 'content-type': 'text/plain', 'content-length': String(256 * MiB) }, 256 * MiB);
    expect(declared.status).toBe(413);
    expect(declared.sentWhenAnswered).toBeLessThan(64 * MiB);

    // The grant is still good for the upload it was made for.
    expect((await put(file.upload_descriptor, Buffer.from('four'))).status).toBe(200);
    expect(stored()).toHaveLength(1);
  });

  it('takes one upload per URL: a second PUT is 409 and leaves the first bytes', async () => {
    newUser();
    const file = await create('once.txt', 'text/plain', 4);
    expect((await put(file.upload_descriptor, Buffer.from('good'))).status).toBe(200);
    const again = await put(file.upload_descriptor, Buffer.from('evil'));
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ error: { code: 'already_uploaded' } });
    const [path] = stored().filter((p) => p.endsWith(file.id));
    expect(readFileSync(join(filesDir, path!), 'utf8')).toBe('good');
  });

  it('after attachments.delete, neither its upload URL nor its preview URL stores or serves bytes', async () => {
    newUser();
    const png = Buffer.from('89504e470d0a1a0a', 'hex');
    const image = await create('dot.png', 'image/png', png.length);
    expect((await put(image.upload_descriptor, png)).status).toBe(200);
    expect((await fetch(image.preview_url!)).status).toBe(200);
    expect((await chatkit({ type: 'attachments.delete', params: { attachment_id: image.id } })).status).toBe(200);
    expect((await put(image.upload_descriptor, png)).status).toBe(404);
    expect((await fetch(image.preview_url!)).status).toBe(404);
    expect(stored().filter((p) => p.endsWith(image.id))).toEqual([]);
  });

  it('after its thread is deleted, an attachment\'s old upload and preview URLs store and serve nothing', async () => {
    newUser();
    const png = Buffer.from('89504e470d0a1a0a', 'hex');
    const image = await create('dot.png', 'image/png', png.length);
    expect((await put(image.upload_descriptor, png)).status).toBe(200);
    const created = await chatkit({ type: 'threads.create', params: { input: { content: [{ type: 'input_text', text: 'look' }], attachments: [image.id] } } });
    const threadId = (parseSse(created.text)[0] as { thread: { id: string } }).thread.id;
    const thread = JSON.parse((await chatkit({ type: 'threads.get_by_id', params: { thread_id: threadId } })).text);
    const preview = thread.items.data[0].attachments[0].preview_url as string;
    expect(Buffer.from(await (await fetch(preview)).arrayBuffer())).toEqual(png);
    expect((await fetch(image.preview_url!)).status).toBe(200); // the one made at upload still shows it

    expect((await fetch(`${url}/threads/${threadId}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    expect((await put(image.upload_descriptor, Buffer.from('89504e470d0a1a0b', 'hex'))).status).toBe(404);
    for (const old of [preview, image.preview_url!]) expect((await fetch(old)).status).toBe(404);
    expect(stored().filter((p) => p.endsWith(image.id))).toEqual([]);
  });
});
