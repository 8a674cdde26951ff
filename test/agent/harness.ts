import OpenAI from 'openai';
import type { Agent } from '@openai/agents-core';
import { AgentResponder, type AgentContext, type AgentResponderOptions, type Assistant, type TurnUsage } from '../../shared/agent/index.js';
import type { Database } from '../../shared/db/connect.js';
import type { ThreadItem, ThreadStreamEvent } from '../../shared/protocol/index.js';
import { ChatKitServer, type ChatKitServerOptions } from '../../shared/server/index.js';
import { PostgresStore } from '../../shared/store/postgres-store.js';
import { createMigratedDatabase } from '../support/backends.js';
import { uid } from '../support/fixtures.js';
import { clientEvents } from '../support/chatkit-harness.js';
import { startScriptedOpenAI, type ScriptedOpenAI } from '../support/scripted-openai.js';

/** A real database, the scripted model behind the real openai SDK, and ChatKit servers around agents. */
export interface AgentHarness {
  store: PostgresStore;
  database: Database;
  model: ScriptedOpenAI;
  client: OpenAI;
  /** The test database, directly (for a second session). */
  databaseUrl: string;
  usage: TurnUsage[];
  errors: unknown[];
  /** A ChatKit server whose responder runs this agent (or assistant). */
  serverFor(agent: Agent<AgentContext, any> | Assistant, options?: Partial<AgentResponderOptions>, serverOptions?: Partial<ChatKitServerOptions>): ChatKitServer;
  close(): Promise<void>;
}

export async function startAgentHarness(): Promise<AgentHarness> {
  const { testDb, database } = await createMigratedDatabase();
  const store = new PostgresStore(database.db);
  const model = await startScriptedOpenAI();
  const client = new OpenAI({ apiKey: 'sk-test', baseURL: model.baseURL, maxRetries: 0 });
  const usage: TurnUsage[] = [];
  const errors: unknown[] = [];
  return {
    store,
    database,
    databaseUrl: testDb.url,
    model,
    client,
    usage,
    errors,
    serverFor: (agent, options = {}, serverOptions = {}) =>
      new ChatKitServer({
        store,
        responder: new AgentResponder({ client, model: 'gpt-test', ...('agent' in agent ? agent : { agent }), onUsage: (u) => void usage.push(u), ...options }),
        onError: (_message, error) => void errors.push(error),
        ...serverOptions,
      }),
    close: async () => {
      await model.close();
      await database.close();
      await testDb.drop();
    },
  };
}

export const newUser = () => ({ userId: uid('user') });
export const input = (text: string) => ({ content: [{ type: 'input_text', text }], attachments: [], inference_options: {} });

export interface StreamOptions {
  as: { userId: string };
  signal?: AbortSignal;
  onEvent?: (event: ThreadStreamEvent) => void;
}

/** Runs a streaming request to the end, returning its events as the client receives them (JSON). */
export async function stream(server: ChatKitServer, body: unknown, options: StreamOptions): Promise<ThreadStreamEvent[]> {
  return clientEvents(await server.process(JSON.stringify(body), options.as, { signal: options.signal ?? new AbortController().signal }), options.onEvent);
}

export const doneItems = (events: ThreadStreamEvent[]) => events.flatMap((e) => (e.type === 'thread.item.done' ? [e.item] : []));
export const updates = (events: ThreadStreamEvent[]) => events.flatMap((e) => (e.type === 'thread.item.updated' ? [e.update] : []));
export const text = (events: ThreadStreamEvent[]) =>
  updates(events)
    .flatMap((u) => (u.type === 'assistant_message.content_part.text_delta' ? [u.delta] : []))
    .join('');

export async function itemsOf(store: PostgresStore, threadId: string, as: { userId: string }): Promise<ThreadItem[]> {
  return (await store.loadThreadItems(threadId, { order: 'asc', includeHidden: true, limit: 100 }, as)).data;
}

/** The streamed model requests (the Responses API calls the agent made), oldest first. */
export const modelRequests = (model: ScriptedOpenAI) => model.requests.filter((r) => r.path === '/v1/responses' && r.body?.stream);

/** A compact trace of an event stream: "type" or "type:update" per event, to check order. */
export function trace(events: ThreadStreamEvent[]): string[] {
  return events.map((e) => {
    switch (e.type) {
      case 'thread.item.added':
      case 'thread.item.done':
      case 'thread.item.replaced':
        return `${e.type}:${e.item.type}`;
      case 'thread.item.updated':
        return `updated:${e.update.type}`;
      default:
        return e.type;
    }
  });
}
