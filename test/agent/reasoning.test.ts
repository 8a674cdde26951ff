import { Agent } from '@openai/agents-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { clientTool, serverTool, stopAtClientToolCall, type AgentContext } from '../../shared/agent/index.js';
import { modelRequests } from './harness.js';
import { errors, input, lastDone, spinnersAfterReload, startAgentHttpHarness, threadIdOf, workflowsLeftOpen, type AgentHttpHarness } from './http-harness.js';

// A team's agent on today's models, over HTTP: a reasoning model (reasoning items, which under
// store:false must travel with their encrypted content) and one that does not reason.
let h: AgentHttpHarness;
beforeAll(async () => {
  h = await startAgentHttpHarness();
});
afterEach(() => h.model.reset());
afterAll(() => h?.close());

const MODELS = [
  { kind: 'a reasoning model', model: 'gpt-5-mini', reasons: true },
  { kind: 'a model that does not reason', model: 'gpt-4.1-mini', reasons: false },
] as const;

const lookup = serverTool({
  name: 'lookup_order',
  description: 'Looks up an order',
  parameters: z.object({ id: z.string() }),
  execute: async ({ id }) => JSON.stringify({ id, status: 'shipped' }),
});
const getLocation = clientTool({ name: 'get_location', description: 'Where the user is', parameters: z.object({}) });

describe.each(MODELS)('$kind', ({ model, reasons }) => {
  it('calls a server tool and answers: the follow-up request carries the reasoning item with its encrypted content', async () => {
    const served = await h.fromEnv({ OPENAI_MODEL: model });
    const me = await h.user();
    h.model.enqueue({ functionCall: { name: 'search_conversations', arguments: '{"query":"trip"}' } }, { text: 'Nothing earlier.' });
    h.model.enqueueTitle('Trip');
    const before = modelRequests(h.model).length;
    const events = await served.stream({ type: 'threads.create', params: { input: input('What did we say about the trip?') } }, me);
    expect(errors(events)).toEqual([]);
    expect(lastDone(events)).toMatchObject({ type: 'assistant_message', content: [{ text: 'Nothing earlier.' }] });
    const [first, second] = modelRequests(h.model).slice(before).map((r) => r.body);
    expect(first.store).toBe(false);
    if (reasons) {
      expect(first.include).toContain('reasoning.encrypted_content');
      expect(second.input).toContainEqual(expect.objectContaining({ type: 'reasoning', encrypted_content: expect.stringMatching(/^enc_/) }));
    } else {
      expect(first.include ?? []).not.toContain('reasoning.encrypted_content');
      expect(first.reasoning).toBeUndefined();
    }
    expect(workflowsLeftOpen(events)).toEqual([]);
    expect(spinnersAfterReload(await h.items(threadIdOf(events), me))).toEqual([]);
    // The title, asked of the same model, with room to think first.
    await expect.poll(async () => (await h.store.loadThread(threadIdOf(events), me)).title, { timeout: 5_000 }).toBe('Trip');
  });

  it('calls client tools turn after turn, then answers, leaving no workflow running', async () => {
    const agent = new Agent<AgentContext>({ name: 'Locator', model, instructions: 'Locate.', tools: [getLocation, lookup], toolUseBehavior: stopAtClientToolCall });
    const served = await h.withAgent({ agent });
    const me = await h.user();
    h.model.enqueue({ functionCall: { name: 'get_location', arguments: '{}', call_id: 'call_1' } });
    h.model.enqueueTitle('Where');
    const first = await served.stream({ type: 'threads.create', params: { input: input('Where am I, twice?') } }, me);
    const threadId = threadIdOf(first);
    expect(lastDone(first)).toMatchObject({ type: 'client_tool_call', status: 'pending', call_id: 'call_1' });
    // A second client tool call in a row, then a server tool and the answer.
    h.model.enqueue({ functionCall: { name: 'get_location', arguments: '{}', call_id: 'call_2' } });
    const second = await served.stream({ type: 'threads.add_client_tool_output', params: { thread_id: threadId, result: { city: 'Lisbon' } } }, me);
    expect(lastDone(second)).toMatchObject({ type: 'client_tool_call', call_id: 'call_2' });
    h.model.enqueue({ functionCall: { name: 'lookup_order', arguments: '{"id":"7"}' } }, { text: 'You are in Porto; order 7 shipped.' });
    const third = await served.stream({ type: 'threads.add_client_tool_output', params: { thread_id: threadId, result: { city: 'Porto' } } }, me);
    expect(errors([...first, ...second, ...third])).toEqual([]);
    expect(lastDone(third)).toMatchObject({ type: 'assistant_message' });
    expect(workflowsLeftOpen(third)).toEqual([]);
    const items = await h.items(threadId, me);
    expect(items.map((i) => i.type)).toEqual(['user_message', 'workflow', 'client_tool_call', 'client_tool_call', 'assistant_message']);
    expect(spinnersAfterReload(items)).toEqual([]);
    // One workflow through the three turns: each tool's task, now complete.
    const tasks = items[1]!.type === 'workflow' ? items[1]!.workflow.tasks.filter((t) => t.type === 'custom') : [];
    expect(tasks).toEqual(['Get location', 'Get location', 'Lookup order'].map((title) => expect.objectContaining({ title, status_indicator: 'complete' })));
    expect(items[1]).toMatchObject({ workflow: { expanded: false, summary: { duration: expect.any(Number) } } });
  });
});

describe('thinking', () => {
  it('asks a reasoning model for summaries and streams them as the thought tasks of a reasoning workflow', async () => {
    const served = await h.fromEnv({ OPENAI_MODEL: 'gpt-5-mini' });
    const me = await h.user();
    h.model.enqueue({ reasoning: ['Looking back first.'], functionCall: { name: 'search_conversations', arguments: '{"query":"trip"}' } }, { reasoning: ['Nothing found.'], text: 'We never discussed it.' });
    h.model.enqueueTitle('Trip');
    const before = modelRequests(h.model).length;
    const events = await served.stream({ type: 'threads.create', params: { input: input('Did we plan a trip?') } }, me);
    expect(modelRequests(h.model).slice(before).map((r) => r.body.reasoning)).toEqual([
      { summary: 'auto' },
      { summary: 'auto' },
    ]);
    const workflow = events.flatMap((e) => (e.type === 'thread.item.done' && e.item.type === 'workflow' ? [e.item] : []))[0];
    expect(workflow).toMatchObject({
      workflow: {
        type: 'reasoning',
        expanded: false,
        tasks: [
          { type: 'thought', content: 'Looking back first.' },
          { type: 'custom', title: 'Searching your conversations', status_indicator: 'complete' },
          { type: 'thought', content: 'Nothing found.' },
        ],
      },
    });
  });

  it('sends neither summaries nor encrypted content to a model that does not reason, and shows no thinking', async () => {
    const served = await h.fromEnv({ OPENAI_MODEL: 'gpt-4.1-mini', ASSISTANT_REASONING_SUMMARY: 'detailed' });
    const me = await h.user();
    h.model.enqueue({ text: 'Hello.' });
    h.model.enqueueTitle('Hi');
    const events = await served.stream({ type: 'threads.create', params: { input: input('Hi') } }, me);
    expect(errors(events)).toEqual([]);
    const sent = modelRequests(h.model).at(-1)!.body;
    expect(sent.reasoning).toBeUndefined();
    expect(sent.include ?? []).toEqual([]);
    expect(events.some((e) => e.type === 'thread.item.added' && e.item.type === 'workflow')).toBe(false);
  });

  it('takes the effort and summary from ASSISTANT_REASONING_EFFORT and ASSISTANT_REASONING_SUMMARY', async () => {
    const served = await h.fromEnv({ OPENAI_MODEL: 'gpt-5-mini', ASSISTANT_REASONING_EFFORT: 'high', ASSISTANT_REASONING_SUMMARY: 'off' });
    const me = await h.user();
    h.model.enqueue({ text: 'Thought hard.' });
    h.model.enqueueTitle('Hard');
    const events = await served.stream({ type: 'threads.create', params: { input: input('Think hard') } }, me);
    expect(errors(events)).toEqual([]);
    expect(modelRequests(h.model).at(-1)!.body.reasoning).toEqual({ effort: 'high' });
    // The model thought without a summary: a reasoning workflow with no thoughts, closed.
    expect(events).toContainEqual(expect.objectContaining({ type: 'thread.item.done', item: expect.objectContaining({ workflow: expect.objectContaining({ type: 'reasoning', tasks: [] }) }) }));
  });

  it('refuses a reasoning setting the API does not know, naming the variable', async () => {
    await expect(h.fromEnv({ ASSISTANT_REASONING_EFFORT: 'extreme' })).rejects.toThrow(/ASSISTANT_REASONING_EFFORT.*extreme/);
    // One the API knows but a configured model refuses: every turn would be a 400.
    await expect(h.fromEnv({ OPENAI_MODEL: 'gpt-5.6-luna', ASSISTANT_REASONING_EFFORT: 'minimal' })).rejects.toThrow('ASSISTANT_REASONING_EFFORT="minimal" is refused by gpt-5.6-luna, which takes none, low, medium, high, xhigh');
    await expect(h.fromEnv({ OPENAI_MODEL: 'gpt-5-mini', OPENAI_MODELS: 'gpt-5-mini,o4-mini', ASSISTANT_REASONING_EFFORT: 'minimal' })).rejects.toThrow(/refused by o4-mini/);
    await expect(h.fromEnv({ OPENAI_MODEL: 'gpt-5-mini', OPENAI_MODELS: 'gpt-5.6-luna', ASSISTANT_REASONING_EFFORT: 'none' })).rejects.toThrow(/refused by gpt-5-mini/);
    // A model whose efforts are not known here is not refused anything.
    await h.fromEnv({ OPENAI_MODEL: 'gpt-5.1-codex-max', ASSISTANT_REASONING_EFFORT: 'xhigh' });
    await expect(h.fromEnv({ ASSISTANT_REASONING_SUMMARY: 'short' })).rejects.toThrow(/ASSISTANT_REASONING_SUMMARY.*short/);
  });
});

describe('the model', () => {
  it('defaults to the Agents SDK’s default model with the SDK’s default settings for it', async () => {
    const { getDefaultModel, getDefaultModelSettings } = await import('@openai/agents-core');
    const served = await h.fromEnv({});
    const me = await h.user();
    h.model.enqueue({ text: 'Hi.' });
    h.model.enqueueTitle('Hi');
    await served.stream({ type: 'threads.create', params: { input: input('Hello') } }, me);
    const sent = modelRequests(h.model).at(-1)!.body;
    const defaults = getDefaultModelSettings(getDefaultModel());
    expect(sent).toMatchObject({ model: getDefaultModel(), store: false, reasoning: { ...defaults.reasoning, summary: 'auto' }, text: { verbosity: defaults.text?.verbosity } });
    expect(sent.include).toContain('reasoning.encrypted_content');
  });

  it('is the one the client picks from OPENAI_MODELS, with the settings of that model', async () => {
    const served = await h.fromEnv({ OPENAI_MODEL: 'gpt-5-mini', OPENAI_MODELS: 'gpt-5-mini,gpt-4.1-mini' });
    const me = await h.user();
    h.model.enqueue({ functionCall: { name: 'search_conversations', arguments: '{"query":"x"}' } }, { text: 'Picked.' });
    h.model.enqueueTitle('Pick');
    const before = modelRequests(h.model).length;
    const events = await served.stream({ type: 'threads.create', params: { input: input('Hi', { inference_options: { model: 'gpt-4.1-mini' } }) } }, me);
    expect(errors(events)).toEqual([]);
    const sent = modelRequests(h.model).slice(before).map((r) => r.body);
    expect(sent.map((body) => body.model)).toEqual(['gpt-4.1-mini', 'gpt-4.1-mini']);
    expect(sent[0].reasoning).toBeUndefined();
  });
});
