import { Agent } from '@openai/agents-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { clientTool, serverTool, stopAtClientToolCall, TurnError, type AgentContext } from '../../shared/agent/index.js';
import type { JsonObject, ThreadStreamEvent } from '../../shared/protocol/index.js';
import { CANCELLED_NOTE, type ChatKitServer } from '../../shared/server/index.js';
import { doneItems, input, itemsOf, modelRequests, newUser, startAgentHarness, stream, text, trace, updates, type AgentHarness } from './harness.js';

// Tools running in a turn: widgets, workflows, progress and effects through AgentContext,
// client tool calls across two turns, failures and cancellation.
let h: AgentHarness;
let server: ChatKitServer;
const seen: { aborted: boolean[]; finishedAfterAbort: boolean } = { aborted: [], finishedAfterAbort: false };

const forecast = serverTool({
  name: 'show_forecast',
  description: 'Shows the forecast as a widget',
  parameters: z.object({ city: z.string() }),
  execute: async ({ city }, context) => {
    await context.progress(`Looking up ${city}`, 'search');
    // A widget whose text grows, then a static one.
    async function* states(): AsyncGenerator<JsonObject> {
      const card = (value: string, streaming: boolean) => ({ type: 'Card', children: [{ type: 'Title', value: city }, { type: 'Text', id: 'summary', value, streaming }] });
      yield card('', true);
      yield card('Sunny', true);
      yield card('Sunny, 24°C', false);
    }
    await context.streamWidget(states(), { copyText: `Forecast for ${city}` });
    await context.streamWidget({ type: 'Card', children: [{ type: 'Button', label: 'Refresh', onClickAction: { type: 'refresh' } }] });
    await context.clientEffect('highlight_city', { city });
    return 'The widget shows the forecast.';
  },
});

const checklist = serverTool({
  name: 'run_checklist',
  description: 'Runs a checklist, showing a workflow',
  parameters: z.object({}),
  execute: async (_args, context) => {
    await context.startWorkflow({ type: 'custom', tasks: [] });
    const first = await context.addWorkflowTask({ type: 'custom', title: 'Check inventory', status_indicator: 'loading' });
    await context.updateWorkflowTask({ type: 'custom', title: 'Check inventory', status_indicator: 'complete' }, first);
    await context.addWorkflowTask({ type: 'custom', title: 'Reserve items', status_indicator: 'complete' });
    await context.endWorkflow({ summary: { title: 'Checked 2 things' }, expanded: true });
    return 'done';
  },
});

const getLocation = clientTool({ name: 'get_location', description: "The user's location, from the browser", parameters: z.object({ precise: z.boolean() }) });

const explode = serverTool({
  name: 'explode',
  description: 'Fails',
  parameters: z.object({ visible: z.boolean() }),
  execute: async ({ visible }, context) => {
    await context.streamWidget({ type: 'Card', children: [{ type: 'Text', value: 'half-way' }] });
    if (visible) throw new TurnError('The inventory service is down; try again later.', { allowRetry: true });
    throw new Error('database on fire: password=hunter2');
  },
});

const waitForever = serverTool({
  name: 'wait_forever',
  description: 'Takes long',
  parameters: z.object({}),
  execute: (_args, context) =>
    new Promise<string>((resolve) => {
      context.signal.addEventListener('abort', () => {
        seen.aborted.push(true);
        resolve('stopped');
        // Events sent after the turn ended go nowhere, and do not hang the tool.
        void context.progress('too late').then(() => (seen.finishedAfterAbort = true));
      });
    }),
});

beforeAll(async () => {
  h = await startAgentHarness();
  const agent = new Agent<AgentContext>({
    name: 'Tools',
    instructions: 'Use the tools.',
    tools: [forecast, checklist, getLocation, explode, waitForever],
    toolUseBehavior: stopAtClientToolCall,
  });
  server = h.serverFor(agent);
});
afterAll(() => h?.close());

async function newThread(as: { userId: string }) {
  h.model.enqueue({ text: 'Hello.' });
  h.model.enqueueTitle('Tools');
  const events = await stream(server, { type: 'threads.create', params: { input: input('Hi') } }, { as });
  return (events[0] as { thread: { id: string } }).thread.id;
}
const say = (threadId: string, message: string, as: { userId: string }, options: { signal?: AbortSignal; onEvent?: (e: ThreadStreamEvent) => void } = {}) =>
  stream(server, { type: 'threads.add_user_message', params: { thread_id: threadId, input: input(message) } }, { as, ...options });

describe('tool definitions', () => {
  it('refuse a name longer than the model API takes, when the tool is made rather than on every request', () => {
    const named = (name: string) => () => serverTool({ name, description: 'd', parameters: z.object({}), execute: () => 'ok' });
    expect(named('x'.repeat(65))).toThrow('the tool name "' + 'x'.repeat(65) + '" is 65 characters long; the model API takes at most 64');
    expect(() => clientTool({ name: 'y'.repeat(70), description: 'd', parameters: z.object({}) })).toThrow(/at most 64/);
    expect(named('x'.repeat(64))().name).toBe('x'.repeat(64));
  });
});

describe('a tool that streams widgets, progress and effects', () => {
  it('interleaves them in order: the tool task, the widget streaming its text, the static widget, then the answer', async () => {
    const me = newUser();
    const threadId = await newThread(me);
    h.model.enqueue({ functionCall: { name: 'show_forecast', arguments: '{"city":"Lisbon"}' } }, { text: 'Here it is.' });
    const events = await say(threadId, 'Weather in Lisbon?', me);
    expect(trace(events)).toEqual([
      'thread.item.done:user_message',
      'stream_options',
      'thread.item.added:workflow',
      'progress_update',
      // The widget is something to see: the workflow before it closes.
      'thread.item.done:workflow',
      'thread.item.added:widget',
      'updated:widget.streaming_text.value_delta',
      'updated:widget.streaming_text.value_delta',
      'thread.item.done:widget',
      'thread.item.done:widget',
      'client_effect',
      'thread.item.added:assistant_message',
      'updated:assistant_message.content_part.added',
      ...Array(3).fill('updated:assistant_message.content_part.text_delta'),
      'updated:assistant_message.content_part.done',
      'thread.item.done:assistant_message',
    ]);
    expect(events[3]).toEqual({ type: 'progress_update', text: 'Looking up Lisbon', icon: 'search' });
    expect(updates(events).filter((u) => u.type === 'widget.streaming_text.value_delta')).toEqual([
      { type: 'widget.streaming_text.value_delta', component_id: 'summary', delta: 'Sunny', done: false },
      { type: 'widget.streaming_text.value_delta', component_id: 'summary', delta: ', 24°C', done: true },
    ]);
    expect(events.find((e) => e.type === 'client_effect')).toEqual({ type: 'client_effect', name: 'highlight_city', data: { city: 'Lisbon' } });

    const items = (await itemsOf(h.store, threadId, me)).slice(2);
    expect(items.map((i) => i.type)).toEqual(['user_message', 'workflow', 'widget', 'widget', 'assistant_message']);
    expect(items[2]).toMatchObject({ copy_text: 'Forecast for Lisbon', widget: { children: [{ value: 'Lisbon' }, { id: 'summary', value: 'Sunny, 24°C', streaming: false }] } });
    expect(items[1]).toMatchObject({ workflow: { tasks: [{ title: 'Show forecast', status_indicator: 'complete' }] } });
    expect(modelRequests(h.model).at(-1)!.body.input.at(-1)).toMatchObject({ type: 'function_call_output', output: 'The widget shows the forecast.' });
  });

  it('runs a workflow of its own: tasks added and updated, ended with its summary', async () => {
    const me = newUser();
    const threadId = await newThread(me);
    h.model.enqueue({ functionCall: { name: 'run_checklist', arguments: '{}' } }, { text: 'All set.' });
    const events = await say(threadId, 'Check it', me);
    const workflows = doneItems(events).filter((i) => i.type === 'workflow');
    // The tool task's workflow closes when the tool opens its own.
    expect(workflows).toHaveLength(2);
    expect(workflows[1]).toMatchObject({
      workflow: {
        type: 'custom',
        expanded: true,
        summary: { title: 'Checked 2 things' },
        tasks: [
          { title: 'Check inventory', status_indicator: 'complete' },
          { title: 'Reserve items', status_indicator: 'complete' },
        ],
      },
    });
    const taskUpdates = updates(events).filter((u) => u.type.startsWith('workflow.'));
    expect(taskUpdates.map((u) => u.type)).toEqual(['workflow.task.updated', 'workflow.task.added']);
  });
});

describe('a client tool call', () => {
  it('ends the turn with a pending client_tool_call; the client output resumes the run with function_call + output', async () => {
    const me = newUser();
    const threadId = await newThread(me);
    h.model.enqueue({ functionCall: { name: 'get_location', arguments: '{"precise":true}', call_id: 'call_loc' } });
    const requestsBefore = modelRequests(h.model).length;
    const events = await say(threadId, 'Where am I?', me);
    expect(modelRequests(h.model).length - requestsBefore).toBe(1); // the run stopped at the client tool
    expect(trace(events)).toEqual(['thread.item.done:user_message', 'stream_options', 'thread.item.added:workflow', 'thread.item.done:client_tool_call']);
    const call = doneItems(events).at(-1);
    expect(call).toMatchObject({ type: 'client_tool_call', status: 'pending', call_id: 'call_loc', name: 'get_location', arguments: { precise: true } });
    // The open workflow was stored before the call, to continue in the next turn.
    let items = await itemsOf(h.store, threadId, me);
    expect(items.slice(-2)).toMatchObject([{ type: 'workflow', workflow: { tasks: [{ title: 'Get location', status_indicator: 'loading' }] } }, { type: 'client_tool_call' }]);
    const workflowId = items.at(-2)!.id;

    h.model.enqueue({ text: 'You are in London.' });
    const resumed = await stream(server, { type: 'threads.add_client_tool_output', params: { thread_id: threadId, result: { city: 'London' } } }, { as: me });
    expect(trace(resumed)).toEqual([
      'stream_options',
      'updated:workflow.task.updated',
      'thread.item.replaced:workflow',
      'thread.item.added:assistant_message',
      'updated:assistant_message.content_part.added',
      ...Array(4).fill('updated:assistant_message.content_part.text_delta'),
      'updated:assistant_message.content_part.done',
      'thread.item.done:assistant_message',
    ]);
    expect(resumed[1]).toMatchObject({ item_id: workflowId, update: { task: { status_indicator: 'complete' } } });
    expect(text(resumed)).toBe('You are in London.');
    expect(modelRequests(h.model).at(-1)!.body.input.slice(-2)).toEqual([
      { type: 'function_call', call_id: 'call_loc', name: 'get_location', arguments: '{"precise":true}', status: 'completed' },
      { type: 'function_call_output', call_id: 'call_loc', output: '{"city":"London"}', status: 'completed' },
    ]);
    items = await itemsOf(h.store, threadId, me);
    expect(items.slice(-4).map((i) => i.type)).toEqual(['user_message', 'workflow', 'client_tool_call', 'assistant_message']);
    expect(items.find((i) => i.id === workflowId)).toMatchObject({ workflow: { summary: { duration: expect.any(Number) }, tasks: [{ status_indicator: 'complete' }] } });
    expect(items.find((i) => i.type === 'client_tool_call')).toMatchObject({ status: 'completed', output: { city: 'London' } });
  });
});

describe('a tool that throws', () => {
  it('ends the turn with the generic error event, keeping what the user already saw, internals only in the log', async () => {
    const me = newUser();
    const threadId = await newThread(me);
    const errorsBefore = h.errors.length;
    h.model.enqueue({ text: 'Let me check.', functionCall: { name: 'explode', arguments: '{"visible":false}' } });
    const events = await say(threadId, 'Check stock', me);
    expect(events.at(-1)).toEqual({ type: 'error', code: 'stream.error', allow_retry: true });
    expect(JSON.stringify(events)).not.toContain('hunter2');
    // The message before the call, the tool's task (ended by the widget) and the widget were all finished: none taken back.
    expect(events.filter((e) => e.type === 'thread.item.removed')).toEqual([]);
    expect((await itemsOf(h.store, threadId, me)).slice(2).map((i) => i.type)).toEqual(['user_message', 'assistant_message', 'workflow', 'widget']);
    expect(String(h.errors.slice(errorsBefore)[0])).toContain('database on fire');
  });

  it('shows the message of a TurnError instead', async () => {
    const me = newUser();
    const threadId = await newThread(me);
    h.model.enqueue({ functionCall: { name: 'explode', arguments: '{"visible":true}' } });
    const events = await say(threadId, 'Check stock', me);
    expect(events.at(-1)).toEqual({ type: 'error', code: 'custom', message: 'The inventory service is down; try again later.', allow_retry: true });
    expect((await itemsOf(h.store, threadId, me)).slice(2).map((i) => i.type)).toEqual(['user_message', 'workflow', 'widget']);
  });
});

describe('a call whose arguments do not fit the tool', () => {
  it('is not run: the model is told why, calls it again, and the turn goes on', async () => {
    const me = newUser();
    const threadId = await newThread(me);
    h.model.enqueue({ functionCall: { name: 'explode', arguments: '{"visible":"yes"}', call_id: 'call_bad' } });
    h.model.enqueue({ functionCall: { name: 'show_forecast', arguments: '{"city":"Oslo"}', call_id: 'call_good' } });
    h.model.enqueue({ text: 'Here is Oslo.' });
    const events = await say(threadId, 'Weather?', me);
    expect(events.filter((e) => e.type === 'error')).toEqual([]);
    const second = modelRequests(h.model).at(-2)!.body.input as Array<{ type?: string; call_id?: string; output?: string }>;
    expect(second.find((item) => item.type === 'function_call_output' && item.call_id === 'call_bad')!.output).toMatch(/^The call was not run: its arguments do not fit the parameters of explode/);
    expect(text(events)).toContain('Here is Oslo.');
  });
});

describe('cancellation while the model streams', () => {
  it("aborts the model's HTTP request and keeps the partial answer", async () => {
    const me = newUser();
    const threadId = await newThread(me);
    h.model.enqueue({ text: ['One', ' two', ' three', ' four'], deltaDelayMs: 80 });
    const aborter = new AbortController();
    let deltas = 0;
    await say(threadId, 'Count', me, {
      signal: aborter.signal,
      onEvent: (e) => e.type === 'thread.item.updated' && e.update.type === 'assistant_message.content_part.text_delta' && ++deltas === 2 && aborter.abort(),
    });
    await expect.poll(() => modelRequests(h.model).at(-1)!.aborted).toBe(true);
    expect((await itemsOf(h.store, threadId, me)).slice(-2)).toMatchObject([
      { type: 'assistant_message', content: [{ text: 'One two' }] },
      { type: 'sdk_hidden_context', content: CANCELLED_NOTE },
    ]);
  });
});

describe('cancellation during a tool call', () => {
  it('stops the run: the tool sees the abort, no further model request, the cancel note is kept', async () => {
    const me = newUser();
    const threadId = await newThread(me);
    h.model.enqueue({ functionCall: { name: 'wait_forever', arguments: '{}' } });
    const requestsBefore = modelRequests(h.model).length;
    const aborter = new AbortController();
    const started = Date.now();
    const events = await say(threadId, 'Take your time', me, {
      signal: aborter.signal,
      onEvent: (e) => e.type === 'thread.item.added' && e.item.type === 'workflow' && setTimeout(() => aborter.abort(), 50),
    });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(trace(events)).toEqual(['thread.item.done:user_message', 'stream_options', 'thread.item.added:workflow']);
    await expect.poll(() => seen.aborted).toEqual([true]);
    await expect.poll(() => seen.finishedAfterAbort).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    expect(modelRequests(h.model).length - requestsBefore).toBe(1);
    expect((await itemsOf(h.store, threadId, me)).slice(2)).toMatchObject([{ type: 'user_message' }, { type: 'sdk_hidden_context', content: CANCELLED_NOTE }]);
  });
});
