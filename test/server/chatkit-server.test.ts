import OpenAI from 'openai';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../shared/db/connect.js';
import type { ThreadItem, ThreadStreamEvent } from '../../shared/protocol/index.js';
import { OpenAIResponder } from '../../shared/responder/openai-responder.js';
import { ChatKitServer, CANCELLED_NOTE, type ActionHandler, type ChatKitResult } from '../../shared/server/index.js';
import type { PostgresStore } from '../../shared/store/postgres-store.js';
import { input, startChatKit, type CallOptions, type ChatKitHarness } from '../support/chatkit-harness.js';
import { uid } from '../support/fixtures.js';
import type { ScriptedOpenAI } from '../support/scripted-openai.js';

let harness: ChatKitHarness;
let database: Database;
let store: PostgresStore;
let model: ScriptedOpenAI;
let roundTrips: string[] = [];
const budget: Array<[string, number]> = [];

const actions: ActionHandler = {
  async *action(thread, action, sender) {
    yield {
      type: 'thread.item.done',
      item: { id: uid('msg'), thread_id: thread.id, created_at: new Date().toISOString(), type: 'assistant_message', content: [{ type: 'output_text', text: `action ${action.type} from ${sender?.id ?? 'none'}`, annotations: [] }] },
    };
  },
  async syncAction(_thread, action, sender) {
    return sender?.type === 'widget' ? { updated_item: { ...sender, copy_text: `clicked ${action.type}` } } : {};
  },
};

beforeAll(async () => {
  harness = await startChatKit({ actions }, (q) => void roundTrips.push(q));
  ({ database, store, model } = harness);
});
afterAll(async () => {
  console.log(`\nDatabase round trips per ChatKit operation:\n${budget.map(([op, n]) => `  ${op.padEnd(40)} ${n}`).join('\n')}\n`);
  await harness?.close();
});

let user: { userId: string };
beforeEach(() => {
  user = { userId: uid('user') };
});

const call = (body: unknown, options: CallOptions = {}): Promise<ChatKitResult> => harness.call(body, user, options);
const json = (body: unknown, as?: { userId: string }): Promise<any> => harness.json(body, as ?? user);
const stream = (body: unknown, options: CallOptions & { onEvent?: (e: ThreadStreamEvent) => void } = {}) => harness.stream(body, user, options);
async function measured<T>(operation: string, run: () => Promise<T>): Promise<[T, number]> {
  roundTrips = [];
  const value = await run();
  budget.push([operation, roundTrips.length]);
  return [value, roundTrips.length];
}
const done = (events: ThreadStreamEvent[]) => events.flatMap((e) => (e.type === 'thread.item.done' ? [e.item] : []));
async function newThread(text = 'Hello') {
  model.enqueue({ text: ['Hi', ' there.'] });
  model.enqueueTitle('A greeting');
  const events = await stream({ type: 'threads.create', params: { input: input(text) } });
  return (events[0] as { thread: { id: string } }).thread.id;
}
const allItems = (threadId: string) => harness.allItems(threadId, user);

describe('threads.create and threads.add_user_message', () => {
  it('creates a thread, saves the message, streams the answer in protocol order, and titles the thread', async () => {
    model.enqueue({ text: ['Hello', ' world', '!'], annotations: [{ type: 'url_citation', url: 'https://neon.tech', title: 'Neon', start_index: 0, end_index: 5 }] });
    model.enqueueTitle('Saying hello');
    const [events, trips] = await measured('threads.create (first turn, with title)', () => stream({ type: 'threads.create', params: { input: input('Say hello') } }));
    const types = events.map((e) => e.type);
    expect(types.slice(0, 4)).toEqual(['thread.created', 'thread.item.done', 'stream_options', 'thread.item.added']);
    expect(events[2]).toEqual({ type: 'stream_options', stream_options: { allow_cancel: true } });
    const updates = events.flatMap((e) => (e.type === 'thread.item.updated' ? [e.update.type] : []));
    expect(updates).toEqual([
      'assistant_message.content_part.added',
      'assistant_message.content_part.text_delta',
      'assistant_message.content_part.text_delta',
      'assistant_message.content_part.text_delta',
      'assistant_message.content_part.annotation_added',
      'assistant_message.content_part.done',
    ]);
    const [userItem, answer] = done(events);
    expect(userItem).toMatchObject({ type: 'user_message', content: [{ type: 'input_text', text: 'Say hello' }] });
    expect(answer).toMatchObject({ type: 'assistant_message', content: [{ type: 'output_text', text: 'Hello world!', annotations: [{ source: { type: 'url', url: 'https://neon.tech' } }] }] });
    expect(events.at(-1)).toMatchObject({ type: 'thread.updated', thread: { title: 'Saying hello', metadata: {} } });

    const threadId = (events[0] as { thread: { id: string } }).thread.id;
    expect((await allItems(threadId)).map((i) => i.type)).toEqual(['user_message', 'assistant_message']);
    expect((await store.loadThread(threadId, user)).title).toBe('Saying hello');
    // The thread with the message and the lease; the answer with the lease's release and the title.
    expect(trips).toBe(2);
  });

  it('adds a message to an existing thread in 2 round trips, and the model sees the history', async () => {
    const threadId = await newThread('My name is Ada');
    model.enqueue({ text: 'Nice to meet you, Ada.' });
    const [events, trips] = await measured('threads.add_user_message', () =>
      stream({ type: 'threads.add_user_message', params: { thread_id: threadId, input: input('What is my name?') } }),
    );
    // The lease, the message and the history in one statement; the answer with the release.
    expect(trips).toBe(2);
    expect(events.map((e) => e.type)[0]).toBe('thread.item.done');
    expect(events.some((e) => e.type === 'thread.updated')).toBe(false); // titled already
    const sent = model.requests.at(-1)!.body;
    expect(sent).toMatchObject({ model: 'gpt-test', instructions: 'Be brief.', stream: true });
    expect(sent.input).toEqual([
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'My name is Ada' }] },
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Hi there.', annotations: [] }] },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'What is my name?' }] },
    ]);
  });

  it("answers not found before any stream for another user's thread", async () => {
    const threadId = await newThread();
    const intruder = { userId: uid('user') };
    await expect(call({ type: 'threads.add_user_message', params: { thread_id: threadId, input: input('x') } }, { as: intruder })).rejects.toMatchObject({ status: 404 });
    await expect(call({ type: 'threads.retry_after_item', params: { thread_id: threadId, item_id: 'msg_x' } }, { as: intruder })).rejects.toMatchObject({ status: 404 });
    await expect(call({ type: 'threads.get_by_id', params: { thread_id: threadId } }, { as: intruder })).rejects.toMatchObject({ status: 404 });
    expect(await allItems(threadId)).toHaveLength(2);
  });

  it('turns a model failure into one error event and keeps the user message', async () => {
    const threadId = await newThread();
    model.enqueue({ failWith: { status: 500, message: 'model down' } });
    const events = await stream({ type: 'threads.add_user_message', params: { thread_id: threadId, input: input('Are you there?') } });
    expect(events.filter((e) => e.type === 'error')).toEqual([{ type: 'error', code: 'stream.error', allow_retry: true }]);
    expect((await allItems(threadId)).at(-1)).toMatchObject({ type: 'user_message', content: [{ text: 'Are you there?' }] });

    model.enqueue({ text: ['Half', ' more'], failMidStream: { afterDeltas: 1, message: 'overloaded' } });
    const midway = await stream({ type: 'threads.add_user_message', params: { thread_id: threadId, input: input('Again?') } });
    expect(midway.filter((e) => e.type === 'error')).toHaveLength(1);
  });
});

describe('cancellation', () => {
  it('keeps the partial answer and a hidden note when the client goes away', async () => {
    const threadId = await newThread();
    model.enqueue({ text: ['One', ' two', ' three', ' four', ' five'], deltaDelayMs: 100 });
    const aborter = new AbortController();
    let deltas = 0;
    await stream(
      { type: 'threads.add_user_message', params: { thread_id: threadId, input: input('Count') } },
      {
        signal: aborter.signal,
        onEvent: (e) => {
          if (e.type === 'thread.item.updated' && e.update.type === 'assistant_message.content_part.text_delta' && ++deltas === 2) aborter.abort();
        },
      },
    );
    const items = await allItems(threadId);
    expect(items.slice(-2)).toMatchObject([
      { type: 'assistant_message', content: [{ text: 'One two' }] },
      { type: 'sdk_hidden_context', content: CANCELLED_NOTE },
    ]);
    await new Promise((r) => setTimeout(r, 50));
    expect(model.requests.filter((r) => r.path === '/v1/responses' && r.body?.stream).at(-1)!.aborted).toBe(true);
    // Hidden from the client, fed to the model.
    const listed = await json({ type: 'items.list', params: { thread_id: threadId, order: 'asc' } });
    expect(listed.data.map((i: ThreadItem) => i.type)).not.toContain('sdk_hidden_context');
    model.enqueue({ text: 'ok' });
    await stream({ type: 'threads.add_user_message', params: { thread_id: threadId, input: input('next') } });
    expect(JSON.stringify(model.requests.at(-1)!.body.input)).toContain(CANCELLED_NOTE);
  });

  it('does not keep an empty partial answer', async () => {
    const threadId = await newThread();
    model.enqueue({ text: ['late'], deltaDelayMs: 300 });
    const aborter = new AbortController();
    await stream(
      { type: 'threads.add_user_message', params: { thread_id: threadId, input: input('Wait') } },
      { signal: aborter.signal, onEvent: (e) => e.type === 'thread.item.added' && aborter.abort() },
    );
    const items = await allItems(threadId);
    expect(items.map((i) => i.type).slice(-2)).toEqual(['user_message', 'sdk_hidden_context']);
  });
});

describe('reading and updating threads', () => {
  it('get_by_id, items.list, threads.list and update within their round-trip budgets, hidden items removed', async () => {
    const threadId = await newThread();
    await store.addThreadItem(threadId, { id: uid('hcx'), thread_id: threadId, created_at: new Date().toISOString(), type: 'hidden_context_item', content: { plan: 'pro' } }, user);
    const [thread, t1] = await measured('threads.get_by_id', () => json({ type: 'threads.get_by_id', params: { thread_id: threadId } }));
    expect(t1).toBe(1);
    expect(thread).toMatchObject({ id: threadId, title: 'A greeting', status: { type: 'active' }, metadata: {}, items: { has_more: false } });
    expect(thread.items.data.map((i: ThreadItem) => i.type)).toEqual(['user_message', 'assistant_message']);
    expect(JSON.stringify(thread)).not.toMatch(/null/);

    const [items, t2] = await measured('items.list', () => json({ type: 'items.list', params: { thread_id: threadId, limit: 1 } }));
    expect(t2).toBe(1);
    expect(items).toMatchObject({ data: [{ type: 'assistant_message' }], has_more: true });

    await newThread('second');
    const [list, t3] = await measured('threads.list', () => json({ type: 'threads.list', params: { limit: 1 } }));
    expect(t3).toBe(1);
    expect(list).toMatchObject({ data: [{ items: { data: [] } }], has_more: true });
    const next = await json({ type: 'threads.list', params: { limit: 1, after: list.after } });
    expect(next.data[0].id).toBe(threadId);

    const [updated, t4] = await measured('threads.update', () => json({ type: 'threads.update', params: { thread_id: threadId, title: 'Renamed' } }));
    expect(t4).toBeLessThanOrEqual(2);
    expect(updated).toMatchObject({ id: threadId, title: 'Renamed' });

    const [deleted, t5] = await measured('threads.delete', () => json({ type: 'threads.delete', params: { thread_id: threadId } }));
    expect(t5).toBe(1);
    expect(deleted).toEqual({});
    await expect(call({ type: 'threads.get_by_id', params: { thread_id: threadId } })).rejects.toMatchObject({ status: 404 });
  });

  it('stores feedback in the database', async () => {
    const threadId = await newThread();
    const [, answer] = await allItems(threadId);
    const [, trips] = await measured('items.feedback', () => json({ type: 'items.feedback', params: { thread_id: threadId, item_ids: [answer!.id], kind: 'negative' } }));
    expect(trips).toBe(1);
    const { rows } = await sql<{ kind: string }>`SELECT kind FROM chatkit_item_feedback WHERE item_id = ${answer!.id}`.execute(database.db);
    expect(rows).toEqual([{ kind: 'negative' }]);
  });
});

describe('turns without a new message', () => {
  it('retry_after_item removes what followed the message and answers it again', async () => {
    const threadId = await newThread('Question');
    const [question, oldAnswer] = await allItems(threadId);
    model.enqueue({ text: 'A better answer.' });
    const events = await stream({ type: 'threads.retry_after_item', params: { thread_id: threadId, item_id: question!.id } });
    expect(done(events)).toMatchObject([{ type: 'assistant_message', content: [{ text: 'A better answer.' }] }]);
    const items = await allItems(threadId);
    expect(items.map((i) => i.id)).not.toContain(oldAnswer!.id);
    expect(items).toHaveLength(2);
    expect(model.requests.at(-1)!.body.input).toEqual([{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Question' }] }]);
  });

  it('client tool output completes the pending call and continues the turn', async () => {
    const threadId = await newThread();
    model.enqueue({ functionCall: { name: 'get_location', arguments: '{"precise":true}', call_id: 'call_1' } });
    const events = await stream({ type: 'threads.add_user_message', params: { thread_id: threadId, input: input('Where am I?') } });
    expect(done(events).at(-1)).toMatchObject({ type: 'client_tool_call', status: 'pending', name: 'get_location', arguments: { precise: true } });

    model.enqueue({ text: 'You are in London.' });
    const after = await stream({ type: 'threads.add_client_tool_output', params: { thread_id: threadId, result: { city: 'London' } } });
    expect(done(after)).toMatchObject([{ type: 'assistant_message' }]);
    const items = await allItems(threadId);
    expect(items.find((i) => i.type === 'client_tool_call')).toMatchObject({ status: 'completed', output: { city: 'London' } });
    expect(model.requests.at(-1)!.body.input.slice(-2)).toEqual([
      { type: 'function_call', call_id: 'call_1', name: 'get_location', arguments: '{"precise":true}' },
      { type: 'function_call_output', call_id: 'call_1', output: '{"city":"London"}' },
    ]);
    await expect(call({ type: 'threads.add_client_tool_output', params: { thread_id: threadId, result: {} } })).rejects.toMatchObject({ status: 400, code: 'no_pending_tool_call' });
    // The refusal left the thread free: the next message is answered, not 409.
    model.enqueue({ text: 'Anything else?' });
    expect((await stream({ type: 'threads.add_user_message', params: { thread_id: threadId, input: input('Thanks') } })).filter((e) => e.type === 'error')).toEqual([]);
  });

  it('structured input answers replace the pending item, then the turn continues', async () => {
    const threadId = await newThread();
    const question: ThreadItem = {
      id: uid('si'), thread_id: threadId, created_at: new Date().toISOString(), type: 'structured_input', status: 'pending',
      inputs: [{ id: 'q1', type: 'multiple_choice', question: 'Size?', options: [{ value: 'S' }, { value: 'L' }] }],
    };
    await store.addThreadItem(threadId, question, user);
    model.enqueue({ text: 'Large it is.' });
    const events = await stream({ type: 'threads.add_structured_input', params: { thread_id: threadId, item_id: question.id, input: { answers: { q1: { values: ['L'] } } } } });
    expect(events[0]).toEqual({ type: 'stream_options', stream_options: { allow_cancel: true } });
    expect(events[1]).toMatchObject({ type: 'thread.item.replaced', item: { id: question.id, status: 'answered', inputs: [{ answer: { values: ['L'], skipped: false } }] } });
    expect(await store.loadItem(threadId, question.id, user)).toMatchObject({ status: 'answered' });
  });

  it('custom and sync actions go to the action handler', async () => {
    const threadId = await newThread();
    const widget: ThreadItem = { id: uid('wd'), thread_id: threadId, created_at: new Date().toISOString(), type: 'widget', widget: { type: 'Card', children: [] } };
    await store.addThreadItem(threadId, widget, user);
    const events = await stream({ type: 'threads.custom_action', params: { thread_id: threadId, item_id: widget.id, action: { type: 'buy', payload: { n: 1 } } } });
    expect(done(events)).toMatchObject([{ content: [{ text: `action buy from ${widget.id}` }] }]);
    const synced = await json({ type: 'threads.sync_custom_action', params: { thread_id: threadId, item_id: widget.id, action: { type: 'tap' } } });
    expect(synced).toMatchObject({ updated_item: { id: widget.id, copy_text: 'clicked tap' } });
    expect(await store.loadItem(threadId, widget.id, user)).toMatchObject({ copy_text: 'clicked tap' });
  });

  it('come only from a widget: naming another item is a 400, and the handler is not called', async () => {
    const threadId = await newThread();
    const message = (await allItems(threadId)).find((item) => item.type === 'user_message')!;
    const before = await allItems(threadId);
    for (const type of ['threads.custom_action', 'threads.sync_custom_action']) {
      await expect(call({ type, params: { thread_id: threadId, item_id: message.id, action: { type: 'buy' } } })).rejects.toMatchObject({ status: 400, code: 'not_a_widget' });
    }
    expect(await allItems(threadId)).toEqual(before);
  });
});

describe('attachments and transcription', () => {
  it('answers "not enabled" for uploads without a file store, and transcribes through the SDK', async () => {
    await expect(call({ type: 'attachments.create', params: { name: 'a.txt', size: 3, mime_type: 'text/plain' } })).rejects.toMatchObject({ code: 'not_enabled', status: 501 });
    model.enqueueTranscription('hello from audio');
    expect(await json({ type: 'input.transcribe', params: { audio_base64: Buffer.from('RIFF....').toString('base64'), mime_type: 'audio/webm;codecs=opus' } })).toEqual({ text: 'hello from audio' });
    expect(model.requests.at(-1)!.path).toBe('/v1/audio/transcriptions');
    const bare = new ChatKitServer({ store, responder: new OpenAIResponder({ client: new OpenAI({ apiKey: 'x', baseURL: model.baseURL }), model: 'm', instructions: '' }) });
    await expect(bare.process(JSON.stringify({ type: 'input.transcribe', params: { audio_base64: 'AAAA', mime_type: 'audio/webm' } }), user, { signal: new AbortController().signal })).rejects.toMatchObject({ code: 'not_enabled' });
    await expect(bare.process(JSON.stringify({ type: 'threads.custom_action', params: { thread_id: 'thr_x', action: { type: 'a' } } }), user, { signal: new AbortController().signal })).rejects.toMatchObject({ code: 'not_enabled' });
  });

  it('keeps attachment metadata out of what the client sees', async () => {
    const attachment = { id: uid('atc'), type: 'file' as const, name: 'doc.pdf', mime_type: 'application/pdf', metadata: { s3_key: 'secret/key' } };
    await store.saveAttachment(attachment, user);
    model.enqueue({ text: 'Got it.' });
    model.enqueueTitle('Doc');
    const events = await stream({ type: 'threads.create', params: { input: { ...input('See file'), attachments: [attachment.id] } } });
    expect(JSON.stringify(events)).not.toContain('secret/key');
    expect(done(events)[0]).toMatchObject({ attachments: [{ id: attachment.id, name: 'doc.pdf' }] });
    await expect(call({ type: 'threads.create', params: { input: { ...input('x'), attachments: ['atc_not_mine'] } } })).rejects.toMatchObject({ status: 404 });
    // Sent in a message, it goes with its thread.
    await expect(call({ type: 'attachments.delete', params: { attachment_id: attachment.id } })).rejects.toMatchObject({ status: 409, code: 'attachment_in_use' });
  });
});

describe('bad requests', () => {
  it('are typed 400 errors before anything is written', async () => {
    const before = (await sql<{ n: number }>`SELECT count(*)::int AS n FROM chatkit_threads`.execute(database.db)).rows[0]!.n;
    const cases: Array<[unknown, string]> = [
      ['{"type":', 'invalid_json'],
      [{ type: 'threads.explode', params: {} }, 'unknown_request_type'],
      [{ params: {} }, 'unknown_request_type'],
      [{ type: 'threads.create', params: {} }, 'invalid_params'],
      [{ type: 'threads.create', params: { input: { content: 'text' } } }, 'invalid_params'],
      [{ type: 'items.list', params: { thread_id: 'thr_x', limit: -5 } }, 'invalid_limit'],
      [{ type: 'items.feedback', params: { thread_id: 'thr_x', item_ids: [], kind: 'meh' } }, 'invalid_params'],
    ];
    for (const [body, code] of cases) {
      await expect(call(body), JSON.stringify(body)).rejects.toMatchObject({ status: 400, code });
    }
    const after = (await sql<{ n: number }>`SELECT count(*)::int AS n FROM chatkit_threads`.execute(database.db)).rows[0]!.n;
    expect(after).toBe(before);
  });
});
