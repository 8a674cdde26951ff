import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BadRequestError } from '../../shared/errors.js';
import { createChatKitServerFromEnv } from '../../shared/server/index.js';
import { DEFAULT_MESSAGE_MAX_CHARS } from '../../shared/server/message-size.js';
import { input, startChatKit, threadIdOf, type ChatKitHarness } from '../support/chatkit-harness.js';
import { uid } from '../support/fixtures.js';

// MESSAGE_MAX_CHARS: every request that carries a user's text is refused above it with a 400
// that names the field, before anything is read or written.
let harness: ChatKitHarness;
let user: { userId: string };
beforeAll(async () => {
  harness = await startChatKit();
});
afterAll(async () => {
  await harness?.close();
});
beforeEach(() => {
  user = { userId: uid('user') };
});

const MAX = DEFAULT_MESSAGE_MAX_CHARS;
const refusal = (field: string, length: number) =>
  expect.objectContaining({
    status: 400,
    code: 'message_too_long',
    message: expect.stringMatching(new RegExp(`${field.replaceAll('.', '\\.')}: .* is ${length.toLocaleString('en')} characters; at most ${MAX.toLocaleString('en')} are accepted`)),
  });

async function newThread(text: string) {
  harness.model.enqueue({ text: 'Noted.' });
  harness.model.enqueueTitle('Title');
  return threadIdOf(await harness.stream({ type: 'threads.create', params: { input: input(text) } }, user));
}

describe(`a message's text, by default at most ${MAX.toLocaleString('en')} characters`, () => {
  it('is accepted at the limit and refused one character over it, creating nothing', async () => {
    const id = await newThread('x'.repeat(MAX));
    const [stored] = (await harness.store.loadThreadItems(id, { order: 'asc' }, user)).data;
    expect(stored).toMatchObject({ type: 'user_message', content: [{ text: 'x'.repeat(MAX) }] });

    const other = { userId: uid('user') };
    await expect(harness.call({ type: 'threads.create', params: { input: input('x'.repeat(MAX + 1)) } }, other)).rejects.toEqual(
      refusal('threads.create: params.input', MAX + 1),
    );
    expect((await harness.store.loadThreads({}, other)).data).toEqual([]);
  });

  it('counts every part, the tags (their id, group and data as JSON) and the quoted text', async () => {
    const half = 'y'.repeat(MAX / 2);
    const content = [
      { type: 'input_text', text: half },
      { type: 'input_tag', id: 'tag_1', text: '@doc', data: { body: half }, group: 'docs' },
    ];
    const body = { type: 'threads.create', params: { input: { ...input(''), content, quoted_text: 'q' } } };
    const length = MAX / 2 + 'tag_1'.length + '@doc'.length + 'docs'.length + JSON.stringify({ body: half }).length + 1;
    await expect(harness.call(body, user)).rejects.toEqual(refusal('threads.create: params.input', length));
    // A tag's id or group is text like any other: a huge one is refused too.
    for (const huge of [{ id: 'i'.repeat(MAX + 1) }, { group: 'g'.repeat(MAX + 1) }]) {
      const tagged = { type: 'threads.create', params: { input: { ...input(''), content: [{ type: 'input_tag', id: 't', text: '', data: {}, ...huge }] } } };
      await expect(harness.call(tagged, user)).rejects.toMatchObject({ status: 400, code: 'message_too_long' });
    }
  });

  it('in a thread: refused before the thread is touched, which takes the next message', async () => {
    const id = await newThread('first');
    const before = await harness.allItems(id, user);
    await expect(harness.call({ type: 'threads.add_user_message', params: { thread_id: id, input: input('z'.repeat(MAX + 10)) } }, user)).rejects.toEqual(
      refusal('threads.add_user_message: params.input', MAX + 10),
    );
    expect(await harness.allItems(id, user)).toEqual(before);
    harness.model.enqueue({ text: 'Still here.' });
    const events = await harness.stream({ type: 'threads.add_user_message', params: { thread_id: id, input: input('second') } }, user);
    expect(events.some((event) => event.type === 'thread.item.done')).toBe(true);
  });

  it("is a 400 before a thread's existence is checked: the same for anyone's thread id", async () => {
    await expect(harness.call({ type: 'threads.add_user_message', params: { thread_id: 'thr_nobody', input: input('z'.repeat(MAX + 1)) } }, user)).rejects.toBeInstanceOf(BadRequestError);
  });
});

describe('other requests that carry text', () => {
  const big = 'w'.repeat(MAX);
  it('a client tool output, the answers to a structured input, a custom action payload (as JSON)', async () => {
    const cases: Array<[unknown, string, number]> = [
      [{ type: 'threads.add_client_tool_output', params: { thread_id: 'thr_x', result: { text: big } } }, 'threads.add_client_tool_output: params.result', JSON.stringify({ text: big }).length],
      [
        { type: 'threads.add_structured_input', params: { thread_id: 'thr_x', item_id: 'si_x', input: { answers: { a: { values: [big] }, b: { values: ['more'] } } } } },
        'threads.add_structured_input: params.input.answers',
        MAX + 4,
      ],
      [{ type: 'threads.custom_action', params: { thread_id: 'thr_x', action: { type: 'save', payload: big } } }, 'threads.custom_action: params.action.payload', MAX + 2],
      [{ type: 'threads.sync_custom_action', params: { thread_id: 'thr_x', action: { type: 'save', payload: [big] } } }, 'threads.sync_custom_action: params.action.payload', MAX + 4],
    ];
    for (const [body, field, length] of cases) await expect(harness.call(body, user), field).rejects.toEqual(refusal(field, length));
  });
});

describe('MESSAGE_MAX_CHARS', () => {
  const fromEnv = (value: string) =>
    createChatKitServerFromEnv({ store: harness.store, env: { MESSAGE_MAX_CHARS: value }, log: { info() {}, warn() {}, error() {} }, announce: () => {} });

  it('sets the limit', async () => {
    const server = fromEnv('10');
    const call = (text: string) => server.process(JSON.stringify({ type: 'threads.create', params: { input: input(text) } }), user, { signal: new AbortController().signal });
    await expect(call('x'.repeat(11))).rejects.toMatchObject({ code: 'message_too_long', message: expect.stringContaining('at most 10 are accepted') });
    await expect(call('x'.repeat(10))).resolves.toMatchObject({ kind: 'stream' });
  });

  it('is refused at start when it is not a positive whole number', () => {
    for (const value of ['0', '-5', '1.5', 'lots']) expect(() => fromEnv(value), value).toThrow(/MESSAGE_MAX_CHARS/);
  });
});
