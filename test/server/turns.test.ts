import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ThreadItem, ThreadStreamEvent } from '../../shared/protocol/index.js';
import { OpenAIResponder } from '../../shared/responder/openai-responder.js';
import { ChatKitServer } from '../../shared/server/index.js';
import type { Responder } from '../../shared/responder/responder.js';
import { clientEvents, doneItems, input, startChatKit, threadIdOf, type ChatKitHarness, type User } from '../support/chatkit-harness.js';
import { uid } from '../support/fixtures.js';

// Turns against each other and against deletes, on the real server: a deleted thread stays
// deleted, one turn runs at a time per thread, and an answer shown as done is an answer stored.

let h: ChatKitHarness;
let user: User;
beforeAll(async () => {
  h = await startChatKit();
});
afterAll(() => h?.close());
beforeEach(() => {
  user = { userId: uid('user') };
});

const stream = (body: unknown, options: Parameters<ChatKitHarness['stream']>[2] = {}) => h.stream(body, user, options);
const errors = (events: ThreadStreamEvent[]) => events.filter((e) => e.type === 'error');
const exists = (threadId: string) => h.store.loadThread(threadId, user).then(() => true, () => false);
const rowsOf = async (threadId: string) =>
  (await sql<{ n: number }>`SELECT count(*)::int AS n FROM chatkit_thread_items WHERE thread_id = ${threadId}`.execute(h.database.db)).rows[0]!.n;

async function newThread(text = 'Hello') {
  h.model.enqueue({ text: 'Hi.' });
  h.model.enqueueTitle('Greeting');
  return threadIdOf(await stream({ type: 'threads.create', params: { input: input(text) } }));
}

describe('a deleted thread stays deleted', () => {
  it('when threads.update races the delete', async () => {
    for (let round = 0; round < 25; round++) {
      const threadId = await newThread();
      const update = h.json({ type: 'threads.update', params: { thread_id: threadId, title: `Renamed ${round}` } }, user).catch((e) => e);
      const remove = h.json({ type: 'threads.delete', params: { thread_id: threadId } }, user);
      const [updated, removed] = await Promise.all([update, remove]);
      expect(removed).toEqual({});
      if (updated instanceof Error) expect(updated).toMatchObject({ status: 404 });
      expect(await exists(threadId), `round ${round}`).toBe(false);
      expect(await rowsOf(threadId)).toBe(0);
    }
  });

  it('when it is deleted right after the answer is done, with the title still on its way', async () => {
    h.model.enqueue({ text: 'Answer.' });
    h.model.enqueueTitle('Late title', { delayMs: 200 });
    const late: Promise<unknown>[] = [];
    let deleted: Promise<unknown> | undefined;
    const events = await stream(
      { type: 'threads.create', params: { input: input('Hello') } },
      {
        waitUntil: (work) => void late.push(work),
        onEvent: (e) => {
          if (e.type === 'thread.item.done' && e.item.type === 'assistant_message') {
            deleted = h.json({ type: 'threads.delete', params: { thread_id: e.item.thread_id } }, user);
          }
        },
      },
    );
    await deleted;
    await Promise.all(late);
    const threadId = threadIdOf(events);
    expect(await exists(threadId)).toBe(false);
    expect(await rowsOf(threadId)).toBe(0);
  });

  it('when it is deleted while an answer streams: the turn stops and says so', async () => {
    const threadId = await newThread();
    h.model.enqueue({ text: ['a', ' b', ' c', ' d', ' e', ' f'], deltaDelayMs: 60 });
    let deleted: Promise<unknown> | undefined;
    const events = await stream(
      { type: 'threads.add_user_message', params: { thread_id: threadId, input: input('Go') } },
      { onEvent: (e) => void (e.type === 'thread.item.updated' && (deleted ??= h.json({ type: 'threads.delete', params: { thread_id: threadId } }, user))) },
    );
    await deleted;
    expect(errors(events)).toEqual([{ type: 'error', code: 'custom', message: expect.stringContaining('deleted'), allow_retry: false }]);
    expect(doneItems(events).map((i) => i.type)).toEqual(['user_message']);
    expect(await exists(threadId)).toBe(false);
    expect(await rowsOf(threadId)).toBe(0);
  });
});

describe('an item taken back', () => {
  it('is simply gone when it was shown but never stored: no error, nothing written', async () => {
    const shownThenTakenBack: Responder = {
      async *respond({ thread, ids }) {
        const id = ids('message');
        yield { type: 'thread.item.added', item: { id, thread_id: thread.id, created_at: new Date().toISOString(), type: 'assistant_message', content: [] } };
        yield { type: 'thread.item.removed', item_id: id };
      },
      title: async () => 'Untitled',
    };
    const server = new ChatKitServer({ store: h.store, responder: shownThenTakenBack });
    const threadId = await newThread();
    const body = JSON.stringify({ type: 'threads.add_user_message', params: { thread_id: threadId, input: input('Go') } });
    const events = await clientEvents(await server.process(body, user, { signal: new AbortController().signal }));
    expect(errors(events)).toEqual([]);
    expect(events.map((e) => e.type)).toContain('thread.item.removed');
    expect((await h.allItems(threadId, user)).map((i) => i.type)).toEqual(['user_message', 'assistant_message', 'user_message']);
  });
});

describe("a turn's last item", () => {
  const message = (threadId: string, id: string, text: string): ThreadItem => ({
    id, thread_id: threadId, created_at: new Date().toISOString(), type: 'assistant_message', content: [{ type: 'output_text', text, annotations: [] }],
  });

  it('is stored with the release of the thread, in one statement', async () => {
    const statements: string[] = [];
    const counted = await startChatKit({}, (q) => void statements.push(q));
    try {
      // A generous wait: on a loaded machine the run's end may lag its last event by more than the default.
      const responder = new OpenAIResponder({ client: counted.client, model: 'gpt-test', instructions: '' });
      const server = new ChatKitServer({ store: counted.store, responder, lastItemWaitMs: 5_000 });
      counted.model.enqueue({ text: 'Hi.' });
      const created = await clientEvents(await server.process(JSON.stringify({ type: 'threads.create', params: { input: input('Hello') } }), user, { signal: new AbortController().signal }));
      const threadId = threadIdOf(created);
      statements.length = 0;
      counted.model.enqueue({ text: 'Again.' });
      const body = JSON.stringify({ type: 'threads.add_user_message', params: { thread_id: threadId, input: input('More') } });
      const events = await clientEvents(await server.process(body, user, { signal: new AbortController().signal }));
      expect(doneItems(events).map((i) => i.type)).toEqual(['user_message', 'assistant_message']);
      // beginTurn; then the answer, the lease's release (and a title, had there been one).
      expect(statements).toHaveLength(2);
      expect(statements[1]).toMatch(/UPDATE chatkit_threads[\s\S]*INSERT INTO chatkit_thread_items/);
      expect((await counted.allItems(threadId, user)).map((i) => i.type)).toEqual(['user_message', 'assistant_message', 'user_message', 'assistant_message']);
      counted.model.enqueue({ text: 'Free again.' });
      expect(errors(await clientEvents(await server.process(body.replace('More', 'Next'), user, { signal: new AbortController().signal })))).toEqual([]);
    } finally {
      await counted.close();
    }
  });

  it('does not hold back a done item that more events follow: it is shown while the responder is still working', async () => {
    let shown!: () => void;
    const seen = new Promise<void>((resolve) => (shown = resolve));
    const slowAfterFirst: Responder = {
      async *respond({ thread }) {
        yield { type: 'thread.item.done', item: message(thread.id, uid('msg'), 'first') };
        await seen; // a tool at work: the client must already see the first item
        yield { type: 'thread.item.done', item: message(thread.id, uid('msg'), 'second') };
      },
      title: async () => 'Untitled',
    };
    const server = new ChatKitServer({ store: h.store, responder: slowAfterFirst });
    const threadId = await newThread();
    const body = JSON.stringify({ type: 'threads.add_user_message', params: { thread_id: threadId, input: input('Go') } });
    const events = await clientEvents(await server.process(body, user, { signal: new AbortController().signal }), (e) => {
      if (e.type === 'thread.item.done' && e.item.type === 'assistant_message') shown();
    });
    expect(doneItems(events).map((i) => (i as { content: Array<{ text: string }> }).content[0]!.text)).toEqual(['Go', 'first', 'second']);
    expect((await h.allItems(threadId, user)).slice(-2).map((i) => i.type)).toEqual(['assistant_message', 'assistant_message']);
  });
});

describe('one turn at a time per thread', () => {
  it('refuses concurrent messages before any stream, and answers each accepted question itself', async () => {
    const threadId = await newThread();
    h.model.enqueue({ text: ['Answer', ' for', ' you.'], deltaDelayMs: 20 });
    const modelCalls = h.model.requests.length;
    const attempts = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => h.call({ type: 'threads.add_user_message', params: { thread_id: threadId, input: input(`Question ${i}`) } }, user)),
    );
    const accepted = attempts.filter((a) => a.status === 'fulfilled');
    const refused = attempts.flatMap((a) => (a.status === 'rejected' ? [a.reason] : []));
    expect(accepted).toHaveLength(1);
    expect(refused).toHaveLength(9);
    for (const reason of refused) expect(reason).toMatchObject({ status: 409, code: 'thread_busy' });

    const result = (accepted[0] as PromiseFulfilledResult<Awaited<ReturnType<ChatKitHarness['call']>>>).value;
    const events: ThreadStreamEvent[] = [];
    if (result.kind === 'stream') for await (const event of result.events) events.push(event);
    const [question, answer] = doneItems(events);
    expect(answer).toMatchObject({ type: 'assistant_message' });
    // One model request (with its title's, none for the refused), which saw this request's question last.
    expect(h.model.requests.slice(modelCalls).filter((r) => r.body?.stream)).toHaveLength(1);
    const sent = h.model.requests.filter((r) => r.body?.stream).at(-1)!.body.input;
    expect(sent.at(-1)).toEqual({ type: 'message', role: 'user', content: [{ type: 'input_text', text: (question as { content: Array<{ text: string }> }).content[0]!.text }] });
    // Only the accepted question was stored; the thread is free again once the turn is over.
    const items = await h.allItems(threadId, user);
    expect(items.filter((i) => i.type === 'user_message')).toHaveLength(2);
    h.model.enqueue({ text: 'Next.' });
    expect(errors(await stream({ type: 'threads.add_user_message', params: { thread_id: threadId, input: input('After') } }))).toEqual([]);
  });

  it('frees the thread when the client goes away mid-answer', async () => {
    const threadId = await newThread();
    h.model.enqueue({ text: ['x', ' y', ' z'], deltaDelayMs: 50 });
    const client = new AbortController();
    await stream({ type: 'threads.add_user_message', params: { thread_id: threadId, input: input('Go') } }, { signal: client.signal, onEvent: (e) => e.type === 'thread.item.added' && client.abort() });
    h.model.enqueue({ text: 'Back.' });
    expect(errors(await stream({ type: 'threads.add_user_message', params: { thread_id: threadId, input: input('Again') } }))).toEqual([]);
  });
});

describe('an answer shown as done is an answer stored', () => {
  // A trigger that drops the connection under the first insert of an assistant message (the
  // sequence is not rolled back with the failed statement, so only the first one dies).
  const installFault = async (mode: 'once' | 'always') => {
    await sql`CREATE SEQUENCE IF NOT EXISTS fault_seq`.execute(h.database.db);
    await sql`SELECT setval('fault_seq', 1, false)`.execute(h.database.db);
    const condition = mode === 'once' ? sql.raw(`nextval('fault_seq') = 1`) : sql.raw('true');
    await sql
      .raw(
        `CREATE OR REPLACE FUNCTION fault() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           IF NEW.type = 'assistant_message' AND ${condition.compile(h.database.db).sql} THEN
             ${mode === 'once' ? 'PERFORM pg_terminate_backend(pg_backend_pid());' : "RAISE EXCEPTION 'link down' USING ERRCODE = '08006';"}
           END IF;
           RETURN NEW;
         END $$`,
      )
      .execute(h.database.db);
    await sql`CREATE OR REPLACE TRIGGER fault BEFORE INSERT ON chatkit_thread_items FOR EACH ROW EXECUTE FUNCTION fault()`.execute(h.database.db);
  };
  afterEach(async () => {
    await sql`DROP TRIGGER IF EXISTS fault ON chatkit_thread_items`.execute(h.database.db);
  });

  it('is written again on a new connection when the connection drops under the write', async () => {
    const threadId = await newThread();
    await installFault('once');
    h.model.enqueue({ text: 'Kept despite the drop.' });
    const events = await stream({ type: 'threads.add_user_message', params: { thread_id: threadId, input: input('Go') } });
    expect(errors(events)).toEqual([]);
    const answer = doneItems(events).at(-1);
    expect(answer).toMatchObject({ type: 'assistant_message', content: [{ text: 'Kept despite the drop.' }] });
    expect((await h.allItems(threadId, user)).at(-1)).toEqual(answer);
  });

  it('when the write finally fails, the client is told and was never shown the answer as done', async () => {
    const threadId = await newThread();
    await installFault('always');
    h.model.enqueue({ text: 'Lost.' });
    const events = await stream({ type: 'threads.add_user_message', params: { thread_id: threadId, input: input('Go') } });
    expect(errors(events)).toEqual([{ type: 'error', code: 'stream.error', allow_retry: true }]);
    expect(doneItems(events).map((i) => i.type)).toEqual(['user_message']);
    expect((await h.allItems(threadId, user)).filter((i) => i.type === 'assistant_message')).toHaveLength(1); // the first turn's
  });
});
