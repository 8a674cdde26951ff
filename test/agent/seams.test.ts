import { Agent } from '@openai/agents-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { serverTool, type AgentContext, type AssistantOptions } from '../../shared/agent/index.js';
import type { Annotation, ThreadItem, ThreadStreamEvent } from '../../shared/protocol/index.js';
import { CANCELLED_NOTE } from '../../shared/server/index.js';
import { uid } from '../support/fixtures.js';
import { modelRequests } from './harness.js';
import { errors, input, lastDone, startAgentHttpHarness, threadIdOf, type AgentHttpHarness, type HttpUser } from './http-harness.js';

// The customisation seams a team has in assistant.ts (AssistantOptions), each as README "Your
// agent" shows it, over HTTP; and the reference's cases that pin them (named after its tests).
let h: AgentHttpHarness;
beforeAll(async () => {
  h = await startAgentHttpHarness();
});
afterEach(() => h.model.reset());
afterAll(() => h?.close());

const plain = (model = 'gpt-4.1-mini') => new Agent<AgentContext>({ name: 'Assistant', model, instructions: 'Answer.' });
const note = (text: string) => ({ type: 'message' as const, role: 'user' as const, content: [{ type: 'input_text' as const, text }] });
const updatesOf = (events: ThreadStreamEvent[]) => events.flatMap((e) => (e.type === 'thread.item.updated' ? [e.update] : []));

async function create(options: AssistantOptions & { agent?: Agent<AgentContext, any> }, message: string, me?: HttpUser) {
  const served = await h.withAgent({ agent: plain(), ...options });
  const user = me ?? (await h.user());
  h.model.enqueueTitle('Seams');
  const events = await served.stream({ type: 'threads.create', params: { input: input(message) } }, user);
  return { served, events, me: user, threadId: threadIdOf(events) };
}

describe('history: how each item type reads to the model', () => {
  it('converts the item types a team overrides, falls back to the standard for the rest, and resolves tags and attachments its own way', async () => {
    const history: AssistantOptions['history'] = {
      widget: (item) => [note(`The user saw a ${String(item.widget.type)} widget.`)],
      hidden_context_item: async (item, standard) => (typeof item.content === 'string' ? standard() : [note(`Account plan: ${String((item.content as { plan: string }).plan)}`)]),
      task: () => [],
      workflow: async (item, standard) => [...(await standard()), note(`(${item.workflow.tasks.length} steps in all)`)],
      tag: (tag) => ({ type: 'input_text', text: `${tag.text} is customer ${tag.id}` }),
      attachment: (attachment, standard) => (standard.type === 'input_text' ? { ...standard, text: `From ${attachment.name}: ${standard.text.length} characters` } : standard),
    };
    h.model.enqueue({ text: 'First.' });
    const { served, me, threadId } = await create({ history }, 'Hello');
    const at = () => ({ thread_id: threadId, created_at: new Date().toISOString() });
    const items: ThreadItem[] = [
      { ...at(), id: uid('wd'), type: 'widget', widget: { type: 'Card', children: [] } },
      { ...at(), id: uid('hc'), type: 'hidden_context_item', content: { plan: 'pro' } },
      { ...at(), id: uid('hc'), type: 'hidden_context_item', content: 'plain words' },
      { ...at(), id: uid('tsk'), type: 'task', task: { type: 'custom', title: 'Booked' } },
      { ...at(), id: uid('wf'), type: 'workflow', workflow: { type: 'custom', tasks: [{ type: 'custom', title: 'Searched' }], expanded: false } },
    ];
    for (const item of items) await h.store.addThreadItem(threadId, item, me);

    // A text file uploaded through the dev server's attachment flow.
    const bytes = Buffer.from('line one\nline two\n');
    const created = await served.json({ type: 'attachments.create', params: { name: 'notes.txt', size: bytes.length, mime_type: 'text/plain' } }, me);
    expect((await fetch(created.upload_descriptor.url, { method: 'PUT', headers: created.upload_descriptor.headers, body: new Uint8Array(bytes) })).status).toBe(200);

    h.model.enqueue({ text: 'Second.' });
    const message = {
      content: [{ type: 'input_text', text: 'Ask ' }, { type: 'input_tag', id: 'cus_42', text: 'Ada', data: {} }],
      attachments: [created.id],
      inference_options: {},
    };
    const events = await served.stream({ type: 'threads.add_user_message', params: { thread_id: threadId, input: message } }, me);
    expect(errors(events)).toEqual([]);
    const sent = modelRequests(h.model).at(-1)!.body.input as Array<{ role?: string; content?: Array<{ text?: string }> }>;
    const texts = sent.map((item) => (item.content ?? []).map((part) => part.text ?? '').join(' | '));
    expect(texts).toEqual([
      'Hello',
      'First.',
      'The user saw a Card widget.',
      'Account plan: pro',
      'Hidden context for the agent (not shown to the user):\n<HiddenContext>\nplain words\n</HiddenContext>',
      'A message was displayed to the user that the following task was performed:\n<Task>\nSearched\n</Task>',
      '(1 steps in all)',
      `Ask @Ada | From notes.txt: ${'<File name="notes.txt" type="text/plain">\nline one\nline two\n\n</File>'.length} characters`,
      expect.stringContaining('# User-provided context for @-mentions') as unknown as string,
    ]);
    expect(sent.at(-1)!.content!.at(-1)).toEqual({ type: 'input_text', text: 'Ada is customer cus_42' });
  });
});

describe('citations: how the model’s sources show', () => {
  it('uses the team’s url, file and container file converters, in the stream and in the stored message (reference: test_custom_annotation_conversion_used_by_stream_agent_response)', async () => {
    const calls: string[] = [];
    const citations: AssistantOptions['citations'] = {
      url: (c) => (calls.push('url'), { type: 'annotation', source: { type: 'url', url: `https://proxy.example/?to=${encodeURIComponent(c.url)}`, title: c.title.toUpperCase() }, index: c.end_index }),
      file: (c) => (calls.push('file'), { type: 'annotation', source: { type: 'file', filename: 'report.pdf', title: 'Usage report', description: `from ${c.file_id}` }, index: 111 }),
      containerFile: () => (calls.push('container'), null),
    };
    h.model.enqueue({
      text: 'See the sources.',
      annotations: [
        { type: 'url_citation', url: 'https://example.com', title: 'Example', start_index: 0, end_index: 3 },
        { type: 'file_citation', file_id: 'file_123', index: 5 },
        { type: 'container_file_citation', container_id: 'c', file_id: 'cf', filename: 'out.csv', start_index: 0, end_index: 7 },
      ],
    });
    const { events, me, threadId } = await create({ citations }, 'Sources?');
    const expected: Annotation[] = [
      { type: 'annotation', source: { type: 'url', url: 'https://proxy.example/?to=https%3A%2F%2Fexample.com', title: 'EXAMPLE' }, index: 3 },
      { type: 'annotation', source: { type: 'file', filename: 'report.pdf', title: 'Usage report', description: 'from file_123' }, index: 111 },
    ];
    expect(updatesOf(events).filter((u) => u.type === 'assistant_message.content_part.annotation_added')).toEqual(
      expected.map((annotation, index) => ({ type: 'assistant_message.content_part.annotation_added', content_index: 0, annotation_index: index, annotation })),
    );
    expect((await h.items(threadId, me)).at(-1)).toMatchObject({ type: 'assistant_message', content: [{ annotations: expected }] });
    expect(new Set(calls)).toEqual(new Set(['url', 'file', 'container']));
  });
});

describe('imageUrl: where generated images are kept', () => {
  it('stores the URL the upload hook returns, for each partial image and the final one (reference: test_stream_agent_response_image_generation_events_with_custom_converter)', async () => {
    const uploads: Array<{ id: string; base64: string; partialIndex?: number }> = [];
    const imageUrl: AssistantOptions['imageUrl'] = async (image) => {
      uploads.push(image);
      return `https://images.example/${image.id}${image.partialIndex === undefined ? '' : `-partial-${image.partialIndex}`}.png`;
    };
    h.model.enqueue({ imageGeneration: { partials: ['cGFydA=='], result: 'ZmluYWw=' }, text: 'Your cat.' });
    const { events, me, threadId } = await create({ imageUrl, partialImages: 2 }, 'Draw a cat');
    const image = events.flatMap((e) => (e.type === 'thread.item.done' && e.item.type === 'generated_image' ? [e.item] : []))[0]!;
    const callId = uploads[0]!.id;
    expect(uploads).toEqual([
      { id: callId, base64: 'cGFydA==', partialIndex: 0 },
      { id: callId, base64: 'ZmluYWw=' },
    ]);
    expect(updatesOf(events).filter((u) => u.type === 'generated_image.updated')).toEqual([{ type: 'generated_image.updated', image: { id: callId, url: `https://images.example/${callId}-partial-0.png` }, progress: 0 }]);
    expect(image).toMatchObject({ image: { id: callId, url: `https://images.example/${callId}.png` } });
    expect((await h.items(threadId, me)).find((i) => i.type === 'generated_image')).toMatchObject({ image: { url: `https://images.example/${callId}.png` } });
  });
});

describe('cancellation: whether a turn may be stopped, and what a stopped turn keeps', () => {
  it('tells the client it may not stop the turn when allowCancel says so', async () => {
    h.model.enqueue({ text: 'Unstoppable.' });
    const { events } = await create({ allowCancel: (thread) => !thread.id.startsWith('thr_') }, 'Go');
    expect(events.find((e) => e.type === 'stream_options')).toEqual({ type: 'stream_options', stream_options: { allow_cancel: false } });
  });

  it('hands onCancelled what was still showing, to keep as the team chooses, the default still at hand', async () => {
    const slow = serverTool({
      name: 'slow_report',
      description: 'Takes a while',
      parameters: z.object({}),
      execute: async (_args, ctx) => {
        await ctx.addWorkflowTask({ type: 'custom', title: 'Gathering', status_indicator: 'loading' });
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
        return 'stopped';
      },
    });
    let handed: ThreadItem[] = [];
    const onCancelled: AssistantOptions['onCancelled'] = async (turn) => {
      handed = turn.pending;
      // Keep the workflow as it stood, closed, then what the server keeps anyway.
      for (const item of turn.pending) {
        if (item.type === 'workflow') await turn.store.addThreadItem(turn.thread.id, { ...item, workflow: { ...item.workflow, summary: { title: 'Stopped' } } }, turn.ctx);
      }
      await turn.keepDefault();
    };
    const agent = new Agent<AgentContext>({ name: 'Slow', model: 'gpt-4.1-mini', instructions: 'Report.', tools: [slow] });
    const served = await h.withAgent({ agent, onCancelled });
    const me = await h.user();
    h.model.enqueue({ text: 'Starting the report.', functionCall: { name: 'slow_report', arguments: '{}' } });
    h.model.enqueueTitle('Slow');
    const stop = new AbortController();
    let threadId = '';
    await served.stream({ type: 'threads.create', params: { input: input('Report, slowly') } }, me, {
      signal: stop.signal,
      onEvent: (event) => {
        if (event.type === 'thread.created') threadId = event.thread.id;
        if (event.type === 'thread.item.updated' && event.update.type === 'workflow.task.added') stop.abort();
      },
    });
    await expect.poll(async () => (await h.items(threadId, me)).map((i) => i.type), { timeout: 5_000 }).toEqual(['user_message', 'assistant_message', 'workflow', 'sdk_hidden_context']);
    expect(handed.map((i) => i.type)).toEqual(['workflow']);
    const items = await h.items(threadId, me);
    expect(items[2]).toMatchObject({ workflow: { summary: { title: 'Stopped' }, tasks: [{ title: 'Slow report' }, { title: 'Gathering' }] } });
    expect(items[3]).toMatchObject({ content: CANCELLED_NOTE });
  });
});

describe.each([
  { kind: 'a reasoning model', model: 'gpt-5-mini' },
  { kind: 'a model that does not reason', model: 'gpt-4.1-mini' },
])('a message of several parts, with $kind', ({ model }) => {
  it('adds the second part at content_index 1 and stores both (reference: test_event_mapping, content_part.added at index 1)', async () => {
    h.model.enqueue({ text: 'First part.', moreText: ['Second part.'] });
    const { events, me, threadId } = await create({ agent: plain(model) }, 'Two parts please');
    const parts = updatesOf(events).filter((u) => u.type === 'assistant_message.content_part.added');
    expect(parts).toEqual([
      { type: 'assistant_message.content_part.added', content_index: 0, content: { type: 'output_text', text: '', annotations: [] } },
      { type: 'assistant_message.content_part.added', content_index: 1, content: { type: 'output_text', text: '', annotations: [] } },
    ]);
    const deltas = updatesOf(events).flatMap((u) => (u.type === 'assistant_message.content_part.text_delta' ? [[u.content_index, u.delta] as const] : []));
    expect(deltas.filter(([index]) => index === 1).map(([, delta]) => delta).join('')).toBe('Second part.');
    const content = [
      { type: 'output_text', text: 'First part.', annotations: [] },
      { type: 'output_text', text: 'Second part.', annotations: [] },
    ];
    expect(lastDone(events)).toMatchObject({ type: 'assistant_message', content });
    expect((await h.items(threadId, me)).at(-1)).toMatchObject({ type: 'assistant_message', content });
  });
});
