import { Agent, type OutputGuardrail } from '@openai/agents-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { serverTool, TurnError, type AgentContext } from '../../shared/agent/index.js';
import type { ThreadStreamEvent } from '../../shared/protocol/index.js';
import { errors, input, removedIds, spinnersAfterReload, startAgentHttpHarness, threadIdOf, workflowsLeftOpen, type AgentHttpHarness } from './http-harness.js';

// What a failing turn keeps, over HTTP, with a reasoning model and one that does not reason:
// what the user already read stays (shown and stored), what was still streaming is taken back,
// and the client gets one error it may retry. A guardrail's tripwire takes back everything.
let h: AgentHttpHarness;
beforeAll(async () => {
  h = await startAgentHttpHarness();
});
afterEach(() => h.model.reset());
afterAll(() => h?.close());

const doneIds = (events: ThreadStreamEvent[]) => events.flatMap((e) => (e.type === 'thread.item.done' ? [e.item.id] : []));
/** What the assistant showed in the turn (added or done), by id and type. */
const shownItems = (events: ThreadStreamEvent[]) =>
  new Map(events.flatMap((e) => ((e.type === 'thread.item.added' || e.type === 'thread.item.done') && e.item.type !== 'user_message' ? [[e.item.id, e.item.type] as const] : [])));

const report = serverTool({
  name: 'show_report',
  description: 'Shows a widget, then fails',
  parameters: z.object({ visible: z.boolean() }),
  execute: async ({ visible }, ctx) => {
    await ctx.streamWidget({ type: 'Card', children: [{ type: 'Text', value: 'Half a report' }] });
    if (visible) throw new TurnError('The report service is down.');
    throw new Error('report service exploded: token=s3cr3t');
  },
});
const withWidget = serverTool({
  name: 'with_widget',
  description: 'Shows a widget',
  parameters: z.object({}),
  execute: async (_args, ctx) => {
    await ctx.streamWidget({ type: 'Card', children: [{ type: 'Text', value: 'A secret widget' }] });
    return 'shown';
  },
});
const noSecrets: OutputGuardrail = {
  name: 'no secrets',
  execute: async ({ agentOutput }) => ({ tripwireTriggered: String(agentOutput).includes('secret'), outputInfo: { message: 'That answer was withheld.' } }),
};

describe.each([
  { kind: 'a reasoning model', model: 'gpt-5-mini' },
  { kind: 'a model that does not reason', model: 'gpt-4.1-mini' },
])('$kind', ({ model }) => {
  it('keeps the message the user read when the request after a tool call fails, takes back the unfinished workflow, and allows a retry', async () => {
    const served = await h.fromEnv({ OPENAI_MODEL: model });
    const me = await h.user();
    // Down for the request and its one retry (the openai client's maxRetries: 1).
    const down = { failWith: { status: 500, message: 'model down' } };
    h.model.enqueue({ text: 'Let me look that up.', functionCall: { name: 'search_conversations', arguments: '{"query":"x"}' } }, down, down);
    h.model.enqueueTitle('Lookup');
    const events = await served.stream({ type: 'threads.create', params: { input: input('Look it up') } }, me);
    const items = await h.items(threadIdOf(events), me);
    const message = items.find((i) => i.type === 'assistant_message');
    expect(message).toMatchObject({ content: [{ text: 'Let me look that up.' }] });
    expect(removedIds(events)).not.toContain(message!.id);
    expect(errors(events)).toEqual([{ type: 'error', code: 'stream.error', allow_retry: true }]);
    // The tool's workflow never finished: taken back, not left spinning.
    expect(workflowsLeftOpen(events)).toEqual([]);
    expect(items.filter((i) => i.type !== 'workflow').map((i) => i.type)).toEqual(['user_message', 'assistant_message']);
    // A reasoning model's thoughts before the message were finished too, and stay; the search's task does not.
    expect(items.some((i) => i.type === 'workflow' && i.workflow.tasks.some((t) => t.type === 'custom'))).toBe(false);
    expect(spinnersAfterReload(items)).toEqual([]);
  });

  it('keeps the widget a tool showed before it failed, and says only that something went wrong', async () => {
    const agent = new Agent<AgentContext>({ name: 'Reports', model, instructions: 'Report.', tools: [report] });
    const served = await h.withAgent({ agent });
    const me = await h.user();
    h.model.enqueue({ functionCall: { name: 'show_report', arguments: '{"visible":false}' } });
    h.model.enqueueTitle('Report');
    const events = await served.stream({ type: 'threads.create', params: { input: input('Report') } }, me);
    expect(errors(events)).toEqual([{ type: 'error', code: 'stream.error', allow_retry: true }]);
    expect(JSON.stringify(events)).not.toContain('s3cr3t');
    expect(h.logs.some((line) => line.includes('report service exploded'))).toBe(true);
    const items = await h.items(threadIdOf(events), me);
    expect(items.map((i) => i.type)).toEqual(['user_message', 'workflow', 'widget']);
    expect(spinnersAfterReload(items)).toEqual([]);
    for (const id of removedIds(events)) expect(doneIds(events)).not.toContain(id);
  });

  it('shows a TurnError’s message, keeping what was finished', async () => {
    const agent = new Agent<AgentContext>({ name: 'Reports', model, instructions: 'Report.', tools: [report] });
    const served = await h.withAgent({ agent });
    const me = await h.user();
    h.model.enqueue({ functionCall: { name: 'show_report', arguments: '{"visible":true}' } });
    h.model.enqueueTitle('Report');
    const events = await served.stream({ type: 'threads.create', params: { input: input('Report') } }, me);
    expect(errors(events)).toEqual([{ type: 'error', code: 'custom', message: 'The report service is down.', allow_retry: false }]);
    expect((await h.items(threadIdOf(events), me)).map((i) => i.type)).toEqual(['user_message', 'workflow', 'widget']);
  });

  it('takes back everything the turn showed on a guardrail tripwire, what tools streamed through the context included (reference: test_stream_agent_response_yields_item_removed_event)', async () => {
    const agent = new Agent<AgentContext>({ name: 'Guarded', model, instructions: 'Answer.', tools: [withWidget], outputGuardrails: [noSecrets] });
    const served = await h.withAgent({ agent });
    const me = await h.user();
    h.model.enqueue({ text: 'Checking.', functionCall: { name: 'with_widget', arguments: '{}' } }, { text: 'The secret is 42.' });
    h.model.enqueueTitle('Secret');
    const events = await served.stream({ type: 'threads.create', params: { input: input('Tell me the secret') } }, me);
    const shown = shownItems(events);
    expect(new Set(shown.values())).toEqual(new Set(['assistant_message', 'workflow', 'widget']));
    expect(new Set(removedIds(events))).toEqual(new Set(shown.keys()));
    expect(errors(events)).toEqual([{ type: 'error', code: 'custom', message: 'That answer was withheld.', allow_retry: false }]);
    expect((await h.items(threadIdOf(events), me)).map((i) => i.type)).toEqual(['user_message']);
  });
});
