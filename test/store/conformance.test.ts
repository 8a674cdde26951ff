import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../shared/db/connect.js';
import { BadRequestError, ConflictError, NotFoundError, PauseExpiredError, PauseNotPendingError, ThreadBusyError } from '../../shared/errors.js';
import type { Attachment, ThreadItem } from '../../shared/protocol/index.js';
import { MAX_PAGE_SIZE, PAGE_MAX_BYTES } from '../../shared/store/pagination.js';
import { PostgresStore } from '../../shared/store/postgres-store.js';
import type { RequestContext } from '../../shared/store/store.js';
import { storeBackends } from '../support/backends.js';
import { fileAttachment, itemOfEveryType, thread, uid, userMessage } from '../support/fixtures.js';

// One suite, run unchanged against every backend the product supports.
describe.each(storeBackends())('PostgresStore on $name', (backend) => {
  let database: Database;
  let store: PostgresStore;
  let roundTrips = 0;

  beforeAll(async () => {
    database = await backend.open({ onQuery: () => void roundTrips++ });
    store = new PostgresStore(database.db);
  });
  afterAll(async () => {
    await database?.close();
  });

  const user = (): RequestContext => ({ userId: uid('user') });
  const threadOf = async (ctx: RequestContext) => {
    const t = thread();
    await store.createThread(t, null, ctx);
    return t;
  };
  const count = async (table: string, where: ReturnType<typeof sql>) => {
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(table)} WHERE ${where}`.execute(database.db);
    return rows[0]!.n;
  };

  describe('threads', () => {
    it('creates, loads and updates a thread without changing its identity', async () => {
      const ctx = user();
      const t = thread({ title: 'First', metadata: { source: 'test', nested: { a: [1] } }, allowed_image_domains: ['example.com'] });
      await store.createThread(t, null, ctx);
      const loaded = await store.loadThread(t.id, ctx);
      expect(loaded).toMatchObject(t);
      expect(Date.parse(loaded.updated_at)).not.toBeNaN();

      await store.saveThread({ ...t, title: 'Renamed', status: { type: 'locked', reason: 'done' } }, ctx);
      expect(await store.loadThread(t.id, ctx)).toMatchObject({ id: t.id, title: 'Renamed', status: { type: 'locked', reason: 'done' } });
      expect(await count('chatkit_threads', sql`id = ${t.id}`)).toBe(1);
    });

    it('creates a thread with its first item in one statement, or not at all', async () => {
      const ctx = user();
      const t = thread({ title: 'new' });
      const first = userMessage(t.id, 'first');
      const before = roundTrips;
      await store.createThread(t, first, ctx);
      expect(roundTrips - before).toBe(1);
      expect(await store.loadThread(t.id, ctx)).toMatchObject(t);
      expect((await store.loadThreadItems(t.id, {}, ctx)).data).toEqual([first]);
      // The item id is taken: neither the new thread nor its item is written.
      const clash = thread();
      await expect(store.createThread(clash, { ...first, thread_id: clash.id }, ctx)).rejects.toBeInstanceOf(ConflictError);
      await expect(store.loadThread(clash.id, ctx)).rejects.toBeInstanceOf(NotFoundError);
      // Another user cannot take over an existing thread id.
      await expect(store.createThread(t, userMessage(t.id, 'x'), user())).rejects.toBeInstanceOf(ConflictError);
    });

    it('reports unknown thread ids as not found', async () => {
      const ctx = user();
      await expect(store.loadThread('thr_missing', ctx)).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.deleteThread('thr_missing', ctx)).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.loadThreadItems('thr_missing', {}, ctx)).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.addThreadItem('thr_missing', userMessage('thr_missing', 'x'), ctx)).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.saveItem('thr_missing', userMessage('thr_missing', 'x'), ctx)).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.saveFeedback('thr_missing', ['msg_x'], 'positive', ctx)).rejects.toBeInstanceOf(NotFoundError);
    });

    it('pages a user\'s threads newest activity first and oldest first, across pages with tied timestamps', async () => {
      const ctx = user();
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) ids.push((await threadOf(ctx)).id);
      // Every thread shares one timestamp: only the id tie-break keeps pages apart.
      await sql`UPDATE chatkit_threads SET updated_at = '2026-01-01T00:00:00Z' WHERE user_id = ${ctx.userId}`.execute(database.db);

      const collect = async (order: 'asc' | 'desc') => {
        const seen: string[] = [];
        let after: string | undefined;
        let pages = 0;
        do {
          const page = await store.loadThreads({ limit: 3, order, after }, ctx);
          seen.push(...page.data.map((t) => t.id));
          after = page.after;
          pages++;
          expect(page.has_more).toBe(after !== undefined);
        } while (after);
        return { seen, pages };
      };
      const desc = await collect('desc');
      const asc = await collect('asc');
      expect(desc.pages).toBe(3);
      expect(new Set(desc.seen).size).toBe(7);
      expect([...desc.seen].sort()).toEqual([...ids].sort());
      expect(asc.seen).toEqual([...desc.seen].reverse());
    });

    it('goes on from where the previous page ended when a thread is answered between pages: none twice, none of those not yet seen skipped', async () => {
      const ctx = user();
      const [x, y, z] = [await threadOf(ctx), await threadOf(ctx), await threadOf(ctx)];
      for (const [t, minutes] of [[x, 3], [y, 2], [z, 1]] as const) {
        await sql`UPDATE chatkit_threads SET updated_at = now() - ${minutes}::int * interval '1 minute' WHERE id = ${t.id}`.execute(database.db);
      }
      const first = await store.loadThreads({ limit: 2 }, ctx);
      expect(first.data.map((t) => t.id)).toEqual([z.id, y.id]);
      await store.addThreadItem(y.id, userMessage(y.id, 'still here'), ctx); // y moves to the top
      const second = await store.loadThreads({ limit: 2, after: first.after }, ctx);
      expect(second.data.map((t) => t.id)).toEqual([x.id]);
      // A cursor is not a thread id, nor made up.
      const madeUp = (key: string) => Buffer.from(JSON.stringify([key, y.id])).toString('base64url');
      for (const after of [y.id, madeUp('yesterday'), madeUp('2024-13-45T00:00:00.000000Z'), madeUp('0000-01-01T00:00:00.000000Z')]) {
        await expect(store.loadThreads({ after }, ctx)).rejects.toMatchObject({ code: 'invalid_cursor' });
      }
    });

    it('orders threads by latest activity: adding an item moves a thread first', async () => {
      const ctx = user();
      const older = await threadOf(ctx);
      const newer = await threadOf(ctx);
      await sql`UPDATE chatkit_threads SET updated_at = now() - interval '1 hour' WHERE id = ${older.id}`.execute(database.db);
      expect((await store.loadThreads({}, ctx)).data.map((t) => t.id)).toEqual([newer.id, older.id]);
      await store.addThreadItem(older.id, userMessage(older.id, 'bump'), ctx);
      expect((await store.loadThreads({}, ctx)).data.map((t) => t.id)).toEqual([older.id, newer.id]);
    });

    it('deletes a thread with its items, feedback and the attachments its messages carried', async () => {
      const ctx = user();
      const t = await threadOf(ctx);
      const kept = fileAttachment();
      const carried = fileAttachment({ thread_id: t.id });
      await store.saveAttachment(kept, ctx);
      await store.saveAttachment(carried, ctx);
      const message = { ...userMessage(t.id, 'with file'), attachments: [carried] } as ThreadItem;
      await store.addThreadItem(t.id, message, ctx);
      await store.saveFeedback(t.id, [message.id], 'positive', ctx);

      await store.deleteThread(t.id, ctx);
      await expect(store.loadThread(t.id, ctx)).rejects.toBeInstanceOf(NotFoundError);
      expect(await count('chatkit_thread_items', sql`thread_id = ${t.id}`)).toBe(0);
      expect(await count('chatkit_item_feedback', sql`thread_id = ${t.id}`)).toBe(0);
      await expect(store.loadAttachment(carried.id, ctx)).rejects.toBeInstanceOf(NotFoundError);
      expect(await store.loadAttachment(kept.id, ctx)).toEqual(kept);
    });
  });

  describe('items', () => {
    it('round-trips every item type deep-equal, and hides hidden context unless asked', async () => {
      const ctx = user();
      const t = await threadOf(ctx);
      const items = itemOfEveryType(t.id);
      for (const item of items) await store.addThreadItem(t.id, item, ctx);

      const all = await store.loadThreadItems(t.id, { order: 'asc', includeHidden: true }, ctx);
      expect(all.data).toEqual(items);
      for (const item of items) expect(await store.loadItem(t.id, item.id, ctx)).toEqual(item);

      const withItems = await store.loadThreadWithItems(t.id, 5, ctx);
      expect(withItems.thread).toMatchObject(t);
      expect(withItems.items).toEqual({ data: items.slice(0, 5), has_more: true, after: items[4]!.id });
      expect((await store.loadThreadWithItems(t.id, 20, ctx)).items.data.map((i) => i.type)).not.toContain('sdk_hidden_context');

      const visible = await store.loadThreadItems(t.id, { order: 'asc' }, ctx);
      expect(visible.data.map((i) => i.type)).not.toContain('hidden_context_item');
      expect(visible.data.map((i) => i.type)).not.toContain('sdk_hidden_context');
      expect(visible.data).toHaveLength(items.length - 2);
    });

    it('keeps a plain-text projection of each item for the REST messages route', async () => {
      const ctx = user();
      const t = await threadOf(ctx);
      const [user1, assistant, toolCall] = itemOfEveryType(t.id);
      for (const item of [user1!, assistant!, toolCall!]) await store.addThreadItem(t.id, item, ctx);
      const { rows } = await sql<{ id: string; content_text: string | null }>`
        SELECT id, content_text FROM chatkit_thread_items WHERE thread_id = ${t.id} ORDER BY seq`.execute(database.db);
      expect(rows.map((r) => r.content_text)).toEqual([
        'Ünïcödé ✓ — 日本語 — emoji 🧪🐘 — "quotes" \\ backslash \n newline@Ada',
        'See [1] and [2].Second part',
        null,
      ]);
    });

    it('pages items asc and desc across 3+ pages when every item shares one timestamp', async () => {
      const ctx = user();
      const t = await threadOf(ctx);
      const sameInstant = '2026-03-04T05:06:07.000Z';
      const items = Array.from({ length: 10 }, (_, i) => userMessage(t.id, `m${i}`, sameInstant));
      for (const item of items) await store.addThreadItem(t.id, item, ctx);

      for (const order of ['asc', 'desc'] as const) {
        const seen: string[] = [];
        let after: string | undefined;
        let pages = 0;
        do {
          const page = await store.loadThreadItems(t.id, { limit: 4, order, after }, ctx);
          seen.push(...page.data.map((i) => i.id));
          after = page.after;
          pages++;
        } while (after);
        expect(pages).toBe(3);
        const expected = items.map((i) => i.id);
        expect(seen).toEqual(order === 'asc' ? expected : expected.reverse());
      }
    });

    it(`ends a page of long items before PAGE_MAX_BYTES of them, the first always in: every item once, across pages, both ways`, async () => {
      const ctx = user();
      const t = await threadOf(ctx);
      // Each ~1.5 MiB as stored: two fit a page, a third would pass the budget.
      const items = Array.from({ length: 5 }, (_, i) => userMessage(t.id, `${i}`.repeat(1_500_000)));
      for (const item of items) await store.addThreadItem(t.id, item, ctx);
      for (const order of ['asc', 'desc'] as const) {
        const pages: string[][] = [];
        let after: string | undefined;
        do {
          const page = await store.loadThreadItems(t.id, { limit: 100, order, after }, ctx);
          expect(Buffer.byteLength(JSON.stringify(page.data))).toBeLessThanOrEqual(PAGE_MAX_BYTES);
          pages.push(page.data.map((i) => i.id));
          after = page.after;
        } while (after);
        const ids = items.map((i) => i.id);
        expect(pages.flat()).toEqual(order === 'asc' ? ids : [...ids].reverse());
        expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
      }
      const first = await store.loadThreadWithItems(t.id, 20, ctx);
      expect([first.items.data.length, first.items.has_more]).toEqual([2, true]);
      // One item larger than the budget still comes, alone.
      const huge = await threadOf(ctx);
      await store.addThreadItem(huge.id, userMessage(huge.id, 'h'.repeat(PAGE_MAX_BYTES + 10)), ctx);
      await store.addThreadItem(huge.id, userMessage(huge.id, 'small'), ctx);
      const alone = await store.loadThreadItems(huge.id, { order: 'asc' }, ctx);
      expect([alone.data.length, alone.has_more]).toEqual([1, true]);
    });

    it('refuses nonsense page requests and clamps large ones', async () => {
      const ctx = user();
      const t = await threadOf(ctx);
      for (const limit of [0, -1, 1.5, Number.NaN, '10' as unknown as number]) {
        await expect(store.loadThreadItems(t.id, { limit }, ctx)).rejects.toMatchObject({ code: 'invalid_limit', status: 400 });
        await expect(store.loadThreads({ limit }, ctx)).rejects.toMatchObject({ code: 'invalid_limit' });
      }
      await expect(store.loadThreadItems(t.id, { order: 'sideways' as 'asc' }, ctx)).rejects.toBeInstanceOf(BadRequestError);
      await expect(store.loadThreadItems(t.id, { after: 'msg_unknown' }, ctx)).rejects.toMatchObject({ code: 'invalid_cursor' });
      await expect(store.loadThreads({ after: 'thr_unknown' }, ctx)).rejects.toMatchObject({ code: 'invalid_cursor' });

      for (let i = 0; i < MAX_PAGE_SIZE + 5; i++) await store.addThreadItem(t.id, userMessage(t.id, `n${i}`), ctx);
      const page = await store.loadThreadItems(t.id, { limit: 10_000 }, ctx);
      expect(page.data).toHaveLength(MAX_PAGE_SIZE);
      expect(page.has_more).toBe(true);
    });

    it('upserts an item in place and refuses a duplicate add', async () => {
      const ctx = user();
      const t = await threadOf(ctx);
      const [first, second] = [userMessage(t.id, 'one'), userMessage(t.id, 'two')];
      await store.addThreadItem(t.id, first, ctx);
      await store.addThreadItem(t.id, second, ctx);
      const edited = { ...first, content: [{ type: 'input_text', text: 'one, edited' }] } as ThreadItem;
      await store.saveItem(t.id, edited, ctx);
      expect((await store.loadThreadItems(t.id, { order: 'asc' }, ctx)).data).toEqual([edited, second]);
      await expect(store.addThreadItem(t.id, second, ctx)).rejects.toBeInstanceOf(ConflictError);
      const fresh = userMessage(t.id, 'three');
      await store.saveItem(t.id, fresh, ctx);
      expect((await store.loadThreadItems(t.id, { order: 'asc' }, ctx)).data.at(-1)).toEqual(fresh);
    });

    it('deletes one item, and every item after a given one', async () => {
      const ctx = user();
      const t = await threadOf(ctx);
      const items = Array.from({ length: 5 }, (_, i) => userMessage(t.id, `m${i}`));
      for (const item of items) await store.addThreadItem(t.id, item, ctx);
      await store.deleteThreadItem(t.id, items[4]!.id, ctx);
      await expect(store.deleteThreadItem(t.id, items[4]!.id, ctx)).rejects.toBeInstanceOf(NotFoundError);
      expect(await store.deleteItemsAfter(t.id, items[1]!.id, ctx)).toEqual([items[2]!.id, items[3]!.id]);
      expect((await store.loadThreadItems(t.id, { order: 'asc' }, ctx)).data.map((i) => i.id)).toEqual([items[0]!.id, items[1]!.id]);
      expect(await store.deleteItemsAfter(t.id, items[1]!.id, ctx)).toEqual([]);
      await expect(store.deleteItemsAfter(t.id, 'msg_unknown', ctx)).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.loadItem(t.id, items[3]!.id, ctx)).rejects.toBeInstanceOf(NotFoundError);
    });

    it('loses none of 50 concurrent adds to one thread, in one stable order', async () => {
      const ctx = user();
      const t = await threadOf(ctx);
      const items = Array.from({ length: 50 }, (_, i) => userMessage(t.id, `c${i}`));
      await Promise.all(items.map((item) => store.addThreadItem(t.id, item, ctx)));
      const first = (await store.loadThreadItems(t.id, { order: 'asc', limit: 100 }, ctx)).data.map((i) => i.id);
      const again = (await store.loadThreadItems(t.id, { order: 'asc', limit: 100 }, ctx)).data.map((i) => i.id);
      const desc = (await store.loadThreadItems(t.id, { order: 'desc', limit: 100 }, ctx)).data.map((i) => i.id);
      expect(first).toHaveLength(50);
      expect(new Set(first)).toEqual(new Set(items.map((i) => i.id)));
      expect(again).toEqual(first);
      expect(desc).toEqual([...first].reverse());
    });

    it('stores feedback per user and item, last kind wins', async () => {
      const ctx = user();
      const t = await threadOf(ctx);
      const item = userMessage(t.id, 'rate me');
      await store.addThreadItem(t.id, item, ctx);
      await store.saveFeedback(t.id, [item.id, 'msg_not_in_thread'], 'positive', ctx);
      await store.saveFeedback(t.id, [item.id], 'negative', ctx);
      const { rows } = await sql<{ kind: string; user_id: string }>`
        SELECT kind, user_id FROM chatkit_item_feedback WHERE thread_id = ${t.id}`.execute(database.db);
      expect(rows).toEqual([{ kind: 'negative', user_id: ctx.userId }]);
    });
  });

  describe('attachments', () => {
    it('saves, loads (metadata included, for the integration) and deletes', async () => {
      const ctx = user();
      const attachment = fileAttachment({ metadata: { s3_key: 'uploads/a' } });
      await store.saveAttachment(attachment, ctx);
      expect(await store.loadAttachment(attachment.id, ctx)).toEqual(attachment);
      await store.saveAttachment({ ...attachment, name: 'renamed.txt' }, ctx);
      expect((await store.loadAttachment(attachment.id, ctx)).name).toBe('renamed.txt');
      await store.deleteAttachment(attachment.id, ctx);
      await expect(store.loadAttachment(attachment.id, ctx)).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.deleteAttachment(attachment.id, ctx)).rejects.toBeInstanceOf(NotFoundError);
    });

    const withFiles = (threadId: string, attachments: Attachment[], text = 'with files') =>
      ({ ...userMessage(threadId, text), attachments: attachments.map((a) => ({ ...a, thread_id: threadId, metadata: { kept: true } })) }) as ThreadItem;
    const threadIdOf = async (attachmentId: string, ctx: RequestContext) => (await store.loadAttachment(attachmentId, ctx)).thread_id;

    it('loads many attachments in one statement: each once, in the order first named; any missing or not the caller\'s is not found', async () => {
      const ctx = user();
      const [a, b] = [fileAttachment(), fileAttachment()];
      await store.saveAttachment(a, ctx);
      await store.saveAttachment(b, ctx);
      const before = roundTrips;
      expect(await store.loadAttachments([b.id, a.id, b.id, a.id], ctx)).toEqual([b, a]);
      expect(roundTrips - before).toBe(1);
      expect(await store.loadAttachments([], ctx)).toEqual([]);
      await expect(store.loadAttachments([a.id, 'atc_missing'], ctx)).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.loadAttachments([a.id], user())).rejects.toBeInstanceOf(NotFoundError);
    });

    it('binds the attachments a stored message carries to its thread, in the statement that stores it, as the message holds them', async () => {
      const ctx = user();
      const [first, second, other] = [fileAttachment(), fileAttachment(), fileAttachment()];
      for (const a of [first, second, other]) await store.saveAttachment(a, ctx);
      const t = thread();
      let before = roundTrips;
      await store.createThread(t, withFiles(t.id, [first]), ctx, { id: uid('turn'), seconds: 60 });
      expect(roundTrips - before).toBe(1);
      expect(await store.loadAttachment(first.id, ctx)).toEqual({ ...first, thread_id: t.id, metadata: { kept: true } });
      await store.endTurn(t.id, (await sql<{ turn_id: string }>`SELECT turn_id FROM chatkit_threads WHERE id = ${t.id}`.execute(database.db)).rows[0]!.turn_id, ctx);

      before = roundTrips;
      await store.beginTurn(t.id, { lease: { id: uid('turn'), seconds: 60 }, historyLimit: 5, append: withFiles(t.id, [second]) }, ctx);
      expect(roundTrips - before).toBe(1);
      expect(await threadIdOf(second.id, ctx)).toBe(t.id);

      // Refused (busy; another user's thread): nothing is appended, nothing bound.
      await expect(store.beginTurn(t.id, { lease: { id: uid('turn'), seconds: 60 }, historyLimit: 5, append: withFiles(t.id, [other]) }, ctx)).rejects.toBeInstanceOf(ThreadBusyError);
      const theirs = thread();
      const someone = user();
      await store.createThread(theirs, null, someone);
      await expect(store.beginTurn(theirs.id, { lease: { id: uid('turn'), seconds: 60 }, historyLimit: 5, append: withFiles(theirs.id, [other]) }, ctx)).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.beginTurn(theirs.id, { lease: { id: uid('turn'), seconds: 60 }, historyLimit: 5, append: withFiles(theirs.id, [other]) }, someone)).resolves.toBeDefined();
      expect(await threadIdOf(other.id, ctx)).toBeUndefined();

      // Bound once: a later message naming it again leaves it with its thread.
      const elsewhere = thread();
      await store.createThread(elsewhere, withFiles(elsewhere.id, [first]), ctx);
      expect(await threadIdOf(first.id, ctx)).toBe(t.id);
    });

    it('deleting a thread returns and removes every attachment ever bound to it, those of items a retry removed too', async () => {
      const ctx = user();
      const [kept, retried, unsent] = [fileAttachment(), fileAttachment(), fileAttachment()];
      for (const a of [kept, retried, unsent]) await store.saveAttachment(a, ctx);
      const t = thread();
      const first = withFiles(t.id, [kept], 'first');
      await store.createThread(t, first, ctx);
      const lease = { id: uid('turn'), seconds: 60 };
      await store.beginTurn(t.id, { lease, historyLimit: 5, append: withFiles(t.id, [retried], 'second') }, ctx);
      await store.endTurn(t.id, lease.id, ctx);
      await store.beginTurn(t.id, { lease: { id: uid('turn'), seconds: 60 }, historyLimit: 5, retryAfter: first.id }, ctx);
      expect((await store.loadThreadItems(t.id, {}, ctx)).data.map((i) => i.id)).toEqual([first.id]);

      const removed = await store.deleteThread(t.id, ctx);
      expect(removed.map((a) => a.id).sort()).toEqual([kept.id, retried.id].sort());
      await expect(store.loadAttachments([kept.id], ctx)).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.loadAttachments([retried.id], ctx)).rejects.toBeInstanceOf(NotFoundError);
      expect(await store.loadAttachment(unsent.id, ctx)).toEqual(unsent);
    });

    it('deletes an unsent attachment (returning it) and refuses one sent in a message with 409 attachment_in_use', async () => {
      const ctx = user();
      const [sent, unsent] = [fileAttachment(), fileAttachment({ metadata: { key: 'pending/x' } })];
      await store.saveAttachment(sent, ctx);
      await store.saveAttachment(unsent, ctx);
      const t = thread();
      await store.createThread(t, withFiles(t.id, [sent]), ctx);
      await expect(store.deleteAttachment(sent.id, ctx)).rejects.toMatchObject({ status: 409, code: 'attachment_in_use' });
      expect(await threadIdOf(sent.id, ctx)).toBe(t.id);
      expect(await store.deleteAttachment(unsent.id, ctx)).toEqual(unsent);
      await expect(store.loadAttachment(unsent.id, ctx)).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  describe('turns', () => {
    const lease = (seconds = 60) => ({ id: uid('turn'), seconds });

    it('a write after a delete never brings the thread back', async () => {
      const ctx = user();
      const t = await threadOf(ctx);
      await store.deleteThread(t.id, ctx);
      await expect(store.saveThread({ ...t, title: 'back?' }, ctx)).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.addThreadItem(t.id, userMessage(t.id, 'x'), ctx)).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.saveItem(t.id, userMessage(t.id, 'x'), ctx)).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.beginTurn(t.id, { lease: lease(), historyLimit: 10, append: userMessage(t.id, 'x') }, ctx)).rejects.toBeInstanceOf(NotFoundError);
      expect(await store.endTurn(t.id, 'turn_x', ctx, { title: 'title' })).toBeNull();
      await store.setTitleIfUntitled(t.id, 'title', ctx);
      expect(await count('chatkit_threads', sql`id = ${t.id}`)).toBe(0);
      expect(await count('chatkit_thread_items', sql`thread_id = ${t.id}`)).toBe(0);
    });

    it('beginTurn appends the message and returns the history ending with it, in one round trip', async () => {
      const ctx = user();
      const t = await threadOf(ctx);
      const earlier = Array.from({ length: 5 }, (_, i) => userMessage(t.id, `m${i}`));
      for (const item of earlier) await store.addThreadItem(t.id, item, ctx);
      const message = userMessage(t.id, 'now');
      const before = roundTrips;
      const { thread: loaded, history } = await store.beginTurn(t.id, { lease: lease(), historyLimit: 3, append: message }, ctx);
      expect(roundTrips - before).toBe(1);
      expect(loaded).toMatchObject(t);
      expect(history).toEqual([earlier[3], earlier[4], message]);
      expect((await store.loadThreadItems(t.id, { order: 'asc' }, ctx)).data.at(-1)).toEqual(message);
    });

    it('one turn at a time: a held thread is busy until released or expired', async () => {
      const ctx = user();
      const t = await threadOf(ctx);
      const first = lease();
      await store.beginTurn(t.id, { lease: first, historyLimit: 5 }, ctx);
      const refused = userMessage(t.id, 'second writer');
      await expect(store.beginTurn(t.id, { lease: lease(), historyLimit: 5, append: refused }, ctx)).rejects.toBeInstanceOf(ThreadBusyError);
      await expect(store.loadItem(t.id, refused.id, ctx)).rejects.toBeInstanceOf(NotFoundError);
      // Only the holder releases it.
      expect(await store.endTurn(t.id, 'turn_other', ctx)).toBeNull();
      await expect(store.beginTurn(t.id, { lease: lease(), historyLimit: 5 }, ctx)).rejects.toBeInstanceOf(ThreadBusyError);
      expect(await store.endTurn(t.id, first.id, ctx)).toMatchObject({ id: t.id });
      const next = lease(0); // expires at once: a holder that died
      await store.beginTurn(t.id, { lease: next, historyLimit: 5 }, ctx);
      await store.beginTurn(t.id, { lease: lease(), historyLimit: 5 }, ctx);
    });

    it('lets exactly one of many concurrent turns start', async () => {
      const ctx = user();
      const t = await threadOf(ctx);
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) => store.beginTurn(t.id, { lease: lease(), historyLimit: 5, append: userMessage(t.id, `q${i}`) }, ctx)),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const result of results) if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(ThreadBusyError);
      expect(await count('chatkit_thread_items', sql`thread_id = ${t.id}`)).toBe(1);
    });

    it('retryAfter removes what followed the message and ends the history with it', async () => {
      const ctx = user();
      const t = await threadOf(ctx);
      const question = userMessage(t.id, 'q');
      const answer: ThreadItem = { id: uid('msg'), thread_id: t.id, created_at: new Date().toISOString(), type: 'assistant_message', content: [{ type: 'output_text', text: 'a', annotations: [] }] };
      await store.addThreadItem(t.id, question, ctx);
      await store.addThreadItem(t.id, answer, ctx);
      await expect(store.beginTurn(t.id, { lease: lease(), historyLimit: 5, retryAfter: answer.id }, ctx)).rejects.toMatchObject({ code: 'not_user_message' });
      await expect(store.beginTurn(t.id, { lease: lease(), historyLimit: 5, retryAfter: 'msg_missing' }, ctx)).rejects.toBeInstanceOf(NotFoundError);
      const { history } = await store.beginTurn(t.id, { lease: lease(), historyLimit: 5, retryAfter: question.id }, ctx);
      expect(history).toEqual([question]);
      expect((await store.loadThreadItems(t.id, {}, ctx)).data).toEqual([question]);
    });

    it('endTurn with the last item stores it and releases the thread in one round trip', async () => {
      const ctx = user();
      const t = await threadOf(ctx);
      const held = lease();
      await store.beginTurn(t.id, { lease: held, historyLimit: 1 }, ctx);
      const answer = userMessage(t.id, 'the answer');
      const before = roundTrips;
      expect(await store.endTurn(t.id, held.id, ctx, { title: 'Titled', lastItem: answer })).toMatchObject({ id: t.id, title: 'Titled' });
      expect(roundTrips - before).toBe(1);
      expect((await store.loadThreadItems(t.id, { order: 'asc' }, ctx)).data.at(-1)).toEqual(answer);
      // Released: the next turn starts.
      await store.beginTurn(t.id, { lease: lease(), historyLimit: 1 }, ctx);
    });

    it('endTurn stores the last item even when the lease was lost, but neither releases nor titles then', async () => {
      const ctx = user();
      const t = await threadOf(ctx);
      await store.beginTurn(t.id, { lease: lease(0), historyLimit: 1 }, ctx); // expired: a holder that died
      const successor = lease();
      await store.beginTurn(t.id, { lease: successor, historyLimit: 1 }, ctx);
      const late = userMessage(t.id, 'late answer');
      expect(await store.endTurn(t.id, 'turn_expired', ctx, { title: 'Not mine', lastItem: late })).toMatchObject({ id: t.id });
      expect((await store.loadItem(t.id, late.id, ctx))).toEqual(late);
      expect((await store.loadThread(t.id, ctx)).title).toBeUndefined();
      await expect(store.beginTurn(t.id, { lease: lease(), historyLimit: 1 }, ctx)).rejects.toBeInstanceOf(ThreadBusyError);
    });

    it('endTurn with the last item of a deleted thread is not found and stores nothing', async () => {
      const ctx = user();
      const t = await threadOf(ctx);
      const held = lease();
      await store.beginTurn(t.id, { lease: held, historyLimit: 1 }, ctx);
      await store.deleteThread(t.id, ctx);
      await expect(store.endTurn(t.id, held.id, ctx, { lastItem: userMessage(t.id, 'x') })).rejects.toBeInstanceOf(NotFoundError);
      expect(await count('chatkit_thread_items', sql`thread_id = ${t.id}`)).toBe(0);
    });

    it('endTurn and setTitleIfUntitled title an untitled thread only', async () => {
      const ctx = user();
      const t = await threadOf(ctx);
      const held = lease();
      await store.beginTurn(t.id, { lease: held, historyLimit: 1 }, ctx);
      expect(await store.endTurn(t.id, held.id, ctx, { title: 'From the model' })).toMatchObject({ title: 'From the model' });
      await store.setTitleIfUntitled(t.id, 'Late', ctx);
      expect((await store.loadThread(t.id, ctx)).title).toBe('From the model');
      const untitled = await threadOf(ctx);
      await store.setTitleIfUntitled(untitled.id, 'Late', ctx);
      expect((await store.loadThread(untitled.id, ctx)).title).toBe('Late');
    });
  });

  describe('paused turns (a turn waiting for its user to approve a tool call)', () => {
    const lease = (seconds = 60) => ({ id: uid('turn'), seconds });
    const widget = (threadId: string): ThreadItem => ({ id: uid('wd'), thread_id: threadId, created_at: new Date().toISOString(), type: 'widget', widget: { type: 'Card', children: [] } });
    /** A thread whose turn paused on a widget, waiting for an answer to `pending`. */
    async function pausedThread(ctx: RequestContext, pending = ['call_1', 'call_2'], seconds = 60) {
      const t = await threadOf(ctx);
      const held = lease();
      await store.beginTurn(t.id, { lease: held, historyLimit: 1, append: userMessage(t.id, 'do it') }, ctx);
      const prompt = widget(t.id);
      await store.endTurn(t.id, held.id, ctx, { lastItem: prompt, pause: { itemId: prompt.id, pending, state: `state of ${t.id}`, seconds } });
      return { t, prompt };
    }

    it('endTurn with a pause stores it with the last item and keeps the thread held, in one round trip', async () => {
      const ctx = user();
      const t = await threadOf(ctx);
      const held = lease();
      await store.beginTurn(t.id, { lease: held, historyLimit: 1, append: userMessage(t.id, 'send it') }, ctx);
      const prompt = widget(t.id);
      const before = roundTrips;
      const stored = await store.endTurn(t.id, held.id, ctx, { title: 'Sending', lastItem: prompt, pause: { itemId: prompt.id, pending: ['call_1'], state: 'S', seconds: 60 } });
      expect(roundTrips - before).toBe(1);
      expect(stored).toMatchObject({ id: t.id, title: 'Sending' });
      expect(await store.loadItem(t.id, prompt.id, ctx)).toEqual(prompt);
      expect(await count('chatkit_paused_turns', sql`thread_id = ${t.id}`)).toBe(1);
      // Held: a turn that neither answers nor brings a message is told what the thread waits for.
      await expect(store.beginTurn(t.id, { lease: lease(), historyLimit: 1 }, ctx)).rejects.toMatchObject({ code: 'thread_busy', message: expect.stringMatching(/waiting for an answer/) });
    });

    it('yields the thread to an answer for its item and pending calls only, and hands it over once', async () => {
      const ctx = user();
      const { t, prompt } = await pausedThread(ctx);
      const answer = (itemId: string, callIds: string[]) => store.beginTurn(t.id, { lease: lease(), historyLimit: 5, answer: { itemId, callIds } }, ctx);
      await expect(answer('wd_other', ['call_1'])).rejects.toBeInstanceOf(PauseNotPendingError);
      await expect(answer(prompt.id, ['call_1', 'call_9'])).rejects.toBeInstanceOf(PauseNotPendingError);
      expect(await count('chatkit_paused_turns', sql`thread_id = ${t.id}`)).toBe(1);
      const taken = await answer(prompt.id, ['call_1']);
      expect(taken.paused).toEqual({
        itemId: prompt.id,
        pending: ['call_1', 'call_2'],
        state: `state of ${t.id}`,
        pausedAt: expect.any(String),
        expiresAt: expect.any(String),
        expired: false,
      });
      expect(Date.parse(taken.paused!.expiresAt) - Date.parse(taken.paused!.pausedAt)).toBeGreaterThan(59_000);
      expect(taken.history.map((i) => i.type)).toEqual(['user_message', 'widget']);
      expect(await count('chatkit_paused_turns', sql`thread_id = ${t.id}`)).toBe(0);
      // A second click: nothing waits for it any more, and the answering turn holds the thread.
      await expect(answer(prompt.id, ['call_1'])).rejects.toBeInstanceOf(PauseNotPendingError);
      await expect(store.beginTurn(t.id, { lease: lease(), historyLimit: 1, append: userMessage(t.id, 'meanwhile') }, ctx)).rejects.toBeInstanceOf(ThreadBusyError);
    });

    it('pauses again for the calls still pending (answered one by one)', async () => {
      const ctx = user();
      const { t, prompt } = await pausedThread(ctx);
      const first = lease();
      await store.beginTurn(t.id, { lease: first, historyLimit: 1, answer: { itemId: prompt.id, callIds: ['call_1'] } }, ctx);
      await store.endTurn(t.id, first.id, ctx, { pause: { itemId: prompt.id, pending: ['call_2'], state: 'S2', seconds: 60 } });
      await expect(store.beginTurn(t.id, { lease: lease(), historyLimit: 1, answer: { itemId: prompt.id, callIds: ['call_1'] } }, ctx)).rejects.toBeInstanceOf(PauseNotPendingError);
      const second = await store.beginTurn(t.id, { lease: lease(), historyLimit: 1, answer: { itemId: prompt.id, callIds: ['call_2'] } }, ctx);
      expect(second.paused).toMatchObject({ pending: ['call_2'], state: 'S2' });
    });

    it('yields the thread to a new message, which receives the paused turn', async () => {
      const ctx = user();
      const { t, prompt } = await pausedThread(ctx);
      const message = userMessage(t.id, 'never mind, do something else');
      const taken = await store.beginTurn(t.id, { lease: lease(), historyLimit: 5, append: message }, ctx);
      expect(taken.paused).toMatchObject({ itemId: prompt.id, pending: ['call_1', 'call_2'], expired: false });
      expect(taken.history.at(-1)).toEqual(message);
      await expect(store.beginTurn(t.id, { lease: lease(), historyLimit: 1, answer: { itemId: prompt.id, callIds: ['call_1'] } }, ctx)).rejects.toBeInstanceOf(PauseNotPendingError);
    });

    it('refuses an answer after the wait ran out, changing nothing; the next turn receives the expired pause', async () => {
      const ctx = user();
      const { t, prompt } = await pausedThread(ctx, ['call_1'], 0);
      const items = await count('chatkit_thread_items', sql`thread_id = ${t.id}`);
      await expect(store.beginTurn(t.id, { lease: lease(), historyLimit: 1, answer: { itemId: prompt.id, callIds: ['call_1'] } }, ctx)).rejects.toBeInstanceOf(PauseExpiredError);
      expect(await count('chatkit_paused_turns', sql`thread_id = ${t.id}`)).toBe(1);
      expect(await count('chatkit_thread_items', sql`thread_id = ${t.id}`)).toBe(items);
      // The thread is free: any turn starts, and takes the stale pause with it.
      const next = await store.beginTurn(t.id, { lease: lease(), historyLimit: 1 }, ctx);
      expect(next.paused).toMatchObject({ itemId: prompt.id, expired: true });
      expect(await count('chatkit_paused_turns', sql`thread_id = ${t.id}`)).toBe(0);
    });

    it('lets exactly one of concurrent answers and messages take over a pause', async () => {
      const ctx = user();
      const { t, prompt } = await pausedThread(ctx);
      const results = await Promise.allSettled([
        ...Array.from({ length: 4 }, () => store.beginTurn(t.id, { lease: lease(), historyLimit: 1, answer: { itemId: prompt.id, callIds: ['call_1'] } }, ctx)),
        ...Array.from({ length: 4 }, (_, i) => store.beginTurn(t.id, { lease: lease(), historyLimit: 1, append: userMessage(t.id, `instead ${i}`) }, ctx)),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      expect(won).toHaveLength(1);
      expect((won[0] as PromiseFulfilledResult<{ paused: unknown }>).value.paused).toMatchObject({ itemId: prompt.id });
      for (const result of results) {
        if (result.status === 'rejected') expect([ThreadBusyError, PauseNotPendingError].some((type) => result.reason instanceof type)).toBe(true);
      }
      expect(await count('chatkit_paused_turns', sql`thread_id = ${t.id}`)).toBe(0);
      // The user's message, the widget, and at most the one message that won.
      expect(await count('chatkit_thread_items', sql`thread_id = ${t.id}`)).toBeLessThanOrEqual(3);
    });

    it('stores nothing for a pause whose lease was lost', async () => {
      const ctx = user();
      const t = await threadOf(ctx);
      await store.beginTurn(t.id, { lease: lease(0), historyLimit: 1 }, ctx); // a holder that died
      await store.beginTurn(t.id, { lease: lease(), historyLimit: 1 }, ctx);
      const prompt = widget(t.id);
      expect(await store.endTurn(t.id, 'turn_expired', ctx, { lastItem: prompt, pause: { itemId: prompt.id, pending: ['c'], state: 'S', seconds: 60 } })).toBeNull();
      await expect(store.loadItem(t.id, prompt.id, ctx)).rejects.toBeInstanceOf(NotFoundError);
      expect(await count('chatkit_paused_turns', sql`thread_id = ${t.id}`)).toBe(0);
    });

    it('goes with its thread', async () => {
      const ctx = user();
      const { t } = await pausedThread(ctx);
      await store.deleteThread(t.id, ctx);
      expect(await count('chatkit_paused_turns', sql`thread_id = ${t.id}`)).toBe(0);
    });

    it("is not found by another user, whose answer or message changes nothing", async () => {
      const owner = user();
      const intruder = user();
      const { t, prompt } = await pausedThread(owner);
      await expect(store.beginTurn(t.id, { lease: lease(), historyLimit: 1, answer: { itemId: prompt.id, callIds: ['call_1'] } }, intruder)).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.beginTurn(t.id, { lease: lease(), historyLimit: 1, append: userMessage(t.id, 'hijack') }, intruder)).rejects.toBeInstanceOf(NotFoundError);
      expect(await store.endTurn(t.id, 'turn_i', intruder, { pause: { itemId: prompt.id, pending: ['x'], state: 'forged', seconds: 60 } })).toBeNull();
      const { paused } = await store.beginTurn(t.id, { lease: lease(), historyLimit: 1, answer: { itemId: prompt.id, callIds: ['call_1'] } }, owner);
      expect(paused).toMatchObject({ pending: ['call_1', 'call_2'], state: `state of ${t.id}` });
    });
  });

  describe("another user's data is not found", () => {
    it('in every method, and is neither returned, listed nor modified', async () => {
      const owner = user();
      const intruder = user();
      const t = thread({ title: 'private' });
      await store.createThread(t, null, owner);
      const item = userMessage(t.id, 'secret');
      await store.addThreadItem(t.id, item, owner);
      const attachment = fileAttachment();
      await store.saveAttachment(attachment, owner);
      const snapshot = async () => ({
        thread: await store.loadThread(t.id, owner),
        items: await store.loadThreadItems(t.id, { includeHidden: true }, owner),
        attachment: await store.loadAttachment(attachment.id, owner),
      });
      const before = await snapshot();

      const attempts: Array<[string, () => Promise<unknown>]> = [
        ['loadThread', () => store.loadThread(t.id, intruder)],
        ['loadThreadWithItems', () => store.loadThreadWithItems(t.id, 20, intruder)],
        ['saveThread', () => store.saveThread({ ...t, title: 'hijacked' }, intruder)],
        ['deleteThread', () => store.deleteThread(t.id, intruder)],
        ['loadThreadItems', () => store.loadThreadItems(t.id, {}, intruder)],
        ['addThreadItem', () => store.addThreadItem(t.id, userMessage(t.id, 'injected'), intruder)],
        ['saveItem (new)', () => store.saveItem(t.id, userMessage(t.id, 'injected'), intruder)],
        ['saveItem (existing)', () => store.saveItem(t.id, { ...item, content: [{ type: 'input_text', text: 'x' }] } as ThreadItem, intruder)],
        ['loadItem', () => store.loadItem(t.id, item.id, intruder)],
        ['deleteThreadItem', () => store.deleteThreadItem(t.id, item.id, intruder)],
        ['deleteItemsAfter', () => store.deleteItemsAfter(t.id, item.id, intruder)],
        ['saveFeedback', () => store.saveFeedback(t.id, [item.id], 'negative', intruder)],
        ['beginTurn', () => store.beginTurn(t.id, { lease: { id: 'turn_i', seconds: 60 }, historyLimit: 5, append: userMessage(t.id, 'injected') }, intruder)],
        ['endTurn (with an item)', () => store.endTurn(t.id, 'turn_i', intruder, { lastItem: userMessage(t.id, 'injected') })],
        ['saveAttachment', () => store.saveAttachment({ ...attachment, name: 'hijacked' }, intruder)],
        ['loadAttachment', () => store.loadAttachment(attachment.id, intruder)],
        ['deleteAttachment', () => store.deleteAttachment(attachment.id, intruder)],
        ['loadAttachments', () => store.loadAttachments([attachment.id], intruder)],
      ];
      for (const [name, attempt] of attempts) {
        await expect(attempt(), name).rejects.toBeInstanceOf(NotFoundError);
      }
      expect(await store.endTurn(t.id, 'turn_i', intruder, { title: 'hijacked' })).toBeNull();
      await store.setTitleIfUntitled(t.id, 'hijacked', intruder);
      // An item saved under the intruder's own thread may not take over the owner's item id.
      const own = await threadOf(intruder);
      await expect(store.saveItem(own.id, { ...item, thread_id: own.id }, intruder)).rejects.toBeInstanceOf(NotFoundError);
      expect((await store.loadThreads({}, intruder)).data.map((x) => x.id)).toEqual([own.id]);
      expect((await store.searchThreads({ q: 'secret' }, intruder)).data).toEqual([]);
      expect((await store.searchThreads({ q: 'secret' }, owner)).data.map((x) => x.id)).toEqual([t.id]);
      await expect(store.loadThreads({ after: t.id }, intruder)).rejects.toMatchObject({ code: 'invalid_cursor' });
      expect(await count('chatkit_item_feedback', sql`thread_id = ${t.id}`)).toBe(0);
      expect(await snapshot()).toEqual(before);
    });
  });

  describe('text PostgreSQL cannot hold', () => {
    it('stores U+0000 as U+FFFD everywhere, whole, instead of failing the write', async () => {
      const ctx = user();
      const t = thread({ title: 'nul\u0000title', metadata: { 'k\u0000ey': 'v\u0000' } });
      await store.createThread(t, null, ctx);
      const item = userMessage(t.id, 'before\u0000after \\u0000 stays literal');
      await store.addThreadItem(t.id, item, ctx);

      expect((await store.loadThread(t.id, ctx)).title).toBe('nul\uFFFDtitle');
      expect((await store.loadThread(t.id, ctx)).metadata).toEqual({ 'k\uFFFDey': 'v\uFFFD' });
      const loaded = await store.loadItem(t.id, item.id, ctx);
      expect(loaded).toEqual({ ...item, content: [{ type: 'input_text', text: 'before\uFFFDafter \\u0000 stays literal' }] });
      await expect(store.loadThread('thr_\u0000', ctx)).rejects.toBeInstanceOf(NotFoundError);
    });

    it('stores lone UTF-16 surrogates as U+FFFD everywhere, whole, and keeps well-formed pairs', async () => {
      const ctx = user();
      const t = thread({ id: uid('thr\ud800'), title: 'lone\ud800title', metadata: { 'k\udc00ey': ['v\udfff', 'pair 🧪'] } });
      await store.createThread(t, null, ctx);
      const id = t.id.toWellFormed();
      const item: ThreadItem = {
        ...userMessage(t.id, 'high\ud83d low\ude00 pair\ud83d\ude00 \\ud800 stays literal'),
        id: uid('msg\udbff'),
        content: [
          { type: 'input_text', text: 'high\ud83d low\ude00 pair\ud83d\ude00 \\ud800 stays literal' },
          { type: 'input_tag', id: 'tag\ud800', text: '@\udc00', data: { 'key\ud800': { nested: ['\udfff'] } } },
        ],
        quoted_text: 'quote\ud800',
      } as ThreadItem;
      await store.addThreadItem(t.id, item, ctx);
      const attachment = fileAttachment({ id: uid('atc\ud800'), name: 'name\udc00.txt' });
      await store.saveAttachment(attachment, ctx);

      // Stored: the id as U+FFFD, reachable both by the id the client sent and by the stored one.
      for (const lookup of [t.id, id]) {
        const loaded = await store.loadThread(lookup, ctx);
        expect(loaded).toMatchObject({ id, title: 'lone\uFFFDtitle', metadata: { 'k\uFFFDey': ['v\uFFFD', 'pair 🧪'] } });
      }
      const loaded = await store.loadItem(t.id, item.id, ctx);
      expect(loaded).toEqual({
        ...item,
        id: item.id.toWellFormed(),
        thread_id: id,
        content: [
          { type: 'input_text', text: 'high\uFFFD low\uFFFD pair😀 \\ud800 stays literal' },
          { type: 'input_tag', id: 'tag\uFFFD', text: '@\uFFFD', data: { 'key\uFFFD': { nested: ['\uFFFD'] } } },
        ],
        quoted_text: 'quote\uFFFD',
      });
      expect((await store.loadThreadItems(id, {}, ctx)).data).toEqual([loaded]);
      expect(await count('chatkit_thread_items', sql`content_text = ${'high\uFFFD low\uFFFD pair😀 \\ud800 stays literal@\uFFFD'}`)).toBe(1);
      expect(await store.loadAttachment(attachment.id, ctx)).toEqual({ ...attachment, id: attachment.id.toWellFormed(), name: 'name\uFFFD.txt' });
      await store.saveFeedback(t.id, [item.id], 'positive', ctx);
      expect(await count('chatkit_item_feedback', sql`item_id = ${item.id.toWellFormed()}`)).toBe(1);
      await store.deleteThread(t.id, ctx);
      await expect(store.loadThread(id, ctx)).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  describe('round trips', () => {
    it('costs one round trip per store call', async () => {
      const ctx = user();
      const t = thread();
      const item = userMessage(t.id, 'count me');
      // A page's cursor, to read the next page with.
      await threadOf(ctx);
      await threadOf(ctx);
      const cursor = (await store.loadThreads({ limit: 1 }, ctx)).after;
      const calls: Array<[string, () => Promise<unknown>]> = [
        ['createThread', () => store.createThread(t, null, ctx)],
        ['saveThread', () => store.saveThread(t, ctx)],
        ['loadThread', () => store.loadThread(t.id, ctx)],
        ['loadThreadWithItems', () => store.loadThreadWithItems(t.id, 20, ctx)],
        ['addThreadItem', () => store.addThreadItem(t.id, item, ctx)],
        ['saveItem', () => store.saveItem(t.id, item, ctx)],
        ['loadItem', () => store.loadItem(t.id, item.id, ctx)],
        ['loadThreadItems', () => store.loadThreadItems(t.id, {}, ctx)],
        ['loadThreadItems (after)', () => store.loadThreadItems(t.id, { after: item.id }, ctx)],
        ['loadThreads', () => store.loadThreads({}, ctx)],
        ['loadThreads (after)', () => store.loadThreads({ after: cursor }, ctx)],
        ['searchThreads', () => store.searchThreads({ q: 'count' }, ctx)],
        ['saveFeedback', () => store.saveFeedback(t.id, [item.id], 'positive', ctx)],
        ['deleteItemsAfter', () => store.deleteItemsAfter(t.id, item.id, ctx)],
        ['deleteThreadItem', () => store.deleteThreadItem(t.id, item.id, ctx)],
        ['beginTurn', () => store.beginTurn(t.id, { lease: { id: 'turn_rt', seconds: 60 }, historyLimit: 5, append: userMessage(t.id, 'rt') }, ctx)],
        ['endTurn', () => store.endTurn(t.id, 'turn_rt', ctx, { title: 'title' })],
        ['beginTurn (again)', () => store.beginTurn(t.id, { lease: { id: 'turn_rt2', seconds: 60 }, historyLimit: 5 }, ctx)],
        ['endTurn (a pause)', () => store.endTurn(t.id, 'turn_rt2', ctx, { lastItem: { ...item, id: 'msg_rt_w' }, pause: { itemId: 'msg_rt_w', pending: ['c'], state: 'S', seconds: 60 } })],
        ['beginTurn (an answer)', () => store.beginTurn(t.id, { lease: { id: 'turn_rt3', seconds: 60 }, historyLimit: 5, answer: { itemId: 'msg_rt_w', callIds: ['c'] } }, ctx)],
        ['setTitleIfUntitled', () => store.setTitleIfUntitled(t.id, 'title', ctx)],
        ['deleteThread', () => store.deleteThread(t.id, ctx)],
      ];
      for (const [name, call] of calls) {
        const before = roundTrips;
        await call();
        expect(roundTrips - before, name).toBe(1);
      }
    });
  });
});
