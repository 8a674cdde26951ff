import type { Kysely } from 'kysely';
import { NotFoundError } from '../shared/errors.js';
import type { StoredThread, ThreadItem, ThreadMetadata } from '../shared/protocol/index.js';
import { PostgresStore } from '../shared/store/postgres-store.js';
import type { Schema } from '../shared/store/schema.js';
import type { RequestContext, TurnEnd, TurnStart } from '../shared/store/store.js';
import { SeedStyleStore } from './seed-store.js';

/**
 * The baseline for a full turn through our ChatKitServer: the store calls of a turn go the way
 * the design sketch's server makes them, each in its own transaction — load_thread,
 * add_thread_item (the message), load_thread_items (the history), then add_thread_item (the
 * answer). It has no lease, so there is nothing to take or release. A turn uses no other call.
 */
export class SeedTurnStore extends PostgresStore {
  private readonly seed: SeedStyleStore;

  constructor(db: Kysely<Schema>) {
    super(db);
    this.seed = new SeedStyleStore(db);
  }

  override async beginTurn(threadId: string, start: TurnStart, ctx: RequestContext) {
    const row = await this.seed.loadThread(threadId, ctx.userId);
    if (!row) throw new NotFoundError('thread');
    if (start.append) await this.seed.addThreadItem(threadId, start.append);
    const page = await this.seed.loadItems(threadId, undefined, start.historyLimit);
    const thread: StoredThread = { ...(row.data as ThreadMetadata), updated_at: new Date(row.updated_at).toISOString() };
    return { thread, history: page.slice(0, start.historyLimit).reverse().map((item) => item.data as ThreadItem), paused: null };
  }

  override async addThreadItem(threadId: string, item: ThreadItem): Promise<void> {
    await this.seed.addThreadItem(threadId, item);
  }

  /** No lease to release; the turn's last item goes in as the sketch adds every item. */
  override async endTurn(threadId: string, _leaseId: string, _ctx: RequestContext, end: TurnEnd = {}): Promise<StoredThread | null> {
    if (end.lastItem) await this.seed.addThreadItem(threadId, end.lastItem);
    return null;
  }
}
