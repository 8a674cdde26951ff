/**
 * One process whose memory is measured while it does attachment work (run by attachment-memory.ts
 * as its own process, `--expose-gc`, given a probe as JSON in argv):
 *
 * - `turn`: turns through the server as the environment builds it (the assistant agent, the real
 *   `openai` SDK, a scripted model) on a thread whose history names one text file of `fileMiB` in
 *   `references` messages, kept in S3 (s3rver, run by the parent) or by the dev disk store. Prints
 *   one line of JSON: the growth of each turn, peak resident set during the turn minus the
 *   resident set before it.
 * - `upload`: the dev app (`npm run dev`'s) on a free port; the parent sends the uploads and asks,
 *   over IPC, for the resident set before (`mark`) and the peak since (`peak`).
 */
import { serve } from '@hono/node-server';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { createDevApp } from '../dev/app.js';
import { DiskAttachmentStore } from '../dev/disk-attachments.js';
import { devTransport } from '../dev/transport.js';
import { authConfigFromEnv, createTokenVerifier } from '../shared/auth/index.js';
import { openDatabase } from '../shared/db/connect.js';
import { migrateToLatest } from '../shared/db/migrate.js';
import type { Attachment, ThreadItem } from '../shared/protocol/index.js';
import { EchoResponder } from '../shared/responder/echo-responder.js';
import { ChatKitServer, createChatKitServerFromEnv, type AttachmentStore } from '../shared/server/index.js';
import { attachmentsS3Client, loadS3Sdk, S3AttachmentStore } from '../functions/runtime/s3-attachments.js';
import { PostgresStore } from '../shared/store/postgres-store.js';
import { startScriptedOpenAI } from '../test/support/scripted-openai.js';

/** Where the file is: already in S3 at `key` (the parent put it there), or written by the probe to disk. */
export type ProbeFiles = { kind: 's3'; endpoint: string; bucket: string; key: string } | { kind: 'disk' };

export type AttachmentProbe =
  | { kind: 'turn'; url: string; files: ProbeFiles; fileMiB: number; references: number; turns: number }
  | { kind: 'upload'; url: string; secret: string };

export interface TurnProbeResult {
  /** Per turn: peak RSS during it minus RSS before it, MiB. */
  growthMiB: number[];
}

const MiB = 2 ** 20;
const gc = () => (globalThis as { gc?: () => void }).gc?.();
const rss = () => process.memoryUsage().rss;

/**
 * Measures the peak resident set from now on: the kernel's high-water mark is reset (Linux
 * clear_refs) and, in case it cannot be, the resident set is sampled as well.
 */
function peakFromNow() {
  let resettable = true;
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    resettable = false;
  }
  let sampled = rss();
  const timer = setInterval(() => (sampled = Math.max(sampled, rss())), 2);
  return () => {
    clearInterval(timer);
    const hwm = resettable ? Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) * 1024 : 0;
    return Math.max(sampled, rss(), hwm);
  };
}

async function settle() {
  gc();
  await new Promise((resolve) => setTimeout(resolve, 50));
  gc();
}

const probe = JSON.parse(process.argv[2]!) as AttachmentProbe;
const database = await openDatabase({ url: probe.url });
await migrateToLatest(database.db);
const store = new PostgresStore(database.db);
const filesDir = mkdtempSync(join(tmpdir(), 'bench-attachment-memory-'));
const ctx = { userId: `bench-${randomUUID()}` };

if (probe.kind === 'turn') {
  const model = await startScriptedOpenAI();
  const size = probe.fileMiB * MiB;
  let files: AttachmentStore;
  let metadata: Record<string, unknown>;
  if (probe.files.kind === 's3') {
    const sdk = await loadS3Sdk();
    const client = attachmentsS3Client(sdk, { region: 'us-east-1', endpoint: probe.files.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    files = new S3AttachmentStore(sdk, client, probe.files.bucket);
    metadata = { key: probe.files.key, size };
  } else {
    // The file as a message keeps it.
    const path = join('attached', 'bench', 'big.txt');
    mkdirSync(dirname(join(filesDir, path)), { recursive: true });
    writeFileSync(join(filesDir, path), Buffer.alloc(size, 'x'));
    files = new DiskAttachmentStore(filesDir, 'bench-secret', () => 'http://127.0.0.1', store);
    metadata = { path, size, attached: true };
  }
  const env = { OPENAI_API_KEY: 'sk-bench', OPENAI_BASE_URL: model.baseURL, OPENAI_MODEL: 'bench' };
  const quiet = { info: () => {}, warn: () => {}, error: (message: string, extra: unknown) => console.error(message, extra) };
  const server = createChatKitServerFromEnv({ store, env, log: quiet, attachments: files });

  // A thread whose messages name the file `references` times.
  const threadId = `thr_${randomUUID()}`;
  const attachment = { id: `atc_${randomUUID()}`, type: 'file', name: 'big.txt', mime_type: 'text/plain', metadata, thread_id: threadId } as Attachment;
  await store.saveAttachment(attachment, ctx);
  const now = () => new Date().toISOString();
  await store.createThread({ id: threadId, created_at: now(), status: { type: 'active' }, metadata: {}, title: 'Attachments' }, null, ctx);
  for (let i = 0; i < probe.references; i++) {
    const message = { id: `msg_${randomUUID()}`, thread_id: threadId, created_at: now(), type: 'user_message', content: [{ type: 'input_text', text: `file ${i}` }], attachments: [attachment], inference_options: {} };
    await store.addThreadItem(threadId, message as ThreadItem, ctx);
  }
  const turn = async () => {
    model.enqueue({ text: 'Read.' });
    const body = { type: 'threads.add_user_message', params: { thread_id: threadId, input: { content: [{ type: 'input_text', text: 'and now?' }], attachments: [], inference_options: {} } } };
    const result = await server.process(JSON.stringify(body), ctx, { signal: new AbortController().signal });
    if (result.kind === 'stream') for await (const event of result.events) if (event.type === 'error') throw new Error(`the turn failed: ${JSON.stringify(event)}`);
  };

  await turn(); // the first turn loads what every turn then shares (the SDK's modules)
  const growthMiB: number[] = [];
  for (let i = 0; i < probe.turns; i++) {
    await settle();
    const before = rss();
    const peak = peakFromNow();
    await turn();
    growthMiB.push((peak() - before) / MiB);
  }
  console.log(JSON.stringify({ growthMiB } satisfies TurnProbeResult));
  await model.close();
  await database.close();
  rmSync(filesDir, { recursive: true, force: true });
  process.exit(0);
}

if (probe.kind === 'upload') {
  let url = '';
  const files = new DiskAttachmentStore(filesDir, 'bench-secret', () => url, store);
  const chatkit = new ChatKitServer({ store, responder: new EchoResponder(), attachments: files });
  const { transport } = devTransport(createTokenVerifier(authConfigFromEnv({ JWT_SECRET: probe.secret })));
  const app = createDevApp({ api: { transport, logger: new Logger({ logLevel: 'ERROR' }), corsOrigins: ['*'] }, store, chatkit, files });
  const listener = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => listener.once('listening', resolve));
  url = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
  let peak: (() => number) | undefined;
  let before = 0;
  process.on('message', async (message: 'mark' | 'peak' | 'stop') => {
    if (message === 'mark') {
      await settle();
      before = rss();
      peak = peakFromNow();
      process.send!({ marked: true });
    } else if (message === 'peak') {
      process.send!({ growthMiB: (peak!() - before) / MiB });
    } else {
      listener.close();
      await database.close();
      rmSync(filesDir, { recursive: true, force: true });
      process.exit(0);
    }
  });
  process.send!({ url });
}
