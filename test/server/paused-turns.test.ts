import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ThreadItem, ThreadStreamEvent } from '../../shared/protocol/index.js';
import { APPROVE_ACTION, MAX_PAUSE_STATE_BYTES, MAX_PENDING_CALLS, type PauseRequest } from '../../shared/responder/paused-turn.js';
import type { Responder, TurnInput } from '../../shared/responder/responder.js';
import { ChatKitServer } from '../../shared/server/index.js';
import { clientEvents, doneItems, input, startChatKit, type ChatKitHarness, type User } from '../support/chatkit-harness.js';
import { uid } from '../support/fixtures.js';

// The server's side of a turn that pauses for its user's answer, with responders written for
// the purpose: the pause is stored with the turn's last item in one statement, only when the
// turn ran to its end, within the bounds; the click's turn receives what was stored.

let h: ChatKitHarness;
let user: User;
const statements: string[] = [];
beforeAll(async () => {
  h = await startChatKit({}, (q) => void statements.push(q));
});
afterAll(() => h?.close());
beforeEach(() => {
  user = { userId: uid('user') };
});

const prompt = (threadId: string, id: string): ThreadItem => ({ id, thread_id: threadId, created_at: new Date().toISOString(), type: 'widget', widget: { type: 'Card', children: [] } });
const pausedRows = async (threadId: string) =>
  (await sql<{ n: number }>`SELECT count(*)::int AS n FROM chatkit_paused_turns WHERE thread_id = ${threadId}`.execute(h.database.db)).rows[0]!.n;

/** A responder that pauses each turn on a prompt, with `request` overriding its pause, and records what each turn resumed. */
function pausing(options: { request?: (threadId: string, itemId: string) => Partial<PauseRequest>; beforePrompt?: () => Promise<void>; turnSeconds?: number } = {}) {
  const resumed: Array<TurnInput['resumed']> = [];
  const responder: Responder = {
    async *respond(turn) {
      resumed.push(turn.resumed);
      const id = turn.ids('message');
      turn.pause({ itemId: id, pending: ['call_1'], state: `state ${resumed.length}`, ...options.request?.(turn.thread.id, id) });
      await options.beforePrompt?.();
      yield { type: 'thread.item.done', item: prompt(turn.thread.id, id) };
    },
    title: async () => 'Paused',
  };
  return { server: new ChatKitServer({ store: h.store, responder, lastItemWaitMs: 5_000, turnSeconds: options.turnSeconds }), resumed };
}

async function run(server: ChatKitServer, body: unknown, signal = new AbortController().signal, onEvent?: (e: ThreadStreamEvent) => void) {
  return clientEvents(await server.process(JSON.stringify(body), user, { signal }), onEvent);
}
const create = (server: ChatKitServer) => run(server, { type: 'threads.create', params: { input: input('Do it') } });
const threadOf = (events: ThreadStreamEvent[]) => (events[0] as { thread: { id: string } }).thread.id;

describe('a turn that pauses', () => {
  it('stores the pause with its last item and keeps the thread, in the statement that ends the turn', async () => {
    const { server } = pausing();
    statements.length = 0;
    const events = await create(server);
    const threadId = threadOf(events);
    expect(doneItems(events).map((i) => i.type)).toEqual(['user_message', 'widget']);
    // createThread; then the prompt, the pause and the hold on the thread (and the title) together.
    expect(statements).toHaveLength(2);
    expect(statements[1]).toMatch(/UPDATE chatkit_threads[\s\S]*INSERT INTO chatkit_thread_items[\s\S]*INSERT INTO chatkit_paused_turns/);
    expect(await pausedRows(threadId)).toBe(1);
    expect(events.filter((e) => e.type === 'error')).toEqual([]);
  });

  it("hands the click's turn what it stored, with the decision, who made it and when; the lease is taken in one statement", async () => {
    const { server, resumed } = pausing();
    const created = await create(server);
    const threadId = threadOf(created);
    const widget = doneItems(created).at(-1)!;
    statements.length = 0;
    await run(server, { type: 'threads.custom_action', params: { thread_id: threadId, item_id: widget.id, action: { type: APPROVE_ACTION, payload: { call_id: 'call_1' } } } });
    expect(statements[0]).toMatch(/DELETE FROM chatkit_paused_turns/);
    expect(resumed.at(-1)).toEqual({
      paused: { itemId: widget.id, pending: ['call_1'], state: 'state 1', pausedAt: expect.any(String), expiresAt: expect.any(String), expired: false },
      resolution: { type: 'decided', decisions: [{ callId: 'call_1', approved: true }], by: user.userId, at: expect.any(String) },
    });
  });

  it('a new message takes the pause over as "superseded"', async () => {
    const { server, resumed } = pausing();
    const threadId = threadOf(await create(server));
    await run(server, { type: 'threads.add_user_message', params: { thread_id: threadId, input: input('Instead') } });
    expect(resumed.at(-1)).toMatchObject({ paused: { state: 'state 1' }, resolution: { type: 'superseded' } });
  });

  it('a click needs the widget it answers', async () => {
    const { server } = pausing();
    const threadId = threadOf(await create(server));
    await expect(run(server, { type: 'threads.custom_action', params: { thread_id: threadId, action: { type: APPROVE_ACTION } } })).rejects.toMatchObject({ status: 400, code: 'invalid_params' });
  });

  it('does not pause when the client went away before the prompt: nothing waits, the prompt is not stored, the thread is free', async () => {
    const stop = new AbortController();
    let release!: () => void;
    const { server } = pausing({ beforePrompt: () => new Promise<void>((resolve) => (release = resolve)) });
    const pending = run(server, { type: 'threads.create', params: { input: input('Do it') } }, stop.signal, (event) => {
      if (event.type === 'stream_options') {
        stop.abort();
        setTimeout(() => release(), 20);
      }
    });
    const events = await pending;
    const threadId = threadOf(events);
    expect(await pausedRows(threadId)).toBe(0);
    expect((await h.allItems(threadId, user)).map((i) => i.type)).toEqual(['user_message', 'sdk_hidden_context']);
    h.model.enqueue({ text: 'Free.' });
    const next = await h.stream({ type: 'threads.add_user_message', params: { thread_id: threadId, input: input('Hello') } }, user);
    expect(next.filter((e) => e.type === 'error')).toEqual([]);
  });

  it(`refuses a pause beyond its bounds (${MAX_PENDING_CALLS} calls, ${MAX_PAUSE_STATE_BYTES} bytes): the turn fails, nothing waits, the thread is free`, async () => {
    for (const request of [
      { pending: Array.from({ length: MAX_PENDING_CALLS + 1 }, (_, i) => `call_${i}`) },
      { pending: [] },
      { state: 'é'.repeat(MAX_PAUSE_STATE_BYTES / 2 + 1) },
    ]) {
      const { server } = pausing({ request: () => request });
      const events = await create(server);
      const threadId = threadOf(events);
      expect(events.filter((e) => e.type === 'error')).toHaveLength(1);
      expect(await pausedRows(threadId)).toBe(0);
      h.model.enqueue({ text: 'Free.' });
      const next = await h.stream({ type: 'threads.add_user_message', params: { thread_id: threadId, input: input('Hello') } }, user);
      expect(next.filter((e) => e.type === 'error')).toEqual([]);
    }
  });

  it('does not pause a turn that outlived its lease and lost the thread to another: the client is told, nothing waits', async () => {
    let release!: () => void;
    let waiting = false;
    const { server } = pausing({
      turnSeconds: 1,
      beforePrompt: () => (waiting ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve()),
    });
    const threadId = threadOf(await create(server));
    // The click's turn: it holds the thread for 1 s and stalls past that.
    const prompt = (await h.allItems(threadId, user)).at(-1)!;
    waiting = true;
    const clicked = run(server, { type: 'threads.custom_action', params: { thread_id: threadId, item_id: prompt.id, action: { type: APPROVE_ACTION } } });
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    h.model.enqueue({ text: 'Taken over.' });
    const successor = await h.call({ type: 'threads.add_user_message', params: { thread_id: threadId, input: input('Anyone?') } }, user);
    release();
    const events = await clicked;
    expect(events.at(-1)).toMatchObject({ type: 'error', message: expect.stringMatching(/could not be kept waiting/) });
    await clientEvents(successor);
    expect(await pausedRows(threadId)).toBe(0);
  });
});
