import { Agent } from '@openai/agents-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AgentResponder, assistantToolTask, clientTool, createAssistant, OfflineModelProvider, serverTool, stopAtClientToolCall, type AgentContext, type Assistant } from '../../shared/agent/index.js';
import type { Database } from '../../shared/db/connect.js';
import type { ThreadStreamEvent } from '../../shared/protocol/index.js';
import { ChatKitServer } from '../../shared/server/index.js';
import { PostgresStore } from '../../shared/store/postgres-store.js';
import { createMigratedDatabase, type TestDatabase } from '../support/backends.js';
import { doneItems, input, itemsOf, newUser, stream, text, trace } from './harness.js';

// The real agent, its tools and the event mapping, on the offline model: what `npm run dev` runs without a key.
let testDb: TestDatabase;
let database: Database;
let store: PostgresStore;
const calls: Array<{ tool: string; args: unknown }> = [];
const errors: unknown[] = [];

const lookupOrder = serverTool({
  name: 'lookup_order',
  description: 'Looks up an order',
  parameters: z.object({ orderId: z.string(), verbose: z.boolean().nullable() }),
  execute: async (args, ctx) => {
    calls.push({ tool: 'lookup_order', args });
    await ctx.progress(`Looking up ${args.orderId}`);
    return JSON.stringify({ orderId: args.orderId, status: 'shipped' });
  },
});
const getSelection = clientTool({ name: 'get_selection', description: 'The selected text', parameters: z.object({}) });
const agent = new Agent<AgentContext>({ name: 'Shop', instructions: 'Help.', tools: [lookupOrder, getSelection], toolUseBehavior: stopAtClientToolCall });

function serverFor(a: Agent<AgentContext, any> | Assistant) {
  return new ChatKitServer({
    store,
    responder: new AgentResponder({ toolTask: assistantToolTask, ...('agent' in a ? a : { agent: a }), modelProvider: new OfflineModelProvider(), model: 'offline' }),
    onError: (_message, error) => void errors.push(error),
  });
}

beforeAll(async () => {
  ({ testDb, database } = await createMigratedDatabase());
  store = new PostgresStore(database.db);
});
afterAll(async () => {
  await database?.close();
  await testDb?.drop();
});

const created = (events: ThreadStreamEvent[]) => (events[0] as Extract<ThreadStreamEvent, { type: 'thread.created' }>).thread.id;

describe('the offline model', () => {
  it('echoes plain text, streamed as a model answer, and titles the thread with its first words', async () => {
    const me = newUser();
    const events = await stream(serverFor(agent), { type: 'threads.create', params: { input: input('Hello there, offline world') } }, { as: me });
    expect(text(events)).toBe('(offline echo) Hello there, offline world');
    expect(trace(events)).toContain('thread.item.done:assistant_message');
    const [thread] = (await store.loadThreads({ limit: 1, order: 'desc' }, me)).data;
    expect(thread?.title).toBe('Hello there, offline world');
    expect(errors).toEqual([]);
  });

  it('calls a tool named with /tool {json}: with those arguments, a task running then complete, and an answer showing its output', async () => {
    const me = newUser();
    calls.length = 0;
    const events = await stream(serverFor(agent), { type: 'threads.create', params: { input: input('/lookup_order {"orderId":"A-17","verbose":true}') } }, { as: me });
    expect(calls).toEqual([{ tool: 'lookup_order', args: { orderId: 'A-17', verbose: true } }]);
    const added = events.find((e) => e.type === 'thread.item.added' && e.item.type === 'workflow') as Extract<ThreadStreamEvent, { type: 'thread.item.added' }>;
    expect(added.item).toMatchObject({ workflow: { tasks: [{ title: 'Lookup order', status_indicator: 'loading' }] } });
    const answer = doneItems(events).find((i) => i.type === 'assistant_message')!;
    expect(JSON.stringify(answer)).toContain('lookup_order returned {\\"orderId\\":\\"A-17\\",\\"status\\":\\"shipped\\"}');
    const stored = await itemsOf(store, created(events), me);
    expect(stored.map((i) => i.type)).toEqual(['user_message', 'workflow', 'assistant_message']);
    expect(stored[1]).toMatchObject({ workflow: { tasks: [{ title: 'Lookup order', status_indicator: 'complete' }] } });
  });

  it('says which tools there are for an unknown /name, and how to write arguments that are not a JSON object', async () => {
    const me = newUser();
    calls.length = 0;
    const unknown = await stream(serverFor(agent), { type: 'threads.create', params: { input: input('/refund {}') } }, { as: me });
    expect(text(unknown)).toBe('(offline) This agent has no tool named refund. Its tools: lookup_order, get_selection.');
    const bad = await stream(serverFor(agent), { type: 'threads.create', params: { input: input('/lookup_order A-17') } }, { as: me });
    expect(text(bad)).toBe('(offline) The arguments of /lookup_order must be a JSON object, e.g. /lookup_order {}');
    expect(calls).toEqual([]);
  });

  it('calls the tool a client picks with tool_choice, its text parameters filled with the message', async () => {
    const me = newUser();
    calls.length = 0;
    const picked = { ...input('B-2'), inference_options: { tool_choice: { id: 'lookup_order' } } };
    const events = await stream(serverFor(agent), { type: 'threads.create', params: { input: picked } }, { as: me });
    expect(calls).toEqual([{ tool: 'lookup_order', args: { orderId: 'B-2', verbose: null } }]);
    expect(text(events)).toContain('lookup_order returned');
  });

  it('hands a client tool to the client, and answers with its output in the next turn', async () => {
    const me = newUser();
    const events = await stream(serverFor(agent), { type: 'threads.create', params: { input: input('/get_selection {}') } }, { as: me });
    expect(doneItems(events).at(-1)).toMatchObject({ type: 'client_tool_call', name: 'get_selection', status: 'pending', arguments: {} });
    const resumed = await stream(serverFor(agent), { type: 'threads.add_client_tool_output', params: { thread_id: created(events), result: { text: 'hello' } } }, { as: me });
    expect(text(resumed)).toBe('get_selection returned {"text":"hello"}');
  });

  it('echoes only what the user typed: not quoted text, tags or attachments', async () => {
    const me = newUser();
    const quoted = { ...input('Explain this'), quoted_text: 'an earlier answer', content: [{ type: 'input_text', text: 'Explain ' }, { type: 'input_tag', id: 't1', text: 'Ada', data: { id: 1 } }] };
    const events = await stream(serverFor(agent), { type: 'threads.create', params: { input: quoted } }, { as: me });
    expect(text(events)).toBe('(offline echo) Explain @Ada');
  });

  it("runs the assistant's own tools: /get_time {} shows a task and answers with the time", async () => {
    const me = newUser();
    const before = Date.now();
    const events = await stream(serverFor(createAssistant({ model: 'offline' })), { type: 'threads.create', params: { input: input('/get_time {}') } }, { as: me });
    expect(trace(events)).toEqual(expect.arrayContaining(['thread.item.added:workflow', 'thread.item.done:workflow', 'thread.item.done:assistant_message']));
    const answer = text(events);
    expect(answer).toMatch(/^get_time returned \{"now":"[^"]+"\}$/);
    const now = Date.parse(JSON.parse(answer.replace('get_time returned ', '')).now);
    expect(now).toBeGreaterThanOrEqual(before - 1000);
    expect(now).toBeLessThanOrEqual(Date.now() + 1000);
  });
});
