import type { Kysely } from 'kysely';
import type { ThreadItem } from '../shared/protocol/index.js';
import { PostgresStore } from '../shared/store/postgres-store.js';
import type { Schema } from '../shared/store/schema.js';

const ctx = { userId: 'memory-user' };
export const CHECKED_THREAD = 'thr_memory';

/**
 * A dev session's worth of store calls (a thread, turns, a few hundred items, pages, search, a
 * delete) that must all come out right: a database option that breaks the store fails here.
 */
export async function storeCheck(db: Kysely<Schema>, items = 300): Promise<void> {
  const store = new PostgresStore(db);
  let next = 0;
  const message = (threadId: string, text: string): ThreadItem => ({
    id: `msg_memory_${next++}`,
    thread_id: threadId,
    created_at: new Date().toISOString(),
    type: 'user_message',
    content: [{ type: 'input_text', text }],
    attachments: [],
    inference_options: {},
  });
  const thread = (id: string) => ({ id, created_at: new Date().toISOString(), status: { type: 'active' as const }, metadata: {} });
  const expect = (ok: boolean, what: string) => {
    if (!ok) throw new Error(`store check failed: ${what}`);
  };

  await store.createThread(thread(CHECKED_THREAD), message(CHECKED_THREAD, 'the first question'), ctx);
  const lease = { id: 'turn_memory', seconds: 60 };
  const { history } = await store.beginTurn(CHECKED_THREAD, { lease, historyLimit: 40, append: message(CHECKED_THREAD, 'a follow-up about zebras') }, ctx);
  expect(history.length === 2, 'beginTurn returns the history with the new message');
  await store.addThreadItem(CHECKED_THREAD, message(CHECKED_THREAD, 'an answer'), ctx);
  const ended = await store.endTurn(CHECKED_THREAD, lease.id, ctx, { title: 'Memory' });
  expect(ended?.title === 'Memory', 'endTurn titles the thread');
  for (let i = 0; i < items; i++) await store.addThreadItem(CHECKED_THREAD, message(CHECKED_THREAD, `message ${i} with some text in it`), ctx);

  const { items: first } = await store.loadThreadWithItems(CHECKED_THREAD, 20, ctx);
  expect(first.data.length === 20 && first.has_more, 'the first page');
  const later = await store.loadThreadItems(CHECKED_THREAD, { after: first.data.at(-1)!.id, limit: 50, order: 'asc' }, ctx);
  expect(later.data.length === 50, 'a page after a cursor');
  const threads = await store.loadThreads({ limit: 20 }, ctx);
  expect(threads.data.some((t) => t.id === CHECKED_THREAD), 'the thread list');
  const hits = await store.searchThreads({ q: 'zebras', limit: 5 }, ctx);
  expect(hits.data[0]?.id === CHECKED_THREAD, 'full-text search');
  await store.createThread(thread('thr_memory_gone'), message('thr_memory_gone', 'to delete'), ctx);
  await store.deleteThread('thr_memory_gone', ctx);
  expect((await store.loadThreads({ limit: 20 }, ctx)).data.length === 1, 'the delete');
}

/** After a restart: what storeCheck wrote is still there. */
export async function persisted(db: Kysely<Schema>): Promise<boolean> {
  const store = new PostgresStore(db);
  const thread = await store.loadThread(CHECKED_THREAD, ctx).catch(() => null);
  return thread?.title === 'Memory';
}
