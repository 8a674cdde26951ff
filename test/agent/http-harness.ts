import { Logger } from '@aws-lambda-powertools/logger';
import { serve, type ServerType } from '@hono/node-server';
import { SignJWT } from 'jose';
import { mkdtempSync, rmSync } from 'node:fs';
import { Console } from 'node:console';
import { PassThrough } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { createDevApp } from '../../dev/app.js';
import { DiskAttachmentStore } from '../../dev/disk-attachments.js';
import { devTransport } from '../../dev/transport.js';
import { AgentResponder, type AgentResponderOptions } from '../../shared/agent/index.js';
import { authConfigFromEnv, createTokenVerifier } from '../../shared/auth/index.js';
import type { ThreadItem, ThreadStreamEvent } from '../../shared/protocol/index.js';
import { ChatKitServer, createChatKitServerFromEnv, type ChatKitServerOptions } from '../../shared/server/index.js';
import { PostgresStore } from '../../shared/store/postgres-store.js';
import { createMigratedDatabase } from '../support/backends.js';
import { uid } from '../support/fixtures.js';
import { startScriptedOpenAI, type ScriptedOpenAI } from '../support/scripted-openai.js';
import { readSse } from '../support/sse.js';

const SECRET = 'agent-http-harness-secret-of-32-bytes!';

/** A Powertools logger whose request loggers write where it writes. */
class CapturedLogger extends Logger {
  override createChild(): Logger {
    return this;
  }
}

/** A user of the API: their id and a token for it. */
export interface HttpUser {
  userId: string;
  token: string;
}

/** A ChatKit server behind the dev app (the very per-route apps the functions serve), on a local port. */
export interface Served {
  url: string;
  /** A streaming request: the events the client reads, in order, parsed from the SSE body. */
  stream(body: unknown, as: HttpUser, init?: { signal?: AbortSignal; onEvent?: (event: ThreadStreamEvent) => void }): Promise<ThreadStreamEvent[]>;
  /** A JSON request (threads.get_by_id, items.list, …). */
  json(body: unknown, as: HttpUser): Promise<any>;
}

/**
 * Real PostgreSQL, the scripted model behind the real openai SDK, and ChatKit servers served
 * over HTTP by the dev app, their errors logged by a Powertools logger as the functions log them.
 */
export interface AgentHttpHarness {
  store: PostgresStore;
  model: ScriptedOpenAI;
  client: OpenAI;
  /** Every line the servers' logger wrote (JSON). */
  logs: string[];
  user(): Promise<HttpUser>;
  /** The server as the environment configures it (createChatKitServerFromEnv), served. */
  fromEnv(env: Record<string, string>): Promise<Served>;
  /** A server whose responder is an AgentResponder with these options (and the server with `server`'s), served. */
  withAgent(options: Omit<AgentResponderOptions, 'client' | 'model'> & { model?: string }, server?: Partial<ChatKitServerOptions>): Promise<Served>;
  items(threadId: string, as: HttpUser): Promise<ThreadItem[]>;
  close(): Promise<void>;
}

export async function startAgentHttpHarness(): Promise<AgentHttpHarness> {
  const { testDb, database } = await createMigratedDatabase();
  const store = new PostgresStore(database.db);
  const model = await startScriptedOpenAI();
  const client = new OpenAI({ apiKey: 'sk-test', baseURL: model.baseURL, maxRetries: 0 });
  const dataDir = mkdtempSync(join(tmpdir(), 'agent-http-'));
  const logs: string[] = [];
  const output = new PassThrough();
  output.on('data', (chunk: Buffer) => logs.push(...chunk.toString().split('\n').filter(Boolean)));
  const logger = new CapturedLogger({ serviceName: 'agent-http-test', logLevel: 'ERROR' });
  // Where the functions' logs go (stdout), captured: what cannot be serialized fails here as there.
  (logger as unknown as { console: Console }).console = new Console({ stdout: output, stderr: output });
  const log = { info: () => {}, warn: () => {}, error: (message: string, ...extra: unknown[]) => logger.error(message, ...(extra as [])) };
  const servers: ServerType[] = [];

  /** Serves the ChatKit server `build` makes (given the dev attachment store it should use). */
  async function served(build: (files: DiskAttachmentStore) => ChatKitServer): Promise<Served> {
    const { transport } = devTransport(createTokenVerifier(authConfigFromEnv({ JWT_SECRET: SECRET })));
    let url = '';
    const files = new DiskAttachmentStore(join(dataDir, uid('files')), 'files-secret', () => url, store);
    const chatkit = build(files);
    const app = createDevApp({ api: { transport, logger, corsOrigins: ['*'] }, store, chatkit, files });
    const server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => {
        url = `http://127.0.0.1:${info.port}`;
        resolve(s);
      });
    });
    servers.push(server);
    const post = (body: unknown, as: HttpUser, signal?: AbortSignal) =>
      fetch(`${url}/chatkit`, { method: 'POST', headers: { authorization: `Bearer ${as.token}`, 'content-type': 'application/json' }, body: JSON.stringify(body), signal });
    return {
      url,
      async stream(body, as, init = {}) {
        const response = await post(body, as, init.signal);
        if (!response.headers.get('content-type')?.startsWith('text/event-stream')) throw new Error(`not a stream: ${response.status} ${await response.text()}`);
        const events: ThreadStreamEvent[] = [];
        try {
          for await (const event of readSse(response)) {
            events.push(event);
            init.onEvent?.(event);
          }
        } catch (error) {
          if (!init.signal?.aborted) throw error;
        }
        return events;
      },
      async json(body, as) {
        return (await post(body, as)).json();
      },
    };
  }

  return {
    store,
    model,
    client,
    logs,
    async user() {
      const userId = uid('user');
      const token = await new SignJWT({ sub: userId }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(new TextEncoder().encode(SECRET));
      return { userId, token };
    },
    fromEnv: async (env) => served((attachments) => createChatKitServerFromEnv({ store, env: { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: model.baseURL, ...env }, log, attachments })),
    withAgent: ({ model: titleModel, ...options }, server = {}) =>
      served(
        (attachments) =>
          new ChatKitServer({
            store,
            attachments,
            responder: new AgentResponder({ client, model: titleModel ?? 'gpt-4.1-mini', ...options }),
            onError: (message, error) => log.error(message, { error }),
            ...server,
          }),
      ),
    async items(threadId, as) {
      return (await store.loadThreadItems(threadId, { order: 'asc', includeHidden: true, limit: 100 }, as)).data;
    },
    async close() {
      for (const server of servers) {
        server.close();
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      }
      await model.close();
      await database.close();
      await testDb.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const input = (text: string, extra: Record<string, unknown> = {}) => ({ content: [{ type: 'input_text', text }], attachments: [], inference_options: {}, ...extra });
export const threadIdOf = (events: ThreadStreamEvent[]) => (events[0] as { thread: { id: string } }).thread.id;
export const errors = (events: ThreadStreamEvent[]) => events.filter((e) => e.type === 'error');
export const lastDone = (events: ThreadStreamEvent[]) => events.flatMap((e) => (e.type === 'thread.item.done' ? [e.item] : [])).at(-1);
export const removedIds = (events: ThreadStreamEvent[]) => events.flatMap((e) => (e.type === 'thread.item.removed' ? [e.item_id] : []));

/**
 * Workflows this stream added and never ended: every workflow added in a stream is done,
 * replaced or removed in it (one left open on purpose, before a client tool call, is the caller's to allow).
 */
export function workflowsLeftOpen(events: ThreadStreamEvent[]): string[] {
  const open = new Set<string>();
  for (const event of events) {
    if (event.type === 'thread.item.added' && event.item.type === 'workflow') open.add(event.item.id);
    if (event.type === 'thread.item.done' || event.type === 'thread.item.replaced') open.delete(event.item.id);
    if (event.type === 'thread.item.removed') open.delete(event.item_id);
  }
  return [...open];
}

/** Stored workflows a reload would show still running: a task loading, or no summary. */
export function spinnersAfterReload(items: ThreadItem[]): ThreadItem[] {
  return items.filter((item) => item.type === 'workflow' && (!item.workflow.summary || item.workflow.tasks.some((task) => task.status_indicator === 'loading')));
}
