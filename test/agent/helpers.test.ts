import { RunRawModelStreamEvent } from '@openai/agents-core';
import { describe, expect, it } from 'vitest';
import { toAgentInput } from '../../shared/agent/agent-input.js';
import { StreamEventMapper, widgetUpdates } from '../../shared/agent/index.js';

// The agent layer's pieces on their own: the input adapter, widget diffs, the stream mapper.
describe('toAgentInput', () => {
  it("carries toModelInput's messages and tool calls into the Agents SDK's shapes", () => {
    const input = toAgentInput([
      { role: 'user', content: 'hi' },
      { role: 'user', content: [{ type: 'input_text', text: 'look' }, { type: 'input_image', detail: 'auto', image_url: 'https://x/cat.png' }, { type: 'input_file', file_id: 'file_1', filename: 'a.pdf' }] },
      { role: 'assistant', content: 'hello' },
      { type: 'message', role: 'assistant', id: 'msg_1', status: 'completed', content: [{ type: 'output_text', text: 'more', annotations: [] }, { type: 'refusal', refusal: 'no' }] },
      { role: 'developer', content: 'hidden note' },
      { type: 'function_call', call_id: 'call_1', name: 'get_location', arguments: '{}' },
      { type: 'function_call_output', call_id: 'call_1', output: '{"city":"Oslo"}' },
      { type: 'item_reference', id: 'rs_1' },
    ]);
    expect(input).toEqual([
      { role: 'user', content: 'hi' },
      { role: 'user', content: [{ type: 'input_text', text: 'look' }, { type: 'input_image', image: 'https://x/cat.png', detail: 'auto' }, { type: 'input_file', file: { id: 'file_1' }, filename: 'a.pdf' }] },
      { role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'hello' }] },
      { role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'more' }, { type: 'refusal', refusal: 'no' }] },
      { role: 'system', content: 'hidden note' },
      { type: 'function_call', callId: 'call_1', name: 'get_location', arguments: '{}', status: 'completed' },
      { type: 'function_call_result', callId: 'call_1', name: 'get_location', status: 'completed', output: '{"city":"Oslo"}' },
      { type: 'unknown', id: 'rs_1', providerData: { type: 'item_reference', id: 'rs_1' } },
    ]);
  });
});

describe('widgetUpdates', () => {
  const card = (value: string, streaming = true, extra: Record<string, unknown> = {}) => ({ type: 'Card', children: [{ type: 'Markdown', id: 'body', value, streaming }, { type: 'Button', label: 'Go', ...extra }] });

  it('streams text appended to an identified Text or Markdown component as deltas', () => {
    expect(widgetUpdates(card('Hel'), card('Hello'))).toEqual([{ type: 'widget.streaming_text.value_delta', component_id: 'body', delta: 'lo', done: false }]);
    expect(widgetUpdates(card('Hello'), card('Hello', false))).toEqual([{ type: 'widget.streaming_text.value_delta', component_id: 'body', delta: '', done: true }]);
    expect(widgetUpdates(card('same'), card('same'))).toEqual([]);
  });

  it('replaces the whole tree for any other change', () => {
    const replaced = (after: Record<string, unknown>) => [{ type: 'widget.root.updated', widget: after }];
    expect(widgetUpdates(card('Hello'), card('Goodbye'))).toEqual(replaced(card('Goodbye')));
    expect(widgetUpdates(card('a'), card('ab', true, { label: 'Stop' }))).toEqual(replaced(card('ab', true, { label: 'Stop' })));
    const unnamed = { type: 'Card', children: [{ type: 'Text', value: 'a' }] };
    const grown = { type: 'Card', children: [{ type: 'Text', value: 'ab' }] };
    expect(widgetUpdates(unnamed, grown)).toEqual(replaced(grown));
    expect(widgetUpdates(card('a'), { type: 'Card', children: [] })).toEqual(replaced({ type: 'Card', children: [] }));
  });
});

describe('StreamEventMapper on its own', () => {
  let n = 0;
  const ids = (kind: string) => `${kind}_${++n}`;
  const raw = (event: Record<string, unknown>) => new RunRawModelStreamEvent({ type: 'model', event });

  const twoMessages = async () => {
    const mapper = new StreamEventMapper({ threadId: 'thr_1', ids });
    const first = await mapper.fromRun(raw({ type: 'response.output_item.added', output_index: 0, item: { type: 'message', id: 'm_a', role: 'assistant', status: 'in_progress', content: [] } }));
    await mapper.fromRun(raw({ type: 'response.output_item.done', output_index: 0, item: { type: 'message', id: 'm_a', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Done.', annotations: [] }] } }));
    const second = await mapper.fromRun(raw({ type: 'response.output_item.added', output_index: 1, item: { type: 'message', id: 'm_b', role: 'assistant', status: 'in_progress', content: [] } }));
    await mapper.fromRun(raw({ type: 'response.content_part.added', item_id: 'm_b', output_index: 1, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } }));
    await mapper.fromRun(raw({ type: 'response.output_text.delta', item_id: 'm_b', output_index: 1, content_index: 0, delta: 'Hal' }));
    const [doneId, openId] = [first, second].map((events) => (events[0] as { item: { id: string } }).item.id);
    return { mapper, doneId, openId };
  };

  it('takes back only what was unfinished when a run fails: the finished message was read, and is stored', async () => {
    const { mapper, openId } = await twoMessages();
    expect(mapper.fail(false)).toEqual([{ type: 'thread.item.removed', item_id: openId }]);
  });

  it('takes back everything a run showed on a tripwire, stored or not', async () => {
    const { mapper, doneId, openId } = await twoMessages();
    expect(mapper.fail(true)).toEqual([
      { type: 'thread.item.removed', item_id: openId },
      { type: 'thread.item.removed', item_id: doneId },
    ]);
  });

  it('keeps a workflow open for a client tool call, and the next turn continues and closes it', () => {
    const mapper = new StreamEventMapper({ threadId: 'thr_1', ids });
    mapper.fromContext({ type: 'workflow.task.add', task: { type: 'custom', title: 'Asking the browser', status_indicator: 'loading' } });
    const ending = mapper.finish({ name: 'get_location', arguments: {}, callId: 'call_9' });
    expect(ending.keepOpen).toMatchObject({ stored: false, item: { type: 'workflow', workflow: { tasks: [{ status_indicator: 'loading' }] } } });
    expect(ending.events).toEqual([{ type: 'thread.item.done', item: expect.objectContaining({ type: 'client_tool_call', call_id: 'call_9', status: 'pending' }) }]);

    const next = new StreamEventMapper({ threadId: 'thr_1', ids, leftOpen: { item: ending.keepOpen!.item, continues: true } });
    expect(next.start()).toEqual([{ type: 'thread.item.updated', item_id: ending.keepOpen!.item.id, update: { type: 'workflow.task.updated', task_index: 0, task: expect.objectContaining({ status_indicator: 'complete' }) } }]);
    expect(next.finish(null).events).toEqual([{ type: 'thread.item.replaced', item: expect.objectContaining({ id: ending.keepOpen!.item.id, workflow: expect.objectContaining({ summary: { duration: expect.any(Number) } }) }) }]);
  });

  it('lets a tool update a task of the workflow a widget closed, replacing the stored row: its own, else the last one the turn ended', async () => {
    const widget = (id: string) => ({ type: 'event' as const, event: { type: 'thread.item.done' as const, item: { id, thread_id: 'thr_1', created_at: 'now', type: 'widget' as const, widget: { type: 'Card' } } } });
    const mapper = new StreamEventMapper({ threadId: 'thr_1', ids });
    const { result: index } = mapper.fromContext({ type: 'workflow.task.add', task: { type: 'custom', title: 'Fetching', status_indicator: 'loading' } });
    const [ended] = mapper.fromContext(widget('wd_1')).events;
    expect(ended).toMatchObject({ type: 'thread.item.done', item: { type: 'workflow', workflow: { expanded: false } } });
    expect(mapper.fromContext({ type: 'workflow.task.update', task: { type: 'custom', title: 'Fetched', status_indicator: 'complete' }, index: index! }).events).toEqual([
      { type: 'thread.item.replaced', item: expect.objectContaining({ id: (ended as { item: { id: string } }).item.id, workflow: expect.objectContaining({ tasks: [{ type: 'custom', title: 'Fetched', status_indicator: 'complete' }] }) }) },
    ]);

    // A workflow the run opened (a reasoning one), which the tool never touched.
    const other = new StreamEventMapper({ threadId: 'thr_1', ids });
    await other.fromRun(raw({ type: 'response.output_item.added', output_index: 0, item: { type: 'reasoning', id: 'rs_1', summary: [] } }));
    await other.fromRun(raw({ type: 'response.reasoning_summary_text.done', item_id: 'rs_1', output_index: 0, summary_index: 0, text: 'Hmm.' }));
    other.fromContext(widget('wd_2'));
    expect(other.fromContext({ type: 'workflow.task.update', task: { type: 'thought', content: 'Hmm, yes.' }, index: 0 }).events).toMatchObject([{ type: 'thread.item.replaced', item: { workflow: { type: 'reasoning', tasks: [{ content: 'Hmm, yes.' }] } } }]);
    expect(() => new StreamEventMapper({ threadId: 'thr_1', ids }).fromContext({ type: 'workflow.task.update', task: { type: 'thought', content: 'x' }, index: 0 })).toThrow('no workflow task 0');
  });
});
