import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ThreadItem, ThreadMetadata } from '../../shared/protocol/index.js';
import { DeferredResponder } from '../../shared/responder/deferred-responder.js';
import { EchoResponder } from '../../shared/responder/echo-responder.js';
import { ChatKitServer } from '../../shared/server/index.js';
import { PostgresStore } from '../../shared/store/postgres-store.js';
import type { RequestContext, TurnLease } from '../../shared/store/store.js';
import { clientEvents, input, startChatKit, type ChatKitHarness } from '../support/chatkit-harness.js';
import { uid } from '../support/fixtures.js';

// A responder that loads lazily (the Agents SDK in production) loads when the turn first needs it,
// a turn of the event loop after the turn's first events have gone to the client: compiling it
// holds the thread, and on a cold start it held up the new connection's handshake and so the
// first SSE byte (npm run bench; test/functions/runtime-client.test.ts pins the order on Lambda's
// own runtime client).

const timeline: string[] = [];
let loads = 0;
const responder = new DeferredResponder(async () => {
  loads++;
  timeline.push('load');
  return new EchoResponder();
});
/** The store, noting when the turn's first statement has come back. */
class TimedStore extends PostgresStore {
  override async createThread(thread: ThreadMetadata, first: ThreadItem | null, ctx: RequestContext, lease?: TurnLease) {
    await super.createThread(thread, first, ctx, lease);
    timeline.push('created');
  }
}
let h: ChatKitHarness;
let server: ChatKitServer;
beforeAll(async () => {
  h = await startChatKit({ responder }, (sql) => void timeline.push(sql.trimStart().slice(0, 6)));
  server = new ChatKitServer({ store: new TimedStore(h.database.db), responder });
});
afterAll(() => h?.close());

describe('a responder that loads lazily', () => {
  it("loads once, after the turn's first statement has come back, and answers", async () => {
    const user = { userId: uid('user') };
    timeline.length = 0;
    const body = (text: string) => JSON.stringify({ type: 'threads.create', params: { input: input(text) } });
    const events = await clientEvents(await server.process(body('Hello'), user, { signal: new AbortController().signal }));
    // Sent, answered, then loading.
    expect(timeline.slice(0, 3)).toEqual(['WITH t', 'created', 'load']);
    expect(events.some((e) => e.type === 'thread.item.done' && e.item.type === 'assistant_message')).toBe(true);
    await clientEvents(await server.process(body('Again'), user, { signal: new AbortController().signal }));
    expect(loads).toBe(1);
  });

  it('loads before validating a tool choice, and refuses a tool it does not offer', async () => {
    const user = { userId: uid('user') };
    await expect(h.call({ type: 'threads.create', params: { input: input('x', { inference_options: { tool_choice: { id: 'web_search' } } }) } }, user)).rejects.toMatchObject({
      status: 400,
      code: 'unknown_tool',
    });
  });
});
