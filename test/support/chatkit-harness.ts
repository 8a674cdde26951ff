import OpenAI from 'openai';
import { expect } from 'vitest';
import type { ThreadItem, ThreadStreamEvent } from '../../shared/protocol/index.js';
import { OpenAIResponder, OpenAITranscriber } from '../../shared/responder/openai-responder.js';
import { ChatKitServer, type ChatKitResult, type ChatKitServerOptions } from '../../shared/server/index.js';
import { PostgresStore } from '../../shared/store/postgres-store.js';
import { createMigratedDatabase } from './backends.js';
import { startScriptedOpenAI, type ScriptedOpenAI } from './scripted-openai.js';

export type User = { userId: string };
export interface CallOptions {
  as?: User;
  signal?: AbortSignal;
  waitUntil?: (work: Promise<unknown>) => void;
}

/**
 * A ChatKit server on a fresh database of the real PostgreSQL server, answering through the
 * real `openai` SDK from the scripted model server; with helpers that call it as a client would.
 */
export async function startChatKit(options: Partial<ChatKitServerOptions> = {}, onQuery?: (sql: string) => void) {
  const { testDb, database } = await createMigratedDatabase({ onQuery });
  const store = new PostgresStore(database.db);
  const model: ScriptedOpenAI = await startScriptedOpenAI();
  const client = new OpenAI({ apiKey: 'sk-test', baseURL: model.baseURL, maxRetries: 0 });
  const server = new ChatKitServer({
    store,
    responder: new OpenAIResponder({ client, model: 'gpt-test', instructions: 'Be brief.' }),
    transcriber: new OpenAITranscriber(client),
    ...options,
  });

  async function call(body: unknown, user: User, options: CallOptions = {}): Promise<ChatKitResult> {
    const raw = typeof body === 'string' ? body : JSON.stringify(body);
    return server.process(raw, options.as ?? user, { signal: options.signal ?? new AbortController().signal, waitUntil: options.waitUntil });
  }

  return {
    server,
    store,
    model,
    database,
    client,
    call,
    async json(body: unknown, user: User): Promise<any> {
      const result = await call(body, user);
      expect(result.kind).toBe('json');
      return JSON.parse(JSON.stringify((result as { body: unknown }).body));
    },
    async stream(body: unknown, user: User, options: CallOptions & { onEvent?: (event: ThreadStreamEvent) => void } = {}) {
      return clientEvents(await call(body, user, options), options.onEvent);
    },
    /** Every item of a thread in order, hidden ones included. */
    async allItems(threadId: string, user: User): Promise<ThreadItem[]> {
      return (await store.loadThreadItems(threadId, { order: 'asc', includeHidden: true, limit: 100 }, user)).data;
    },
    async close() {
      await model.close();
      await database.close();
      await testDb.drop();
    },
  };
}

export type ChatKitHarness = Awaited<ReturnType<typeof startChatKit>>;

/** Drives a streaming result to its end, as the transport does, and returns what the client saw (as JSON). */
export async function clientEvents(result: ChatKitResult, onEvent?: (event: ThreadStreamEvent) => void): Promise<ThreadStreamEvent[]> {
  expect(result.kind).toBe('stream');
  const events: ThreadStreamEvent[] = [];
  for await (const event of (result as { events: AsyncIterable<ThreadStreamEvent> }).events) {
    events.push(JSON.parse(JSON.stringify(event)));
    onEvent?.(event);
  }
  return events;
}

export const input = (text: string, extra: Record<string, unknown> = {}) => ({
  content: [{ type: 'input_text', text }],
  attachments: [],
  inference_options: {},
  ...extra,
});

export const doneItems = (events: ThreadStreamEvent[]) => events.flatMap((e) => (e.type === 'thread.item.done' ? [e.item] : []));
export const threadIdOf = (events: ThreadStreamEvent[]) => (events[0] as { thread: { id: string } }).thread.id;
