import { Agent } from '@openai/agents-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { clientTool, serverTool, stopAtClientToolCall, type AgentContext } from '../../shared/agent/index.js';
import type { JsonObject, ThreadItem, ThreadStreamEvent } from '../../shared/protocol/index.js';
import { errors, input, lastDone, spinnersAfterReload, startAgentHttpHarness, threadIdOf, workflowsLeftOpen, type AgentHttpHarness, type Served } from './http-harness.js';

// Workflows as the reference runs them, over HTTP, with a reasoning model and one that does not
// reason: every workflow a stream adds is ended in it (but one a client tool call leaves open for
// the next turn), tools may stream workflows, widgets and task updates in any order, and every
// workflow says whether it is expanded.
let h: AgentHttpHarness;
beforeAll(async () => {
  h = await startAgentHttpHarness();
});
afterEach(() => h.model.reset());
afterAll(() => h?.close());

const ownWorkflow = serverTool({
  name: 'plan_trip',
  description: 'Plans, showing a workflow of its own',
  parameters: z.object({}),
  execute: async (_args, ctx) => {
    // Streamed as raw events, as a tool may do.
    const workflow: ThreadItem = { id: ctx.generateId('workflow'), thread_id: ctx.thread.id, created_at: new Date().toISOString(), type: 'workflow', workflow: { type: 'custom', tasks: [{ type: 'custom', title: 'Booking', status_indicator: 'complete' }] } };
    await ctx.stream({ type: 'thread.item.added', item: workflow });
    await ctx.stream({ type: 'thread.item.done', item: { ...workflow, workflow: { ...(workflow as { workflow: JsonObject }).workflow, summary: { title: 'Booked' } } } as ThreadItem });
    return 'planned';
  },
});

const widgetThenTask = serverTool({
  name: 'fetch_report',
  description: 'Shows a task, then a widget, then completes the task',
  parameters: z.object({}),
  execute: async (_args, ctx) => {
    await ctx.startWorkflow({ type: 'custom', tasks: [] });
    const index = await ctx.addWorkflowTask({ type: 'custom', title: 'Fetching the report', status_indicator: 'loading' });
    await ctx.streamWidget({ type: 'Card', children: [{ type: 'Text', value: 'Report ready' }] });
    await ctx.updateWorkflowTask({ type: 'custom', title: 'Fetched the report', status_indicator: 'complete' }, index);
    return 'fetched';
  },
});

const summarized = serverTool({
  name: 'summarized',
  description: 'Starts a workflow with its own summary and leaves it open',
  parameters: z.object({}),
  execute: async (_args, ctx) => {
    await ctx.startWorkflow({ type: 'custom', tasks: [{ type: 'custom', title: 'Step one' }], summary: { title: 'My own summary' } });
    return 'ok';
  },
});

const replacedWidget = serverTool({
  name: 'reshape',
  description: 'Streams a widget whose shape changes',
  parameters: z.object({}),
  execute: async (_args, ctx) => {
    async function* states(): AsyncGenerator<JsonObject> {
      yield { type: 'Card', children: [{ type: 'Text', id: 'text', value: 'Hello!' }] };
      yield { type: 'Card', children: [{ type: 'Text', key: 'other text', value: 'World!', streaming: false }] };
    }
    await ctx.streamWidget(states());
    return 'ok';
  },
});

const waitForStop = serverTool({
  name: 'wait_for_stop',
  description: 'Runs until the turn is stopped',
  parameters: z.object({}),
  execute: (_args, ctx) => new Promise<string>((resolve) => ctx.signal.addEventListener('abort', () => resolve('stopped'))),
});

const getLocation = clientTool({ name: 'get_location', description: 'Where the user is', parameters: z.object({}) });

describe.each([
  { kind: 'a reasoning model', model: 'gpt-5-mini' },
  { kind: 'a model that does not reason', model: 'gpt-4.1-mini' },
])('$kind', ({ model }) => {
  let served: Served;
  beforeAll(async () => {
    const agent = new Agent<AgentContext>({ name: 'Workflows', model, instructions: 'Use tools.', tools: [ownWorkflow, widgetThenTask, summarized, replacedWidget, waitForStop, getLocation], toolUseBehavior: stopAtClientToolCall });
    served = await h.withAgent({ agent });
  });
  const ask = async (tool: string, after: { text: string } = { text: 'Done.' }) => {
    const me = await h.user();
    h.model.enqueue({ functionCall: { name: tool, arguments: '{}' } }, after);
    h.model.enqueueTitle('Workflows');
    const events = await served.stream({ type: 'threads.create', params: { input: input(`Use ${tool}`) } }, me);
    return { events, items: await h.items(threadIdOf(events), me), me };
  };
  const workflowEvents = (events: ThreadStreamEvent[]) =>
    events.flatMap((e) => ((e.type === 'thread.item.added' || e.type === 'thread.item.done' || e.type === 'thread.item.replaced') && e.item.type === 'workflow' ? [e] : []));

  it('ends the open tool-task workflow when a tool streams a workflow of its own', async () => {
    const { events, items } = await ask('plan_trip');
    expect(errors(events)).toEqual([]);
    expect(workflowsLeftOpen(events)).toEqual([]);
    // The tool-task workflow ended before the tool's own began: both stored, in that order.
    const stored = items.filter((i) => i.type === 'workflow');
    const task = stored.findIndex((i) => i.workflow.tasks.some((t) => t.type === 'custom' && t.title === 'Plan trip'));
    const own = stored.findIndex((i) => i.workflow.summary && 'title' in i.workflow.summary && i.workflow.summary.title === 'Booked');
    expect(task).toBeGreaterThanOrEqual(0);
    expect(own).toBeGreaterThan(task);
    expect(spinnersAfterReload(items)).toEqual([]);
  });

  it('lets a tool complete its task after a widget closed its workflow, keeping the turn alive and the row in step', async () => {
    const { events, items } = await ask('fetch_report');
    expect(errors(events)).toEqual([]);
    expect(h.logs.filter((line) => line.includes('serialize'))).toEqual([]);
    expect(workflowsLeftOpen(events)).toEqual([]);
    expect(lastDone(events)).toMatchObject({ type: 'assistant_message', content: [{ text: 'Done.' }] });
    const own = items.find((i) => i.type === 'workflow' && i.workflow.tasks.some((t) => t.type === 'custom' && (t.title === 'Fetching the report' || t.title === 'Fetched the report')));
    expect(own).toMatchObject({ workflow: { tasks: [{ title: 'Fetched the report', status_indicator: 'complete' }] } });
    expect(spinnersAfterReload(items)).toEqual([]);
  });

  it('says expanded: false on every workflow it adds, ends and stores, and on one left open for a client tool', async () => {
    const { events, items } = await ask('fetch_report');
    const shown = workflowEvents(events);
    expect(shown.length).toBeGreaterThan(0);
    for (const event of shown) expect(event.item, event.type).toMatchObject({ workflow: { expanded: false } });
    for (const item of items.filter((i) => i.type === 'workflow')) expect(item).toMatchObject({ workflow: { expanded: false } });

    const me = await h.user();
    h.model.enqueue({ functionCall: { name: 'get_location', arguments: '{}' } });
    h.model.enqueueTitle('Where');
    const call = await served.stream({ type: 'threads.create', params: { input: input('Where?') } }, me);
    for (const event of workflowEvents(call)) expect(event.item).toMatchObject({ workflow: { expanded: false } });
    const left = (await h.items(threadIdOf(call), me)).find((i) => i.type === 'workflow');
    expect(left).toMatchObject({ workflow: { expanded: false, tasks: expect.arrayContaining([expect.objectContaining({ title: 'Get location', status_indicator: 'loading' })]) } });
  });

  it('closes the workflow a client tool call left open when a new message comes instead of the client’s output', async () => {
    const me = await h.user();
    h.model.enqueue({ functionCall: { name: 'get_location', arguments: '{}' } });
    h.model.enqueueTitle('Where');
    const call = await served.stream({ type: 'threads.create', params: { input: input('Where?') } }, me);
    const threadId = threadIdOf(call);
    const left = (await h.items(threadId, me)).find((i) => i.type === 'workflow')!;
    h.model.enqueue({ text: 'Never mind, then.' });
    const next = await served.stream({ type: 'threads.add_user_message', params: { thread_id: threadId, input: input('Forget it') } }, me);
    expect(errors(next)).toEqual([]);
    expect(next).toContainEqual({ type: 'thread.item.replaced', item: expect.objectContaining({ id: left.id, workflow: expect.objectContaining({ summary: { duration: expect.any(Number) } }) }) });
    expect(spinnersAfterReload(await h.items(threadId, me))).toEqual([]);
  });

  it('stores the continued workflow closed when the turn that continues it is cancelled', async () => {
    const me = await h.user();
    h.model.enqueue({ functionCall: { name: 'get_location', arguments: '{}' } });
    h.model.enqueueTitle('Where');
    const call = await served.stream({ type: 'threads.create', params: { input: input('Where?') } }, me);
    const threadId = threadIdOf(call);
    // The continuing turn adds a task to that workflow, and is stopped while the task runs.
    h.model.enqueue({ functionCall: { name: 'wait_for_stop', arguments: '{}' } });
    const stop = new AbortController();
    await served.stream({ type: 'threads.add_client_tool_output', params: { thread_id: threadId, result: { city: 'Lisbon' } } }, me, {
      signal: stop.signal,
      onEvent: (event) => event.type === 'thread.item.updated' && event.update.type === 'workflow.task.added' && stop.abort(),
    });
    await expect.poll(async () => (await h.items(threadId, me)).some((i) => i.type === 'sdk_hidden_context'), { timeout: 5_000 }).toBe(true);
    expect(spinnersAfterReload(await h.items(threadId, me))).toEqual([]);
  });

  it('keeps a summary a tool gave its workflow when the workflow ends by itself (reference: test_existing_workflow_summary_not_overwritten_on_automatic_end)', async () => {
    const { events } = await ask('summarized');
    const done = events.flatMap((e) => (e.type === 'thread.item.done' && e.item.type === 'workflow' ? [e.item] : []));
    expect(done.at(-1)).toMatchObject({ workflow: { summary: { title: 'My own summary' }, expanded: false } });
  });

  it('replaces a streamed widget whole when its shape changes (reference: test_returns_widget_full_replace_generator)', async () => {
    const { events, items } = await ask('reshape');
    const widget = events.find((e) => e.type === 'thread.item.added' && e.item.type === 'widget') as Extract<ThreadStreamEvent, { type: 'thread.item.added' }>;
    expect(widget.item).toMatchObject({ widget: { children: [{ id: 'text', value: 'Hello!' }] } });
    const updates = events.flatMap((e) => (e.type === 'thread.item.updated' && e.item_id === widget.item.id ? [e.update] : []));
    const after = { type: 'Card', children: [{ type: 'Text', key: 'other text', value: 'World!', streaming: false }] };
    expect(updates).toEqual([{ type: 'widget.root.updated', widget: after }]);
    expect(items.find((i) => i.type === 'widget')).toMatchObject({ widget: after });
  });
});
