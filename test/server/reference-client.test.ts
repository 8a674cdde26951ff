import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DiskAttachmentStore } from '../../dev/disk-attachments.js';
import { ServerStopping } from '../../shared/errors.js';
import type { ThreadItem, ThreadStreamEvent } from '../../shared/protocol/index.js';
import { INTERRUPTED_NOTE, type ActionHandler } from '../../shared/server/index.js';
import { doneItems, input, startChatKit, threadIdOf, type ChatKitHarness, type User } from '../support/chatkit-harness.js';
import { uid } from '../support/fixtures.js';

// The server driven the way a client built from the reference types (chatkit-python's
// chatkit/types.py) drives it: requests dumped as its pydantic models dump them, with every
// `X | None` field either left out or sent as null.

const actions: ActionHandler = {
  async *action(thread, action) {
    yield { type: 'progress_update', text: `handling ${action.type}` };
  },
  async syncAction() {
    return {};
  },
};
// Its grants look rows up only when its URLs are used, which these tests never do.
const attachments = new DiskAttachmentStore(mkdtempSync(join(tmpdir(), 'attachments-')), 'secret', () => 'http://127.0.0.1:9', { loadAttachment: (id, ctx) => h.store.loadAttachment(id, ctx) });

let h: ChatKitHarness;
let user: User;
beforeAll(async () => {
  h = await startChatKit({ actions, attachments, models: ['gpt-test', 'gpt-big'] });
});
afterAll(() => h?.close());
beforeEach(() => {
  user = { userId: uid('user') };
});

const stream = (body: unknown, options: Parameters<ChatKitHarness['stream']>[2] = {}) => h.stream(body, user, options);
const errors = (events: ThreadStreamEvent[]) => events.filter((e) => e.type === 'error');

async function newThread(text = 'Hello') {
  h.model.enqueue({ text: 'Hi.' });
  return threadIdOf(await stream({ type: 'threads.create', params: { input: input(text) } }));
}
const item = (threadId: string, fields: Record<string, unknown>) =>
  ({ id: uid('itm'), thread_id: threadId, created_at: new Date().toISOString(), ...fields }) as ThreadItem;

/** A user message input as the reference dumps it: every field present, None as null. */
const dumpedInput = (text: string) => ({
  content: [
    { type: 'input_text', text },
    { type: 'input_tag', id: 'tag_1', text: 'Ada', data: {}, group: null, interactive: false },
  ],
  attachments: [],
  quoted_text: null,
  inference_options: { tool_choice: null, model: null },
});

type Variant = 'omitted' | 'null';
/** Each request type, with the state it needs, in both forms. */
const requests: Record<string, (variant: Variant) => Promise<unknown>> = {
  'threads.create': async (v) => ({ type: 'threads.create', params: { input: v === 'null' ? dumpedInput('hi') : { content: [{ type: 'input_text', text: 'hi' }] } } }),
  'threads.add_user_message': async (v) => ({
    type: 'threads.add_user_message',
    params: { thread_id: await newThread(), input: v === 'null' ? dumpedInput('more') : { content: [{ type: 'input_text', text: 'more' }] } },
    ...(v === 'null' ? { metadata: {} } : {}),
  }),
  'threads.add_client_tool_output': async (v) => {
    const threadId = await newThread();
    await h.store.addThreadItem(threadId, item(threadId, { type: 'client_tool_call', status: 'pending', call_id: 'call_1', name: 'where', arguments: {} }), user);
    return { type: 'threads.add_client_tool_output', params: { thread_id: threadId, result: v === 'null' ? null : { ok: true } } };
  },
  'threads.add_structured_input': async (v) => {
    const threadId = await newThread();
    const question = item(threadId, { type: 'structured_input', status: 'pending', inputs: [{ id: 'q1', type: 'freeform', question: 'Why?' }] });
    await h.store.addThreadItem(threadId, question, user);
    const submission = v === 'null' ? { status: 'answered', answers: { q1: { values: ['because'], skipped: false } } } : {};
    return { type: 'threads.add_structured_input', params: { thread_id: threadId, item_id: question.id, input: submission } };
  },
  'threads.retry_after_item': async () => {
    const threadId = await newThread();
    const [question] = await h.allItems(threadId, user);
    return { type: 'threads.retry_after_item', params: { thread_id: threadId, item_id: question!.id } };
  },
  'threads.custom_action': async (v) => ({
    type: 'threads.custom_action',
    params: v === 'null' ? { thread_id: await newThread(), item_id: null, action: { type: 'refresh', payload: null } } : { thread_id: await newThread(), action: { type: 'refresh' } },
  }),
  'threads.get_by_id': async () => ({ type: 'threads.get_by_id', params: { thread_id: await newThread() } }),
  'threads.list': async (v) => ({ type: 'threads.list', params: v === 'null' ? { limit: null, order: 'desc', after: null } : {} }),
  'items.list': async (v) => ({ type: 'items.list', params: { thread_id: await newThread(), ...(v === 'null' ? { limit: null, order: 'desc', after: null } : {}) } }),
  'threads.update': async () => ({ type: 'threads.update', params: { thread_id: await newThread(), title: 'Renamed' } }),
  'threads.delete': async () => ({ type: 'threads.delete', params: { thread_id: await newThread() } }),
  'items.feedback': async () => {
    const threadId = await newThread();
    const ids = (await h.allItems(threadId, user)).map((i) => i.id);
    return { type: 'items.feedback', params: { thread_id: threadId, item_ids: ids, kind: 'positive' } };
  },
  'attachments.create': async () => ({ type: 'attachments.create', params: { name: 'a.txt', size: 3, mime_type: 'text/plain' } }),
  'attachments.delete': async () => {
    const created = await h.json({ type: 'attachments.create', params: { name: 'a.txt', size: 3, mime_type: 'text/plain' } }, user);
    return { type: 'attachments.delete', params: { attachment_id: created.id } };
  },
  'input.transcribe': async () => {
    h.model.enqueueTranscription('spoken');
    return { type: 'input.transcribe', params: { audio_base64: Buffer.from('audio').toString('base64'), mime_type: 'audio/webm' } };
  },
  'threads.sync_custom_action': async (v) => ({
    type: 'threads.sync_custom_action',
    params: v === 'null' ? { thread_id: await newThread(), item_id: null, action: { type: 'tap', payload: null } } : { thread_id: await newThread(), action: { type: 'tap' } },
  }),
};

describe('every request type, as the reference types dump it', () => {
  it('covers all sixteen request types', () => {
    expect(Object.keys(requests)).toHaveLength(16);
  });

  describe.each(['omitted', 'null'] as const)('with optional fields %s', (variant) => {
    it.each(Object.keys(requests))('%s is served', async (type) => {
      const body = await requests[type]!(variant);
      const result = await h.call(body, user);
      if (result.kind === 'json') return;
      const events: ThreadStreamEvent[] = [];
      for await (const event of result.events) events.push(event);
      expect(errors(events), JSON.stringify(events)).toEqual([]);
      expect(events.some((e) => e.type === 'stream_options')).toBe(true);
    });
  });

  it('reads null as absent and limit 0 as the default page size', async () => {
    const threadId = await newThread();
    const listed = await h.json({ type: 'items.list', params: { thread_id: threadId, limit: 0, after: null, order: 'asc' } }, user);
    expect(listed.data.map((i: ThreadItem) => i.type)).toEqual(['user_message', 'assistant_message']);
    h.model.enqueue({ text: 'ok' });
    const events = await stream({ type: 'threads.add_user_message', params: { thread_id: threadId, input: dumpedInput('tagged') } });
    const saved = doneItems(events)[0]!;
    // Stored and shown without the nulls, as exclude_none would.
    expect(JSON.stringify(saved)).not.toContain('null');
    expect(saved).toMatchObject({ content: [{ type: 'input_text' }, { type: 'input_tag', id: 'tag_1', interactive: false }], inference_options: {} });
  });
});

describe('validation messages', () => {
  it('name the field and what was expected, and quote little of the client', async () => {
    const refused = (body: unknown) => h.call(body, user).then(() => null, (error: { status: number; code: string; message: string }) => error);
    const wrongPart = await refused({ type: 'threads.create', params: { input: { content: [{ type: 'image', text: 'x' }] } } });
    expect(wrongPart).toMatchObject({ status: 400, code: 'invalid_params', message: 'threads.create: params.input.content[0].type: expected one of input_text, input_tag' });
    const wrongType = await refused({ type: 'items.list', params: { thread_id: 'thr_x', order: 'sideways' } });
    expect(wrongType?.message).toBe('items.list: params.order: expected one of asc, desc');
    const missing = await refused({ type: 'threads.update', params: { thread_id: 'thr_x' } });
    expect(missing?.message).toBe('threads.update: params.title: expected string');
    const huge = await refused({ type: 'x'.repeat(1_000_000), params: {} });
    expect(huge).toMatchObject({ status: 400, code: 'unknown_request_type' });
    expect(huge!.message.length).toBeLessThan(1000);
    expect(huge!.message).toContain('threads.create');
  });
});

describe('what the model says', () => {
  it('shows a refusal as visible text, streamed and stored', async () => {
    h.model.enqueue({ refusal: "I can't help with that." });
    const events = await stream({ type: 'threads.create', params: { input: input('Something forbidden') } });
    const deltas = events.flatMap((e) => (e.type === 'thread.item.updated' && e.update.type === 'assistant_message.content_part.text_delta' ? [e.update.delta] : []));
    expect(deltas.join('')).toBe("I can't help with that.");
    const answer = doneItems(events).at(-1);
    expect(answer).toMatchObject({ type: 'assistant_message', content: [{ type: 'output_text', text: "I can't help with that." }] });
    expect((await h.allItems(threadIdOf(events), user)).find((i) => i.type === 'assistant_message')).toEqual(answer);
  });
});

describe('client tool calls the user never answered', () => {
  it('are left out of the model input, and removed once an output arrives', async () => {
    const threadId = await newThread();
    h.model.enqueue({ functionCall: { name: 'pick_file', arguments: '{}', call_id: 'call_dangling' } });
    await stream({ type: 'threads.add_user_message', params: { thread_id: threadId, input: input('Open a file') } });
    // The user writes instead of answering: the next turn must still work.
    h.model.enqueue({ functionCall: { name: 'pick_file', arguments: '{}', call_id: 'call_answered' } });
    const events = await stream({ type: 'threads.add_user_message', params: { thread_id: threadId, input: input('Never mind, open another') } });
    expect(errors(events)).toEqual([]);
    const sent = JSON.stringify(h.model.requests.at(-1)!.body.input);
    expect(sent).not.toContain('call_dangling');

    h.model.enqueue({ text: 'Opened.' });
    await stream({ type: 'threads.add_client_tool_output', params: { thread_id: threadId, result: { file: 'b.txt' } } });
    const calls = (await h.allItems(threadId, user)).filter((i) => i.type === 'client_tool_call');
    expect(calls).toMatchObject([{ call_id: 'call_answered', status: 'completed', output: { file: 'b.txt' } }]);
    const input2 = h.model.requests.at(-1)!.body.input;
    expect(input2.filter((i: { type?: string }) => i.type === 'function_call').map((i: { call_id: string }) => i.call_id)).toEqual(['call_answered']);
  });
});

describe('threads.add_structured_input', () => {
  const ask = async (inputs: unknown[]) => {
    const threadId = await newThread();
    const question = item(threadId, { type: 'structured_input', status: 'pending', inputs });
    await h.store.addThreadItem(threadId, question, user);
    return { threadId, question };
  };

  it('sends stream_options first, records what the reference records, and the model sees questions and answers', async () => {
    const { threadId, question } = await ask([
      { id: 'single', type: 'multiple_choice', question: 'Size?', options: [{ value: 'S' }, { value: 'M' }, { value: 'L' }] },
      { id: 'many', type: 'multiple_choice', question: 'Toppings?', options: [{ value: 'a' }, { value: 'b' }], multiple: true },
      { id: 'empty', type: 'freeform', question: 'Notes?' },
      { id: 'missing', type: 'freeform', question: 'Colour?' },
    ]);
    h.model.enqueue({ text: 'Noted.' });
    const events = await stream({
      type: 'threads.add_structured_input',
      params: { thread_id: threadId, item_id: question.id, input: { answers: { single: { values: ['M', 'L'] }, many: { values: ['a', 'b'] }, empty: { values: [] }, unknown: { values: ['x'] } } } },
    });
    expect(events.map((e) => e.type).slice(0, 2)).toEqual(['stream_options', 'thread.item.replaced']);
    const replaced = (events[1] as { item: ThreadItem }).item;
    expect(replaced).toMatchObject({
      status: 'answered',
      inputs: [
        { id: 'single', answer: { values: ['M'], skipped: false } },
        { id: 'many', answer: { values: ['a', 'b'], skipped: false } },
        { id: 'empty', answer: { values: [], skipped: true } },
        { id: 'missing', answer: { values: [], skipped: true } },
      ],
    });
    expect(await h.store.loadItem(threadId, question.id, user)).toEqual(replaced);
    expect(JSON.stringify(h.model.requests.at(-1)!.body.input)).toContain(
      JSON.stringify('A structured input request was displayed to the user with the following status: answered\n<StructuredInput>\n- Size?: M\n- Toppings?: a, b\n- Notes?: skipped\n- Colour?: skipped\n</StructuredInput>').slice(1, -1),
    );
  });

  it('a submission skipped as a whole skips every question; an answered item cannot be answered again', async () => {
    const { threadId, question } = await ask([{ id: 'q', type: 'freeform', question: 'Why?' }]);
    h.model.enqueue({ text: 'Fine.' });
    const events = await stream({ type: 'threads.add_structured_input', params: { thread_id: threadId, item_id: question.id, input: { status: 'skipped', answers: { q: { values: ['x'] } } } } });
    expect((events[1] as { item: ThreadItem }).item).toMatchObject({ status: 'skipped', inputs: [{ answer: { skipped: true } }] });
    await expect(h.call({ type: 'threads.add_structured_input', params: { thread_id: threadId, item_id: question.id, input: {} } }, user)).rejects.toMatchObject({ status: 400, code: 'not_pending_input' });
  });
});

describe('a stop the server decides', () => {
  it('shows the partial answer as done, then an error the client may retry, and stores what it showed', async () => {
    const threadId = await newThread();
    h.model.enqueue({ text: ['One', ' two', ' three', ' four'], deltaDelayMs: 80 });
    const server = new AbortController();
    let deltas = 0;
    const events = await stream(
      { type: 'threads.add_user_message', params: { thread_id: threadId, input: input('Count') } },
      {
        signal: server.signal,
        onEvent: (e) => {
          if (e.type === 'thread.item.updated' && e.update.type === 'assistant_message.content_part.text_delta' && ++deltas === 2) {
            server.abort(new ServerStopping('the function is about to time out'));
          }
        },
      },
    );
    const partial = doneItems(events).at(-1);
    expect(partial).toMatchObject({ type: 'assistant_message', content: [{ text: 'One two' }] });
    expect(events.at(-1)).toEqual({ type: 'error', code: 'custom', message: 'The response was interrupted before it finished.', allow_retry: true });
    const stored = await h.allItems(threadId, user);
    expect(stored.slice(-2)).toEqual([partial, expect.objectContaining({ type: 'sdk_hidden_context', content: INTERRUPTED_NOTE })]);
    // The thread is free again for the retry.
    h.model.enqueue({ text: 'Again.' });
    expect(errors(await stream({ type: 'threads.add_user_message', params: { thread_id: threadId, input: input('Go on') } }))).toEqual([]);
  });
});

describe('titles', () => {
  it('are asked for when the turn starts and never hold the stream open', async () => {
    h.model.enqueue({ text: 'Quick answer.' });
    h.model.enqueueTitle('A slow title', { delayMs: 400 });
    const late: Promise<unknown>[] = [];
    const events = await stream({ type: 'threads.create', params: { input: input('Title me') } }, { waitUntil: (work) => void late.push(work) });
    const threadId = threadIdOf(events);
    // The stream ended with the answer, while the title was still on its way.
    expect(events.at(-1)).toMatchObject({ type: 'thread.item.done', item: { type: 'assistant_message' } });
    expect((await h.store.loadThread(threadId, user)).title).toBeUndefined();
    expect(late).toHaveLength(1);
    await Promise.all(late);
    expect((await h.store.loadThread(threadId, user)).title).toBe('A slow title');
    // The title request went out before the answer's (in parallel), not after it.
    const paths = h.model.requests.slice(-2).map((r) => (r.body?.stream ? 'answer' : 'title'));
    expect(paths).toEqual(['title', 'answer']);
  });

  it('a title ready with the answer comes as thread.updated right after it', async () => {
    h.model.enqueue({ text: ['Slow', ' answer.'], deltaDelayMs: 150 });
    h.model.enqueueTitle('Fast title');
    const events = await stream({ type: 'threads.create', params: { input: input('Hi') } });
    expect(events.slice(-2).map((e) => e.type)).toEqual(['thread.item.done', 'thread.updated']);
    expect(events.at(-1)).toMatchObject({ thread: { title: 'Fast title' } });
  });
});

describe('the model a client may pick', () => {
  it('is one of the configured models; any other is refused before any stream', async () => {
    const threadId = await newThread();
    h.model.enqueue({ text: 'Big answer.' });
    await stream({ type: 'threads.add_user_message', params: { thread_id: threadId, input: input('x', { inference_options: { model: 'gpt-big' } }) } });
    expect(h.model.requests.at(-1)!.body.model).toBe('gpt-big');
    const before = (await h.allItems(threadId, user)).length;
    await expect(
      h.call({ type: 'threads.add_user_message', params: { thread_id: threadId, input: input('x', { inference_options: { model: 'o3-pro' } }) } }, user),
    ).rejects.toMatchObject({ status: 400, code: 'model_not_allowed', message: 'inference_options.model: expected one of gpt-test, gpt-big' });
    await expect(
      h.call({ type: 'threads.create', params: { input: input('x', { inference_options: { tool_choice: { id: 'web_search' } } }) } }, user),
    ).rejects.toMatchObject({ status: 400, code: 'unknown_tool' });
    expect(await h.allItems(threadId, user)).toHaveLength(before);
  });
});
