import { sql, type RawBuilder, type Kysely } from 'kysely';
import { retryIfTerminated } from '../db/connect.js';
import { BadRequestError, ConflictError, NotFoundError, PauseExpiredError, PauseNotPendingError, ThreadBusyError } from '../errors.js';
import type { Attachment, FeedbackKind, Page, PageRequest, StoredThread, ThreadItem, ThreadMetadata } from '../protocol/index.js';
import { HIDDEN_ITEM_TYPES, itemPlainText } from '../protocol/item-text.js';
import { toJsonb, storableText } from './json.js';
import { invalidCursor, keyset, PAGE_MAX_BYTES, positionCursor, toPage, toSizedPage } from './pagination.js';
import type { Schema } from './schema.js';
import { searchThreads } from './search.js';
import type { ItemPageRequest, RequestContext, Store, ThreadSearchHit, ThreadSearchRequest, TurnEnd, TurnLease, TurnStart } from './store.js';

/**
 * The Store on PostgreSQL (Neon, any server, or PGlite). Every call is one statement, so one
 * round trip and atomic without BEGIN/COMMIT: ownership is checked inside the statement that
 * reads or writes, and page cursors are resolved inside the page query. Reads retry once when
 * the connection was terminated under them (a suspended Neon compute, a restarted pooler); a
 * lost connection or a timeout reaches the caller as DatabaseUnavailableError (the pool that
 * openDatabase builds translates it, for every statement).
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
      const { rows } = await sql<ThreadRow & { item: ThreadItem | null; upto: string | null }>`
        SELECT t.data, t.updated_at, page.data AS item, page.upto
        FROM chatkit_threads t
        LEFT JOIN LATERAL (
          ${sizedPage(sql`
            SELECT i.data, i.seq FROM chatkit_thread_items i
            WHERE i.thread_id = t.id AND i.type NOT IN (${sql.join([...HIDDEN_ITEM_TYPES])})
            ORDER BY i.seq ASC LIMIT ${page.limit + 1}`, sql`ASC`)}
        ) page ON true
        WHERE t.id = ${storableText(threadId)} AND t.user_id = ${ctx.userId}
        ORDER BY page.seq ASC`.execute(this.db);
      return rows;
    });
    if (rows.length === 0) throw new NotFoundError('thread');
    const items = rows.flatMap((row) => (row.item ? [{ item: row.item, upto: Number(row.upto) }] : []));
    return { thread: storedThread(rows[0]!), items: toSizedPage(items, page.limit) };
  }

  async createThread(thread: ThreadMetadata, firstItem: ThreadItem | null, ctx: RequestContext, lease?: TurnLease): Promise<void> {
    const holder = lease ? { id: lease.id, expires: sql`now() + ${lease.seconds}::int * interval '1 second'` } : { id: null, expires: sql`NULL` };
    const insertThread = sql`
      INSERT INTO chatkit_threads (id, user_id, data, created_at, turn_id, turn_expires_at)
      VALUES (${storableText(thread.id)}, ${ctx.userId}, ${toJsonb(threadData(thread))}::jsonb, ${thread.created_at}::timestamptz, ${holder.id}, ${holder.expires})`;
    if (!firstItem) {
      await insertThread.execute(this.db).catch(rethrow(`thread ${thread.id} already exists`));
      return;
    }
    // The thread, its first item and the binding of that item's attachments in one statement: a
    // failure leaves none of them.
    const item = itemRow(thread.id, firstItem);
    await sql`
      WITH thread AS (${insertThread} RETURNING id), message AS (
        INSERT INTO chatkit_thread_items (id, thread_id, type, content_text, data, created_at)
        SELECT ${item.id}, thread.id, ${item.type}, ${item.content_text}, ${item.data}::jsonb, ${item.created_at}::timestamptz
        FROM thread
        RETURNING thread_id, type, data
      )
      ${bindAttachments(ctx)}`
      .execute(this.db)
      .catch(rethrow(`thread ${thread.id} or item ${firstItem.id} already exists`));
  }

  async saveThread(thread: ThreadMetadata, ctx: RequestContext): Promise<void> {
    // An update only: a write that follows a delete must not bring the thread back.
    const saved = await this.db
      .updateTable('chatkit_threads')
      .set({ data: toJsonb(threadData(thread)) })
      .where('id', '=', storableText(thread.id))
      .where('user_id', '=', ctx.userId)
      .returning('id')
      .executeTakeFirst();
    if (!saved) throw new NotFoundError('thread');
  }

  async beginTurn(threadId: string, start: TurnStart, ctx: RequestContext) {
    const id = storableText(threadId);
    const appended = start.append ? itemRow(threadId, start.append) : null;
    const retryAfter = start.retryAfter === undefined ? null : storableText(start.retryAfter);
    const answer = start.answer ? { itemId: storableText(start.answer.itemId), callIds: start.answer.callIds.map(storableText) } : null;
    // A message or an answer may take the lease from the paused turn that holds it.
    const takesOver = appended !== null || answer !== null;
    const historyLimit = Math.max(0, start.historyLimit - (appended ? 1 : 0));
    // One statement, so one round trip before the answer can start. Every part sees the rows as
    // they were before it began: the history leaves out what a retry removes (seq after the
    // pivot) and cannot see the appended message, which the caller already has. A concurrent
    // turn that took the lease first makes the UPDATE re-check its row and match nothing: the
    // paused turn's holder id, read from the snapshot, no longer names the lease; then nothing is
    // appended and no attachment is bound (the message was refused). The paused turn goes with
    // the lease it held (or with any lease after its wait ran out), returned once.
    const { rows } = await sql<BeginTurnRow>`
      WITH owned AS (
        SELECT id, turn_id FROM chatkit_threads WHERE id = ${id} AND user_id = ${ctx.userId}
      ), paused AS (
        SELECT p.turn_id, p.item_id, p.pending, p.expires_at, p.expires_at <= now() AS expired, p.turn_id = owned.turn_id AS holds
        FROM chatkit_paused_turns p JOIN owned ON p.thread_id = owned.id
      ), answerable AS (
        SELECT 1 FROM paused WHERE NOT expired AND item_id = ${answer?.itemId ?? null} AND pending @> ${answer?.callIds ?? []}::text[]
      ), pivot AS (
        SELECT i.seq, i.type = 'user_message' AS is_message
        FROM chatkit_thread_items i JOIN owned ON i.thread_id = owned.id
        WHERE i.id = ${retryAfter}
      ), leased AS (
        UPDATE chatkit_threads t
        SET turn_id = ${start.lease.id}, turn_expires_at = now() + ${start.lease.seconds}::int * interval '1 second',
            updated_at = CASE WHEN ${appended !== null} THEN greatest(t.updated_at, now()) ELSE t.updated_at END
        WHERE t.id = ${id} AND t.user_id = ${ctx.userId}
          AND (t.turn_expires_at IS NULL OR t.turn_expires_at <= now()
               OR (${takesOver} AND t.turn_id = (SELECT turn_id FROM paused WHERE holds AND NOT expired)))
          AND (${answer !== null} = false OR EXISTS (SELECT 1 FROM answerable))
          AND (${retryAfter}::text IS NULL OR EXISTS (SELECT 1 FROM pivot WHERE is_message))
        RETURNING t.id, t.data, t.updated_at
      ), taken AS (
        DELETE FROM chatkit_paused_turns p USING leased WHERE p.thread_id = leased.id
        RETURNING p.item_id, p.pending, p.state, p.created_at, p.expires_at, p.expires_at <= now() AS expired
      ), removed AS (
        DELETE FROM chatkit_thread_items i USING leased, pivot
        WHERE i.thread_id = leased.id AND i.seq > pivot.seq
      ), message AS (
        INSERT INTO chatkit_thread_items (id, thread_id, type, content_text, data, created_at)
        SELECT ${appended?.id ?? null}, leased.id, ${appended?.type ?? null}, ${appended?.content_text ?? null},
               ${appended?.data ?? null}::jsonb, ${appended?.created_at ?? null}::timestamptz
        FROM leased WHERE ${appended !== null}
        RETURNING thread_id, type, data
      ), bound AS (
        ${bindAttachments(ctx)}
      ), history AS (
        SELECT i.data, i.seq FROM chatkit_thread_items i JOIN leased ON i.thread_id = leased.id
        WHERE i.seq <= coalesce((SELECT seq FROM pivot), i.seq)
        ORDER BY i.seq DESC LIMIT ${historyLimit}
      )
      SELECT EXISTS (SELECT 1 FROM owned) AS owned, (SELECT is_message FROM pivot) AS pivot, leased.data, leased.updated_at,
             (SELECT coalesce(json_agg(h.data ORDER BY h.seq), '[]'::json) FROM history h) AS history,
             (SELECT json_build_object('item_id', item_id, 'pending', pending, 'expires_at', expires_at, 'expired', expired, 'holds', holds) FROM paused) AS seen,
             (SELECT json_build_object('item_id', item_id, 'pending', pending, 'state', state, 'created_at', created_at, 'expires_at', expires_at, 'expired', expired)
              FROM taken) AS taken
      FROM (SELECT 1) one LEFT JOIN leased ON true`
      .execute(this.db)
      .catch(rethrow(`an item with id ${start.append?.id} already exists`));
    const row = rows[0]!;
    if (!row.owned) throw new NotFoundError('thread');
    if (retryAfter !== null && row.pivot === null) throw new NotFoundError('item');
    if (retryAfter !== null && !row.pivot) throw new BadRequestError('a retry starts after a user message', 'not_user_message');
    if (!row.data || !row.updated_at) {
      const seen = row.seen;
      if (answer) {
        if (seen?.item_id === answer.itemId && seen.expired) throw new PauseExpiredError(new Date(seen.expires_at).toISOString());
        throw new PauseNotPendingError();
      }
      if (seen?.holds && !seen.expired) throw new ThreadBusyError(AWAITING_ANSWER);
      throw new ThreadBusyError();
    }
    const taken = row.taken;
    return {
      thread: storedThread({ data: row.data, updated_at: row.updated_at }),
      history: start.append ? [...row.history, start.append] : row.history,
      paused: taken && {
        itemId: taken.item_id,
        pending: taken.pending,
        state: taken.state,
        pausedAt: new Date(taken.created_at).toISOString(),
        expiresAt: new Date(taken.expires_at).toISOString(),
        expired: taken.expired,
      },
    };
  }

  async endTurn(threadId: string, leaseId: string, ctx: RequestContext, end: TurnEnd = {}): Promise<StoredThread | null> {
    const { title, lastItem, pause } = end;
    const item = lastItem ? itemRow(threadId, lastItem) : null;
    const titled = title === undefined ? null : storableText(title);
    const paused = pause ? { itemId: storableText(pause.itemId), pending: pause.pending.map(storableText), state: storableText(pause.state), seconds: pause.seconds } : null;
    // One statement, so a turn's end is one round trip: the last item, the pause and the release
    // together. SET sees the row as it was: only the holder releases the lease (or, pausing,
    // keeps it for the wait) and titles the thread (if untitled). Without an item, or with a
    // pause, the row must be held to match; with an item alone it need only exist, as for
    // addThreadItem. The item and the pause are inserted through the CTE only if it matched.
    const { rows } = await sql<ThreadRow>`
      WITH thread AS (
        UPDATE chatkit_threads
        SET turn_id = CASE WHEN turn_id = ${leaseId} AND ${paused === null} THEN NULL ELSE turn_id END,
            turn_expires_at = CASE WHEN turn_id IS DISTINCT FROM ${leaseId} THEN turn_expires_at
                                   WHEN ${paused !== null} THEN now() + ${paused?.seconds ?? 0}::int * interval '1 second'
                                   ELSE NULL END,
            updated_at = CASE WHEN ${item !== null} THEN greatest(updated_at, now()) ELSE updated_at END,
            data = CASE WHEN turn_id = ${leaseId} AND ${titled}::text IS NOT NULL AND data->>'title' IS NULL
                        THEN jsonb_set(data, '{title}', to_jsonb(${titled}::text)) ELSE data END
        WHERE id = ${storableText(threadId)} AND user_id = ${ctx.userId}
          AND ((${item !== null} AND ${paused === null}) OR turn_id = ${leaseId})
        RETURNING id, data, updated_at, turn_expires_at
      ), item AS (
        INSERT INTO chatkit_thread_items (id, thread_id, type, content_text, data, created_at)
        SELECT ${item?.id ?? null}, thread.id, ${item?.type ?? null}, ${item?.content_text ?? null}, ${item?.data ?? null}::jsonb,
               ${item?.created_at ?? null}::timestamptz
        FROM thread WHERE ${item !== null}
      ), paused AS (
        INSERT INTO chatkit_paused_turns (thread_id, turn_id, item_id, pending, state, expires_at)
        SELECT thread.id, ${leaseId}, ${paused?.itemId ?? null}, ${paused?.pending ?? []}::text[], ${paused?.state ?? null}, thread.turn_expires_at
        FROM thread WHERE ${paused !== null}
        ON CONFLICT (thread_id) DO UPDATE
          SET turn_id = excluded.turn_id, item_id = excluded.item_id, pending = excluded.pending, state = excluded.state,
              created_at = now(), expires_at = excluded.expires_at
      )
      SELECT data, updated_at FROM thread`
      .execute(this.db)
      .catch(rethrow(`an item with id ${lastItem?.id} already exists`));
    if (item && !paused && !rows[0]) throw new NotFoundError('thread');
    return rows[0] ? storedThread(rows[0]) : null;
  }

  async setTitleIfUntitled(threadId: string, title: string, ctx: RequestContext): Promise<void> {
    await sql`
      UPDATE chatkit_threads SET data = jsonb_set(data, '{title}', to_jsonb(${storableText(title)}::text))
      WHERE id = ${storableText(threadId)} AND user_id = ${ctx.userId} AND data->>'title' IS NULL`.execute(this.db);
  }

  async loadThreads(page: PageRequest, ctx: RequestContext): Promise<Page<StoredThread>> {
    const { limit, order, after } = keyset(page);
    const [cmp, dir] = order === 'asc' ? [sql`>`, sql`ASC`] : [sql`<`, sql`DESC`];
    // The cursor is the position the previous page ended at, not a thread id: the order is by last
    // activity, which a turn moves, and the next page must go on from where that page ended.
    const from = after === undefined ? undefined : positionCursor.read(after, isPosition);
    const rows = await retryIfTerminated(async () => {
      const { rows } = await sql<ThreadRow & { position: string }>`
        SELECT data, updated_at, to_char(updated_at AT TIME ZONE 'UTC', ${POSITION_FORMAT}) AS position
        FROM chatkit_threads
        WHERE user_id = ${ctx.userId} ${from ? sql`AND (updated_at, id) ${cmp} (${from.key}::timestamptz, ${storableText(from.id)})` : sql``}
        ORDER BY updated_at ${dir}, id ${dir} LIMIT ${limit + 1}`.execute(this.db);
      return rows;
    });
    return toPage(rows, limit, storedThread, (row) => positionCursor.of(row.position, (row.data as ThreadMetadata).id));
  }

  async deleteThread(threadId: string, ctx: RequestContext): Promise<Attachment[]> {
    // Items and feedback go by ON DELETE CASCADE; its attachments go here, returned so that their
    // bytes can go too: those bound to it (sent in a message, even one a retry removed since) and
    // any its messages carry. Every part sees the rows as they were before it began.
    const { rows } = await sql<{ attachments: Attachment[] }>`
      WITH thread AS (
        DELETE FROM chatkit_threads WHERE id = ${storableText(threadId)} AND user_id = ${ctx.userId} RETURNING id
      ), attachments AS (
        DELETE FROM chatkit_attachments
        WHERE user_id = ${ctx.userId} AND id IN (
          SELECT id FROM chatkit_attachments WHERE thread_id IN (SELECT id FROM thread)
          UNION
          SELECT a->>'id' FROM chatkit_thread_items i, jsonb_array_elements(i.data->'attachments') a
          WHERE i.thread_id IN (SELECT id FROM thread) AND i.type = 'user_message'
        )
        RETURNING data
      )
      SELECT (SELECT coalesce(json_agg(data), '[]'::json) FROM attachments) AS attachments FROM thread`.execute(this.db);
    if (rows.length === 0) throw new NotFoundError('thread');
    return rows[0]!.attachments;
  }

  searchThreads(request: ThreadSearchRequest, ctx: RequestContext): Promise<Page<ThreadSearchHit>> {
    return searchThreads(this.db, request, ctx);
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
      const { rows } = await sql<{ cursor_seq: string | null; data: ThreadItem | null; upto: string | null }>`
        SELECT ${cursor.column} AS cursor_seq, page.data, page.upto
        FROM chatkit_threads t
        ${cursor.join}
        LEFT JOIN LATERAL (
          ${sizedPage(sql`
            SELECT i.data, i.seq FROM chatkit_thread_items i
            WHERE i.thread_id = t.id ${cursor.filter} ${visible}
            ORDER BY i.seq ${dir} LIMIT ${limit + 1}`, dir)}
        ) page ON true
        WHERE t.id = ${storableText(threadId)} AND t.user_id = ${ctx.userId}
        ORDER BY page.seq ${dir}`.execute(this.db);
      return rows;
    });
    if (rows.length === 0) throw new NotFoundError('thread');
    if (after !== undefined && rows[0]!.cursor_seq === null) throw invalidCursor();
    const items = rows.flatMap((row) => (row.data ? [{ item: row.data, upto: Number(row.upto) }] : []));
    return toSizedPage(items, limit);
  }

  async addThreadItem(threadId: string, item: ThreadItem, ctx: RequestContext): Promise<void> {
    const row = itemRow(threadId, item);
    const { rows } = await sql`
      WITH thread AS (
        UPDATE chatkit_threads SET updated_at = greatest(updated_at, now())
        WHERE id = ${row.thread_id} AND user_id = ${ctx.userId}
        RETURNING id
      )
      INSERT INTO chatkit_thread_items (id, thread_id, type, content_text, data, created_at)
      SELECT ${row.id}, thread.id, ${row.type}, ${row.content_text}, ${row.data}::jsonb, ${row.created_at}::timestamptz
      FROM thread
      RETURNING id`
      .execute(this.db)
      .catch(rethrow(`an item with id ${item.id} already exists`));
    if (rows.length === 0) throw new NotFoundError('thread');
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
      RETURNING id`
      .execute(this.db)
      .catch(rethrow(`an item with id ${item.id} already exists`));
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

  async loadAttachments(attachmentIds: readonly string[], ctx: RequestContext): Promise<Attachment[]> {
    const ids = [...new Set(attachmentIds.map(storableText))];
    if (ids.length === 0) return [];
    const rows = await retryIfTerminated(() =>
      this.db.selectFrom('chatkit_attachments').select(['id', 'data']).where('id', '=', sql<string>`ANY(${ids}::text[])`).where('user_id', '=', ctx.userId).execute(),
    );
    const byId = new Map(rows.map((row) => [row.id, row.data as Attachment]));
    return ids.map((id) => {
      const attachment = byId.get(id);
      if (!attachment) throw new NotFoundError('attachment');
      return attachment;
    });
  }

  async deleteAttachment(attachmentId: string, ctx: RequestContext): Promise<Attachment> {
    // The DELETE re-checks `thread_id` on the row it deletes: a message that binds the attachment
    // first wins, and the delete is refused.
    const id = storableText(attachmentId);
    const { rows } = await sql<{ found: number; data: Attachment | null }>`
      WITH found AS (
        SELECT 1 FROM chatkit_attachments WHERE id = ${id} AND user_id = ${ctx.userId}
      ), deleted AS (
        DELETE FROM chatkit_attachments WHERE id = ${id} AND user_id = ${ctx.userId} AND thread_id IS NULL RETURNING data
      )
      SELECT (SELECT count(*) FROM found)::int AS found, (SELECT data FROM deleted) AS data`.execute(this.db);
    if (!rows[0]?.found) throw new NotFoundError('attachment');
    if (!rows[0].data) throw new ConflictError(`attachment ${attachmentId} was sent in a message: it is deleted with its thread`, 'attachment_in_use');
    return rows[0].data;
  }
}

interface ThreadRow {
  data: Record<string, unknown>;
  updated_at: Date;
}

interface BeginTurnRow {
  owned: boolean;
  pivot: boolean | null;
  data: ThreadRow['data'] | null;
  updated_at: Date | null;
  history: ThreadItem[];
  /** The thread's paused turn as the statement found it (to say why an answer was refused). */
  seen: { item_id: string; pending: string[]; expires_at: string; expired: boolean; holds: boolean } | null;
  /** The paused turn this turn took over, removed. */
  taken: { item_id: string; pending: string[]; state: string; created_at: string; expires_at: string; expired: boolean } | null;
}

/** Why a turn other than an answer or a new message cannot start while a paused turn waits. */
/**
 * A page's rows (`page`: data and seq, at most limit+1, in `dir` order) with the bytes of stored
 * JSON up to each. Only the rows a page can hold leave the database, and the first one past it
 * (has_more): those that start within PAGE_MAX_BYTES, and the first two whatever their size. A
 * page of long messages is cut there (toSizedPage) before it outgrows a Lambda's answer.
 */
function sizedPage(page: RawBuilder<unknown>, dir: RawBuilder<unknown>) {
  return sql`
    SELECT sized.data, sized.seq, sized.upto FROM (
      SELECT p.data, p.seq, octet_length(p.data::text) AS size,
             sum(octet_length(p.data::text)) OVER (ORDER BY p.seq ${dir} ROWS UNBOUNDED PRECEDING) AS upto,
             row_number() OVER (ORDER BY p.seq ${dir}) AS n
      FROM (${page}) p
    ) sized
    WHERE sized.upto - sized.size <= ${PAGE_MAX_BYTES} OR sized.n <= 2`;
}

/** A thread's last activity as a cursor holds it: UTC to the microsecond, as PostgreSQL keeps it. */
const POSITION_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"';
const POSITION = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
/** A real instant in POSITION's form (a made-up date such as month 13 would fail the query's cast). */
const isPosition = (key: string) => POSITION.test(key) && key >= '0001' && new Date(`${key.slice(0, 23)}Z`).toISOString().slice(0, 23) === key.slice(0, 23);
const AWAITING_ANSWER = 'This thread is waiting for an answer to a request (approve or deny it, or write a new message)';

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

/**
 * The tail of a statement that stores a user's message (a CTE `message` returning the new row's
 * thread_id, type and data): binds each attachment the message carries to the thread, storing it
 * as the message holds it (confirmed, where its bytes are kept). Only the caller's attachments
 * not sent before: one bound meanwhile by a concurrent message is left to that one.
 */
function bindAttachments(ctx: RequestContext) {
  return sql`
    UPDATE chatkit_attachments a SET data = jsonb_set(x.value, '{thread_id}', to_jsonb(m.thread_id))
    FROM message m CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN m.type = 'user_message' THEN m.data->'attachments' ELSE '[]'::jsonb END) x
    WHERE a.id = x.value->>'id' AND a.user_id = ${ctx.userId} AND a.thread_id IS NULL`;
}

/**
 * Constraint violations as the caller's errors: a taken id is a conflict; a thread deleted by a
 * concurrent statement (the item's foreign key no longer resolves) is not found.
 */
function rethrow(conflict: string) {
  return (error: unknown): never => {
    const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
    if (code === '23505') throw new ConflictError(conflict);
    if (code === '23503') throw new NotFoundError('thread');
    throw error;
  };
}
