import { sql, type Kysely } from 'kysely';
import { retryIfTerminated } from '../db/connect.js';
import { ConflictError, NotFoundError } from '../errors.js';
import {
  HIDDEN_ITEM_TYPES,
  itemPlainText,
  type Attachment,
  type FeedbackKind,
  type Page,
  type PageRequest,
  type StoredThread,
  type ThreadItem,
  type ThreadMetadata,
} from '../protocol/index.js';
import { toJsonb, storableText } from './json.js';
import { invalidCursor, keyset, toPage } from './pagination.js';
import type { Schema } from './schema.js';
import type { ItemPageRequest, RequestContext, Store } from './store.js';

/**
 * The Store on PostgreSQL (Neon, any server, or PGlite). Every call is one statement, so one
 * round trip and atomic without BEGIN/COMMIT: ownership is checked inside the statement that
 * reads or writes, and page cursors are resolved inside the page query. Reads retry once when
 * the connection was terminated under them (a suspended Neon compute, a restarted pooler).
 */
export class PostgresStore implements Store {
  constructor(private readonly db: Kysely<Schema>) {}

  async loadThread(threadId: string, ctx: RequestContext): Promise<StoredThread> {
    const row = await retryIfTerminated(() =>
      this.db
        .selectFrom('chatkit_threads')
        .select(['data', 'updated_at'])
        .where('id', '=', storableText(threadId))
        .where('user_id', '=', ctx.userId)
        .executeTakeFirst(),
    );
    if (!row) throw new NotFoundError('thread');
    return storedThread(row);
  }

  async loadThreadWithItems(threadId: string, limit: number, ctx: RequestContext) {
    const page = keyset({ limit, order: 'asc' });
    const rows = await retryIfTerminated(async () => {
      const { rows } = await sql<ThreadRow & { item: ThreadItem | null }>`
        SELECT t.data, t.updated_at, page.data AS item
        FROM chatkit_threads t
        LEFT JOIN LATERAL (
          SELECT i.data, i.seq FROM chatkit_thread_items i
          WHERE i.thread_id = t.id AND i.type NOT IN (${sql.join([...HIDDEN_ITEM_TYPES])})
          ORDER BY i.seq ASC LIMIT ${page.limit + 1}
        ) page ON true
        WHERE t.id = ${storableText(threadId)} AND t.user_id = ${ctx.userId}
        ORDER BY page.seq ASC`.execute(this.db);
      return rows;
    });
    if (rows.length === 0) throw new NotFoundError('thread');
    const items = rows.flatMap((row) => (row.item ? [row.item] : []));
    return { thread: storedThread(rows[0]!), items: toPage(items, page.limit, (item) => item) };
  }

  async createThread(thread: ThreadMetadata, firstItem: ThreadItem, ctx: RequestContext): Promise<void> {
    const item = itemRow(thread.id, firstItem);
    try {
      await sql`
        WITH thread AS (
          INSERT INTO chatkit_threads (id, user_id, data, created_at)
          VALUES (${storableText(thread.id)}, ${ctx.userId}, ${toJsonb(threadData(thread))}::jsonb, ${thread.created_at}::timestamptz)
          RETURNING id
        )
        INSERT INTO chatkit_thread_items (id, thread_id, type, content_text, data, created_at)
        SELECT ${item.id}, thread.id, ${item.type}, ${item.content_text}, ${item.data}::jsonb, ${item.created_at}::timestamptz
        FROM thread`.execute(this.db);
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError(`thread ${thread.id} or item ${firstItem.id} already exists`);
      throw error;
    }
  }

  async saveThread(thread: ThreadMetadata, ctx: RequestContext): Promise<void> {
    const metadata = threadData(thread);
    const saved = await this.db
      .insertInto('chatkit_threads')
      .values({
        id: storableText(thread.id),
        user_id: ctx.userId,
        data: toJsonb(metadata),
        created_at: thread.created_at,
      })
      .onConflict((oc) =>
        oc
          .column('id')
          .doUpdateSet({ data: (eb) => eb.ref('excluded.data') })
          .where('chatkit_threads.user_id', '=', ctx.userId),
      )
      .returning('id')
      .executeTakeFirst();
    if (!saved) throw new NotFoundError('thread');
  }

  async loadThreads(page: PageRequest, ctx: RequestContext): Promise<Page<StoredThread>> {
    const { limit, order, after } = keyset(page);
    const [cmp, dir] = order === 'asc' ? [sql`>`, sql`ASC`] : [sql`<`, sql`DESC`];
    const rows = await retryIfTerminated(async () => {
      if (after === undefined) {
        const { rows } = await sql<ThreadRow>`
          SELECT data, updated_at FROM chatkit_threads
          WHERE user_id = ${ctx.userId}
          ORDER BY updated_at ${dir}, id ${dir} LIMIT ${limit + 1}`.execute(this.db);
        return rows;
      }
      // No row at all: the cursor is not one of this user's threads. A row with null data: an empty page.
      const { rows } = await sql<Partial<ThreadRow>>`
        SELECT page.data, page.updated_at
        FROM chatkit_threads cursor
        LEFT JOIN LATERAL (
          SELECT t.id, t.data, t.updated_at FROM chatkit_threads t
          WHERE t.user_id = cursor.user_id AND (t.updated_at, t.id) ${cmp} (cursor.updated_at, cursor.id)
          ORDER BY t.updated_at ${dir}, t.id ${dir} LIMIT ${limit + 1}
        ) page ON true
        WHERE cursor.id = ${storableText(after)} AND cursor.user_id = ${ctx.userId}
        ORDER BY page.updated_at ${dir}, page.id ${dir}`.execute(this.db);
      if (rows.length === 0) throw invalidCursor();
      return rows.filter((row): row is ThreadRow => row.data != null);
    });
    return toPage(rows, limit, storedThread);
  }

  async deleteThread(threadId: string, ctx: RequestContext): Promise<void> {
    // Items and feedback go by ON DELETE CASCADE; the attachments its messages carried go here.
    // Every part of the statement sees the items as they were before it began.
    const { rows } = await sql<{ id: string }>`
      WITH thread AS (
        DELETE FROM chatkit_threads WHERE id = ${storableText(threadId)} AND user_id = ${ctx.userId} RETURNING id
      ), attachments AS (
        DELETE FROM chatkit_attachments
        WHERE user_id = ${ctx.userId} AND id IN (
          SELECT a->>'id' FROM chatkit_thread_items i, jsonb_array_elements(i.data->'attachments') a
          WHERE i.thread_id IN (SELECT id FROM thread) AND i.type = 'user_message'
        )
      )
      SELECT id FROM thread`.execute(this.db);
    if (rows.length === 0) throw new NotFoundError('thread');
  }

  async loadThreadItems(threadId: string, page: ItemPageRequest, ctx: RequestContext): Promise<Page<ThreadItem>> {
    const { limit, order, after } = keyset(page);
    const [cmp, dir] = order === 'asc' ? [sql`>`, sql`ASC`] : [sql`<`, sql`DESC`];
    const visible = page.includeHidden ? sql`` : sql`AND i.type NOT IN (${sql.join([...HIDDEN_ITEM_TYPES])})`;
    const cursor =
      after === undefined
        ? { join: sql``, column: sql`NULL::bigint`, filter: sql`` }
        : {
            join: sql`LEFT JOIN chatkit_thread_items c ON c.id = ${storableText(after)} AND c.thread_id = t.id`,
            column: sql`c.seq`,
            filter: sql`AND i.seq ${cmp} c.seq`,
          };
    // One row per item, or a single row with null data when the page is empty; none when the
    // thread is not the caller's.
    const rows = await retryIfTerminated(async () => {
      const { rows } = await sql<{ cursor_seq: string | null; data: ThreadItem | null }>`
        SELECT ${cursor.column} AS cursor_seq, page.data
        FROM chatkit_threads t
        ${cursor.join}
        LEFT JOIN LATERAL (
          SELECT i.data, i.seq FROM chatkit_thread_items i
          WHERE i.thread_id = t.id ${cursor.filter} ${visible}
          ORDER BY i.seq ${dir} LIMIT ${limit + 1}
        ) page ON true
        WHERE t.id = ${storableText(threadId)} AND t.user_id = ${ctx.userId}
        ORDER BY page.seq ${dir}`.execute(this.db);
      return rows;
    });
    if (rows.length === 0) throw new NotFoundError('thread');
    if (after !== undefined && rows[0]!.cursor_seq === null) throw invalidCursor();
    const items = rows.flatMap((row) => (row.data ? [row.data] : []));
    return toPage(items, limit, (item) => item);
  }

  async addThreadItem(threadId: string, item: ThreadItem, ctx: RequestContext): Promise<void> {
    const row = itemRow(threadId, item);
    try {
      const { rows } = await sql`
        WITH thread AS (
          UPDATE chatkit_threads SET updated_at = greatest(updated_at, now())
          WHERE id = ${row.thread_id} AND user_id = ${ctx.userId}
          RETURNING id
        )
        INSERT INTO chatkit_thread_items (id, thread_id, type, content_text, data, created_at)
        SELECT ${row.id}, thread.id, ${row.type}, ${row.content_text}, ${row.data}::jsonb, ${row.created_at}::timestamptz
        FROM thread
        RETURNING id`.execute(this.db);
      if (rows.length === 0) throw new NotFoundError('thread');
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError(`an item with id ${item.id} already exists`);
      throw error;
    }
  }

  async saveItem(threadId: string, item: ThreadItem, ctx: RequestContext): Promise<void> {
    const row = itemRow(threadId, item);
    // The conflict branch only replaces an item of the same thread: an id taken elsewhere is not found.
    const { rows } = await sql`
      INSERT INTO chatkit_thread_items (id, thread_id, type, content_text, data, created_at)
      SELECT ${row.id}, t.id, ${row.type}, ${row.content_text}, ${row.data}::jsonb, ${row.created_at}::timestamptz
      FROM chatkit_threads t WHERE t.id = ${row.thread_id} AND t.user_id = ${ctx.userId}
      ON CONFLICT (id) DO UPDATE
        SET type = excluded.type, content_text = excluded.content_text, data = excluded.data, created_at = excluded.created_at
        WHERE chatkit_thread_items.thread_id = excluded.thread_id
      RETURNING id`.execute(this.db);
    if (rows.length === 0) throw new NotFoundError('thread');
  }

  async loadItem(threadId: string, itemId: string, ctx: RequestContext): Promise<ThreadItem> {
    const row = await retryIfTerminated(() =>
      this.db
        .selectFrom('chatkit_thread_items as i')
        .innerJoin('chatkit_threads as t', 't.id', 'i.thread_id')
        .select('i.data')
        .where('i.id', '=', storableText(itemId))
        .where('i.thread_id', '=', storableText(threadId))
        .where('t.user_id', '=', ctx.userId)
        .executeTakeFirst(),
    );
    if (!row) throw new NotFoundError('item');
    return row.data as ThreadItem;
  }

  async deleteThreadItem(threadId: string, itemId: string, ctx: RequestContext): Promise<void> {
    const { rows } = await sql`
      DELETE FROM chatkit_thread_items i USING chatkit_threads t
      WHERE i.id = ${storableText(itemId)} AND i.thread_id = ${storableText(threadId)}
        AND t.id = i.thread_id AND t.user_id = ${ctx.userId}
      RETURNING i.id`.execute(this.db);
    if (rows.length === 0) throw new NotFoundError('item');
  }

  async deleteItemsAfter(threadId: string, itemId: string, ctx: RequestContext): Promise<string[]> {
    const { rows } = await sql<{ found: number; removed: string[] }>`
      WITH pivot AS (
        SELECT i.thread_id, i.seq FROM chatkit_thread_items i JOIN chatkit_threads t ON t.id = i.thread_id
        WHERE i.id = ${storableText(itemId)} AND i.thread_id = ${storableText(threadId)} AND t.user_id = ${ctx.userId}
      ), removed AS (
        DELETE FROM chatkit_thread_items i USING pivot
        WHERE i.thread_id = pivot.thread_id AND i.seq > pivot.seq
        RETURNING i.id, i.seq
      )
      SELECT (SELECT count(*) FROM pivot)::int AS found,
             (SELECT coalesce(json_agg(id ORDER BY seq), '[]'::json) FROM removed) AS removed`.execute(this.db);
    if (!rows[0]?.found) throw new NotFoundError('item');
    return rows[0].removed;
  }

  async saveFeedback(threadId: string, itemIds: string[], kind: FeedbackKind, ctx: RequestContext): Promise<void> {
    // Ids that are not items of this thread are ignored; a thread that is not the caller's is not found.
    const { rows } = await sql<{ found: number }>`
      WITH thread AS (
        SELECT id FROM chatkit_threads WHERE id = ${storableText(threadId)} AND user_id = ${ctx.userId}
      ), saved AS (
        INSERT INTO chatkit_item_feedback (item_id, user_id, thread_id, kind)
        SELECT i.id, ${ctx.userId}, i.thread_id, ${kind}
        FROM chatkit_thread_items i JOIN thread ON i.thread_id = thread.id
        WHERE i.id = ANY(${itemIds.map(storableText)}::text[])
        ON CONFLICT (item_id, user_id) DO UPDATE SET kind = excluded.kind, created_at = now()
        RETURNING 1
      )
      SELECT (SELECT count(*) FROM thread)::int AS found, (SELECT count(*) FROM saved)::int AS saved`.execute(this.db);
    if (!rows[0]?.found) throw new NotFoundError('thread');
  }

  async saveAttachment(attachment: Attachment, ctx: RequestContext): Promise<void> {
    const saved = await this.db
      .insertInto('chatkit_attachments')
      .values({ id: storableText(attachment.id), user_id: ctx.userId, data: toJsonb(attachment) })
      .onConflict((oc) =>
        oc
          .column('id')
          .doUpdateSet({ data: (eb) => eb.ref('excluded.data') })
          .where('chatkit_attachments.user_id', '=', ctx.userId),
      )
      .returning('id')
      .executeTakeFirst();
    if (!saved) throw new NotFoundError('attachment');
  }

  async loadAttachment(attachmentId: string, ctx: RequestContext): Promise<Attachment> {
    const row = await retryIfTerminated(() =>
      this.db
        .selectFrom('chatkit_attachments')
        .select('data')
        .where('id', '=', storableText(attachmentId))
        .where('user_id', '=', ctx.userId)
        .executeTakeFirst(),
    );
    if (!row) throw new NotFoundError('attachment');
    return row.data as Attachment;
  }

  async deleteAttachment(attachmentId: string, ctx: RequestContext): Promise<void> {
    const deleted = await this.db
      .deleteFrom('chatkit_attachments')
      .where('id', '=', storableText(attachmentId))
      .where('user_id', '=', ctx.userId)
      .returning('id')
      .executeTakeFirst();
    if (!deleted) throw new NotFoundError('attachment');
  }
}

interface ThreadRow {
  data: Record<string, unknown>;
  updated_at: Date;
}

function storedThread(row: ThreadRow): StoredThread {
  return { ...(row.data as ThreadMetadata), updated_at: new Date(row.updated_at).toISOString() };
}

/** What a thread row's `data` holds: the protocol's metadata, not the store's own fields. */
function threadData(thread: ThreadMetadata) {
  const { updated_at: _derived, items: _notStored, ...metadata } = thread as ThreadMetadata & Partial<StoredThread> & { items?: unknown };
  return metadata;
}

function itemRow(threadId: string, item: ThreadItem) {
  if (item.thread_id !== threadId) {
    throw new Error(`item ${item.id} names thread ${item.thread_id}, not ${threadId}`);
  }
  const text = itemPlainText(item);
  return {
    id: storableText(item.id),
    thread_id: storableText(threadId),
    type: item.type,
    content_text: text === null ? null : storableText(text),
    data: toJsonb(item),
    created_at: item.created_at,
  };
}

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505';
}
