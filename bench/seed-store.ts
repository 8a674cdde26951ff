import { sql, type Kysely } from 'kysely';
import { itemPlainText, type ThreadItem } from '../shared/protocol/index.js';
import type { Schema } from '../shared/store/schema.js';

/**
 * The baseline: the store as the user's design sketch (a SQLModel session) works, on the same
 * tables. Every call opens a transaction (BEGIN … COMMIT), ownership is a separate query, a page
 * cursor is looked up by its own query before the page query, pages order by created_at, and
 * threads page by OFFSET.
 */
export class SeedStyleStore {
  constructor(private readonly db: Kysely<Schema>) {}

  loadThread(threadId: string, userId: string) {
    return this.db.transaction().execute((trx) =>
      trx.selectFrom('chatkit_threads').selectAll().where('id', '=', threadId).where('user_id', '=', userId).executeTakeFirst(),
    );
  }

  addItem(threadId: string, item: { id: string; type: string; text: string; created_at: string }) {
    return this.db.transaction().execute((trx) =>
      trx
        .insertInto('chatkit_thread_items')
        .values({ id: item.id, thread_id: threadId, type: item.type, content_text: item.text, data: JSON.stringify(item), created_at: item.created_at })
        .execute(),
    );
  }

  /** addItem for a whole ChatKit item (what a full turn stores and reads back as history). */
  addThreadItem(threadId: string, item: ThreadItem) {
    return this.db.transaction().execute((trx) =>
      trx
        .insertInto('chatkit_thread_items')
        .values({ id: item.id, thread_id: threadId, type: item.type, content_text: itemPlainText(item), data: JSON.stringify(item), created_at: item.created_at })
        .execute(),
    );
  }

  /** The seed's load_thread_items: cursor lookup, then the page by created_at. */
  loadItems(threadId: string, after: string | undefined, limit: number) {
    return this.db.transaction().execute(async (trx) => {
      let cursor: Date | undefined;
      if (after) {
        const row = await trx.selectFrom('chatkit_thread_items').select('created_at').where('id', '=', after).executeTakeFirst();
        cursor = row?.created_at;
      }
      let query = trx.selectFrom('chatkit_thread_items').select(['id', 'data', 'created_at']).where('thread_id', '=', threadId);
      if (cursor) query = query.where('created_at', '<', cursor);
      return query.orderBy('created_at', 'desc').limit(limit + 1).execute();
    });
  }

  /** The seed's list_user_threads: OFFSET paging by updated_at. */
  listThreads(userId: string, offset: number, limit: number) {
    return this.db.transaction().execute((trx) =>
      trx.selectFrom('chatkit_threads').selectAll().where('user_id', '=', userId).orderBy('updated_at', 'desc').limit(limit).offset(offset).execute(),
    );
  }

  /** The seed's delete_thread: load, then delete, in one session. */
  deleteThread(threadId: string, userId: string) {
    return this.db.transaction().execute(async (trx) => {
      const found = await trx.selectFrom('chatkit_threads').select('id').where('id', '=', threadId).where('user_id', '=', userId).executeTakeFirst();
      if (found) await trx.deleteFrom('chatkit_threads').where('id', '=', threadId).execute();
      return Boolean(found);
    });
  }

  /** OFFSET paging of items, the other common baseline. */
  loadItemsByOffset(threadId: string, offset: number, limit: number) {
    return sql`SELECT id, data FROM chatkit_thread_items WHERE thread_id = ${threadId} ORDER BY created_at DESC LIMIT ${limit + 1} OFFSET ${offset}`.execute(this.db);
  }
}

/** The seed's indexes, beside ours, so each query gets the index it was designed for. */
export async function createSeedIndexes(db: Kysely<Schema>) {
  await sql`CREATE INDEX IF NOT EXISTS idx_threads_user_id ON chatkit_threads (user_id)`.execute(db);
  await sql`CREATE INDEX IF NOT EXISTS idx_threads_updated_at ON chatkit_threads (updated_at DESC)`.execute(db);
  await sql`CREATE INDEX IF NOT EXISTS idx_items_created_at ON chatkit_thread_items (thread_id, created_at)`.execute(db);
}
