import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createAssistant } from '../../shared/agent/index.js';
import { SEARCH_LOCK_SPACE, SEARCHES_PER_USER } from '../../shared/store/search.js';
import type { ChatKitServer } from '../../shared/server/index.js';
import { doneItems, input, itemsOf, modelRequests, newUser, startAgentHarness, stream, text, trace, updates, type AgentHarness } from './harness.js';

// The default assistant (shared/agent/assistant.ts) with its built-in search_conversations tool.
let h: AgentHarness;
let server: ChatKitServer;

beforeAll(async () => {
  h = await startAgentHarness();
  server = h.serverFor(createAssistant({ model: 'gpt-test', instructions: 'Be brief.' }));
});
afterAll(() => h?.close());

async function threadSaying(as: { userId: string }, question: string, answer: string) {
  h.model.enqueue({ text: answer });
  h.model.enqueueTitle(question);
  const events = await stream(server, { type: 'threads.create', params: { input: input(question) } }, { as });
  return (events[0] as { thread: { id: string } }).thread.id;
}

describe('search_conversations', () => {
  it("runs on the server with a task shown while it runs, feeds the user's own matching thread to the model, then streams the answer", async () => {
    const me = newUser();
    const other = newUser();
    const earlier = await threadSaying(me, 'My sourdough starter needs a name', 'How about Clint Yeastwood?');
    await threadSaying(other, 'Secret sourdough recipe', 'Never share the sourdough secret: saffron.');
    const usageBefore = h.usage.length;

    h.model.enqueue({ functionCall: { name: 'search_conversations', arguments: '{"query":"sourdough"}', call_id: 'call_search' } }, { text: 'You named it Clint Yeastwood.' });
    h.model.enqueueTitle('Starter name');
    const events = await stream(server, { type: 'threads.create', params: { input: input('What did we call my starter?') } }, { as: me });
    const threadId = (events[0] as { thread: { id: string } }).thread.id;

    // The task is shown (loading) before the tool's output, completed after, and closed before the answer.
    expect(trace(events)).toEqual([
      'thread.created',
      'thread.item.done:user_message',
      'stream_options',
      'thread.item.added:workflow',
      'updated:workflow.task.updated',
      'thread.item.done:workflow',
      'thread.item.added:assistant_message',
      'updated:assistant_message.content_part.added',
      ...Array(5).fill('updated:assistant_message.content_part.text_delta'),
      'updated:assistant_message.content_part.done',
      'thread.item.done:assistant_message',
      'thread.updated',
    ]);
    const added = events[3] as { item: { workflow: { tasks: unknown[] } } };
    expect(added.item.workflow.tasks).toEqual([{ type: 'custom', title: 'Searching your conversations', icon: 'search', content: 'sourdough', status_indicator: 'loading' }]);
    expect(updates(events)[0]).toMatchObject({ type: 'workflow.task.updated', task_index: 0, task: { status_indicator: 'complete' } });
    expect(doneItems(events)[1]).toMatchObject({ type: 'workflow', workflow: { type: 'custom', expanded: false, summary: { duration: expect.any(Number) } } });
    expect(text(events)).toBe('You named it Clint Yeastwood.');

    // The model offered the tool, then read its output: my earlier thread, nobody else's.
    const [first, second] = modelRequests(h.model).slice(-2);
    expect(first!.body.tools.map((t: { name: string }) => t.name)).toEqual(['search_conversations', 'get_time', 'rename_conversation']);
    expect(first!.body).toMatchObject({ model: 'gpt-test', instructions: 'Be brief.', store: false });
    const output = second!.body.input.find((item: { type?: string }) => item.type === 'function_call_output');
    expect(output).toMatchObject({ call_id: 'call_search' });
    const results = JSON.parse(output.output).results;
    expect(results).toEqual([{ thread_id: earlier, title: 'My sourdough starter needs a name', date: expect.any(String), passage: expect.stringContaining('**sourdough**') }]);
    expect(output.output).not.toContain('saffron');
    expect(second!.body.input.slice(0, 2)).toEqual([
      { role: 'user', content: [{ type: 'input_text', text: 'What did we call my starter?' }] },
      { type: 'function_call', call_id: 'call_search', name: 'search_conversations', arguments: '{"query":"sourdough"}', status: 'completed', id: expect.any(String) },
    ]);

    expect((await itemsOf(h.store, threadId, me)).map((i) => i.type)).toEqual(['user_message', 'workflow', 'assistant_message']);
    expect(h.usage.slice(usageBefore)).toEqual([{ inputTokens: 20, outputTokens: 10, requests: 2 }]);
  });

  it('tells the model when nothing matches, and never searches the current thread', async () => {
    const me = newUser();
    h.model.enqueue({ functionCall: { name: 'search_conversations', arguments: '{"query":"narwhal"}', call_id: 'call_none' } }, { text: 'I found nothing.' });
    h.model.enqueueTitle('Narwhals');
    await stream(server, { type: 'threads.create', params: { input: input('Did we talk about a narwhal?') } }, { as: me });
    const output = modelRequests(h.model).at(-1)!.body.input.find((item: { type?: string }) => item.type === 'function_call_output');
    expect(JSON.parse(output.output)).toEqual({ results: [], note: 'No earlier conversation matches these words.' });
  });

  it("tells the model to try later when the user's searches are all busy, and the turn goes on", async () => {
    const me = newUser();
    // Every search slot of this user held from another session, as that many running searches hold them.
    const holder = new pg.Client({ connectionString: h.databaseUrl });
    await holder.connect();
    try {
      for (let n = 1; n <= SEARCHES_PER_USER; n++) await holder.query('SELECT pg_advisory_lock($1::int, hashtext($2))', [SEARCH_LOCK_SPACE, `${me.userId}:${n}`]);
      h.model.enqueue({ functionCall: { name: 'search_conversations', arguments: '{"query":"wombat"}', call_id: 'call_busy' } }, { text: 'Searching is busy; ask me again.' });
      h.model.enqueueTitle('Wombats');
      const events = await stream(server, { type: 'threads.create', params: { input: input('Did we talk about wombats?') } }, { as: me });
      expect(events.filter((e) => e.type === 'error')).toEqual([]);
      expect(text(events)).toBe('Searching is busy; ask me again.');
      const output = modelRequests(h.model).at(-1)!.body.input.find((item: { type?: string }) => item.type === 'function_call_output');
      expect(JSON.parse(output.output)).toEqual({ results: [], note: expect.stringContaining('busy') });
    } finally {
      await holder.end();
    }
  });

  it('is called when the user picks it as the tool (tool_choice), and an unknown tool is refused before any stream', async () => {
    const me = newUser();
    h.model.enqueue({ functionCall: { name: 'search_conversations', arguments: '{"query":"anything"}' } }, { text: 'Nothing yet.' });
    h.model.enqueueTitle('Picked');
    const picked = { ...input('Look it up'), inference_options: { tool_choice: { id: 'search_conversations' } } };
    await stream(server, { type: 'threads.create', params: { input: picked } }, { as: me });
    const [first, second] = modelRequests(h.model).slice(-2);
    expect(first!.body.tool_choice).toEqual({ type: 'function', name: 'search_conversations' });
    // Once the tool ran, the model is free again (or it would call the tool forever).
    expect(second!.body.tool_choice ?? 'auto').toBe('auto');
    const unknown = { ...input('x'), inference_options: { tool_choice: { id: 'web_search' } } };
    await expect(server.process(JSON.stringify({ type: 'threads.create', params: { input: unknown } }), me, { signal: new AbortController().signal })).rejects.toMatchObject({
      status: 400,
      code: 'unknown_tool',
      message: 'inference_options.tool_choice.id: expected one of search_conversations, get_time, rename_conversation',
    });
  });
});
