import { Agent, handoff, type InputGuardrail, type OutputGuardrail } from '@openai/agents-core';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { AgentContext } from '../../shared/agent/index.js';
import type { ChatKitServer } from '../../shared/server/index.js';
import { itemOfEveryType, thread } from '../support/fixtures.js';
import { doneItems, input, itemsOf, modelRequests, newUser, startAgentHarness, stream, text, trace, updates, type AgentHarness } from './harness.js';

// How a run's model output maps to ChatKit: reasoning, refusals, citations, generated images,
// handoffs and guardrail tripwires.
let h: AgentHarness;
let plain: ChatKitServer;

beforeAll(async () => {
  h = await startAgentHarness();
  plain = h.serverFor(new Agent<AgentContext>({ name: 'Plain', instructions: 'Answer.' }), { partialImages: 2 });
});
afterAll(() => h?.close());

const create = (server: ChatKitServer, message: string, as: { userId: string }) => stream(server, { type: 'threads.create', params: { input: input(message) } }, { as });
const threadIdOf = (events: Array<{ type: string }>) => (events[0] as unknown as { thread: { id: string } }).thread.id;

describe('model output', () => {
  it('streams reasoning summaries as thought tasks of a reasoning workflow that closes when the answer starts', async () => {
    const me = newUser();
    const thinker = h.serverFor(new Agent<AgentContext>({ name: 'Thinker', model: 'gpt-5-mini', instructions: 'Answer.' }));
    h.model.enqueue({ reasoning: ['Weighing the options.', 'Choosing the shortest.'], text: 'Take the train.' });
    h.model.enqueueTitle('Travel');
    const events = await create(thinker, 'How do I get there?', me);
    expect(trace(events).slice(3, 13)).toEqual([
      'thread.item.added:workflow',
      'updated:workflow.task.added',
      'updated:workflow.task.updated',
      'updated:workflow.task.updated',
      'updated:workflow.task.added',
      'updated:workflow.task.updated',
      'updated:workflow.task.updated',
      'thread.item.done:workflow',
      'thread.item.added:assistant_message',
      'updated:assistant_message.content_part.added',
    ]);
    expect(events[3]).toMatchObject({ item: { type: 'workflow', workflow: { type: 'reasoning', tasks: [] } } });
    expect(updates(events).slice(0, 3)).toEqual([
      { type: 'workflow.task.added', task_index: 0, task: { type: 'thought', content: 'Weighing ' } },
      { type: 'workflow.task.updated', task_index: 0, task: { type: 'thought', content: 'Weighing the ' } },
      { type: 'workflow.task.updated', task_index: 0, task: { type: 'thought', content: 'Weighing the options.' } },
    ]);
    const workflow = doneItems(events).find((i) => i.type === 'workflow');
    expect(workflow).toMatchObject({
      workflow: {
        type: 'reasoning',
        expanded: false,
        summary: { duration: expect.any(Number) },
        tasks: [
          { type: 'thought', content: 'Weighing the options.' },
          { type: 'thought', content: 'Choosing the shortest.' },
        ],
      },
    });
    expect(text(events)).toBe('Take the train.');
    expect((await itemsOf(h.store, threadIdOf(events), me)).map((i) => i.type)).toEqual(['user_message', 'workflow', 'assistant_message']);
  });

  it('shows a refusal as the answer text', async () => {
    const me = newUser();
    h.model.enqueue({ refusal: 'I can’t help with that.' });
    h.model.enqueueTitle('Refused');
    const events = await create(plain, 'Something not allowed', me);
    expect(text(events)).toBe('I can’t help with that.');
    expect(doneItems(events).at(-1)).toMatchObject({ type: 'assistant_message', content: [{ type: 'output_text', text: 'I can’t help with that.', annotations: [] }] });
    expect(updates(events).at(-1)).toMatchObject({ type: 'assistant_message.content_part.done', content: { text: 'I can’t help with that.' } });
  });

  it('turns url, file and container file citations into annotations, dropping those with nothing to show', async () => {
    const me = newUser();
    h.model.enqueue({
      text: 'Sources: web, spec, output.',
      annotations: [
        { type: 'url_citation', url: 'https://neon.tech/docs', title: 'Neon docs', start_index: 9, end_index: 12 },
        { type: 'file_citation', file_id: 'file_nameless', index: 13 },
        { type: 'file_citation', file_id: 'file_1', filename: 'spec.md', index: 18 },
        { type: 'container_file_citation', container_id: 'cntr_1', file_id: 'cfile_1', filename: 'out.csv', start_index: 20, end_index: 26 },
      ],
    });
    h.model.enqueueTitle('Cited');
    const events = await create(plain, 'Cite things', me);
    const annotations = [
      { type: 'annotation', source: { type: 'url', url: 'https://neon.tech/docs', title: 'Neon docs' }, index: 12 },
      { type: 'annotation', source: { type: 'file', filename: 'spec.md', title: 'spec.md' }, index: 18 },
      { type: 'annotation', source: { type: 'file', filename: 'out.csv', title: 'out.csv' }, index: 26 },
    ];
    expect(updates(events).filter((u) => u.type === 'assistant_message.content_part.annotation_added')).toEqual(
      annotations.map((annotation, index) => ({ type: 'assistant_message.content_part.annotation_added', content_index: 0, annotation_index: index, annotation })),
    );
    expect(updates(events).at(-1)).toMatchObject({ type: 'assistant_message.content_part.done', content: { annotations } });
    const stored = (await itemsOf(h.store, threadIdOf(events), me)).at(-1);
    expect(stored).toMatchObject({ type: 'assistant_message', content: [{ text: 'Sources: web, spec, output.', annotations }] });
  });

  it('shows image generation as a generated_image item with progress, then the final image', async () => {
    const me = newUser();
    h.model.enqueue({ imageGeneration: { partials: ['cGFydDA=', 'cGFydDE='], result: 'ZmluYWw=' }, text: 'Here is your cat.' });
    h.model.enqueueTitle('Cat');
    const events = await create(plain, 'Draw a cat', me);
    expect(trace(events).slice(3, 7)).toEqual(['thread.item.added:generated_image', 'updated:generated_image.updated', 'updated:generated_image.updated', 'thread.item.done:generated_image']);
    const progress = updates(events).filter((u) => u.type === 'generated_image.updated');
    expect(progress).toEqual([
      { type: 'generated_image.updated', image: { id: expect.any(String), url: 'data:image/png;base64,cGFydDA=' }, progress: 0 },
      { type: 'generated_image.updated', image: { id: expect.any(String), url: 'data:image/png;base64,cGFydDE=' }, progress: 0.5 },
    ]);
    expect(doneItems(events)[1]).toMatchObject({ type: 'generated_image', image: { url: 'data:image/png;base64,ZmluYWw=' } });
    expect((await itemsOf(h.store, threadIdOf(events), me)).map((i) => i.type)).toEqual(['user_message', 'generated_image', 'assistant_message']);
  });
});

describe('model input', () => {
  it("sends a thread holding every item type through toModelInput to the model, with the user's model choice", async () => {
    const me = newUser();
    const t = thread();
    await h.store.createThread(t, null, me);
    // The model downloads the generated image by its URL: it is served.
    const image = createServer((_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.from('89504e470d0a1a0a', 'hex')));
    await new Promise<void>((resolve) => image.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => void image.close());
    const imageUrl = `http://127.0.0.1:${(image.address() as AddressInfo).port}/i.png`;
    for (const item of itemOfEveryType(t.id)) {
      const stored = item.type === 'user_message' ? { ...item, attachments: [] } : item.type === 'generated_image' ? { ...item, image: { ...item.image!, url: imageUrl } } : item;
      await h.store.addThreadItem(t.id, stored, me);
    }
    h.model.enqueue({ text: 'Noted.' });
    const events = await stream(
      plain,
      { type: 'threads.add_user_message', params: { thread_id: t.id, input: { ...input('And now?'), inference_options: { model: 'gpt-picked' } } } },
      { as: me },
    );
    expect(text(events)).toBe('Noted.');
    const sent = modelRequests(h.model).at(-1)!.body;
    expect(sent.model).toBe('gpt-picked');
    expect(sent.input.at(-1)).toEqual({ role: 'user', content: [{ type: 'input_text', text: 'And now?' }] });
    expect(sent.input).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'function_call_output', call_id: 'call_1' })]));
    expect(modelRequests(h.model).at(-1)!.downloads).toEqual([{ url: imageUrl, status: 200 }]);
  });
});

describe('handoffs', () => {
  it('shows the handoff as a task, then the agent taking over answers with its own instructions', async () => {
    const billing = new Agent<AgentContext>({ name: 'Billing', instructions: 'You handle invoices.', handoffDescription: 'Invoices and payments' });
    const triage = new Agent<AgentContext>({ name: 'Triage', instructions: 'Route the user.', handoffs: [handoff(billing)] });
    const server = h.serverFor(triage);
    const me = newUser();
    h.model.enqueue({ functionCall: { name: 'transfer_to_Billing', arguments: '{}' } }, { text: 'Billing here: your invoice is paid.' });
    h.model.enqueueTitle('Invoice');
    const events = await create(server, 'Is my invoice paid?', me);
    const [first, second] = modelRequests(h.model).slice(-2);
    expect(first!.body).toMatchObject({ instructions: 'Route the user.', tools: [{ name: 'transfer_to_Billing' }] });
    expect(second!.body.instructions).toBe('You handle invoices.');
    expect(trace(events).slice(3, 6)).toEqual(['thread.item.added:workflow', 'thread.item.done:workflow', 'thread.item.added:assistant_message']);
    expect(doneItems(events)[1]).toMatchObject({ workflow: { tasks: [{ type: 'custom', title: 'Handed off to Billing', status_indicator: 'complete' }] } });
    expect(text(events)).toBe('Billing here: your invoice is paid.');
  });
});

describe('guardrail tripwires', () => {
  const blockForbidden: InputGuardrail = {
    name: 'no forbidden topics',
    runInParallel: false,
    execute: async ({ input: given }) => {
      const tripwireTriggered = JSON.stringify(given).includes('forbidden');
      return { tripwireTriggered, outputInfo: tripwireTriggered ? { message: 'I can’t discuss forbidden topics.' } : {} };
    },
  };
  const noSecrets: OutputGuardrail = {
    name: 'no secrets out',
    execute: async ({ agentOutput }) => ({ tripwireTriggered: String(agentOutput).includes('secret'), outputInfo: null }),
  };

  it('an input tripwire ends the turn with a clear error before the model answers', async () => {
    const server = h.serverFor(new Agent<AgentContext>({ name: 'Guarded', instructions: 'Answer.', inputGuardrails: [blockForbidden] }));
    const me = newUser();
    const requestsBefore = modelRequests(h.model).length;
    h.model.enqueueTitle('Blocked');
    const events = await create(server, 'Tell me the forbidden thing', me);
    expect(events.filter((e) => e.type === 'error')).toEqual([{ type: 'error', code: 'custom', message: 'I can’t discuss forbidden topics.', allow_retry: false }]);
    expect(modelRequests(h.model).length).toBe(requestsBefore);
    expect((await itemsOf(h.store, threadIdOf(events), me)).map((i) => i.type)).toEqual(['user_message']);
  });

  it('an output tripwire takes back the streamed answer and says why', async () => {
    const server = h.serverFor(new Agent<AgentContext>({ name: 'Guarded', instructions: 'Answer.', outputGuardrails: [noSecrets] }), { guardrailMessage: 'That answer was withheld.' });
    const me = newUser();
    h.model.enqueue({ text: 'The secret is 42.' });
    h.model.enqueueTitle('Withheld');
    const events = await create(server, 'What is the secret?', me);
    const answer = doneItems(events).find((i) => i.type === 'assistant_message')!;
    expect(events.filter((e) => e.type === 'thread.item.removed')).toEqual([{ type: 'thread.item.removed', item_id: answer.id }]);
    expect(events.filter((e) => e.type === 'error')).toEqual([{ type: 'error', code: 'custom', message: 'That answer was withheld.', allow_retry: false }]);
    expect((await itemsOf(h.store, threadIdOf(events), me)).map((i) => i.type)).toEqual(['user_message']);
  });
});
