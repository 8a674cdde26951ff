import { sql } from 'kysely';
import { retryIfTerminated } from '../shared/db/faults.js';
import type { Page, ThreadMetadata } from '../shared/protocol/index.js';
import { storableText } from '../shared/store/json.js';
import { invalidCursor, keyset, toPage } from '../shared/store/pagination.js';
import { PostgresStore } from '../shared/store/postgres-store.js';
import type { RequestContext, ThreadSearchHit, ThreadSearchRequest } from '../shared/store/store.js';

/**
 * The baseline of the bounded-search section: search as it was before issue 20 (commit ea260ac),
 * over a database migrated to 0003 (a vector of the whole text): every matching message ranked,
 * `ts_headline` over each hit's whole text, a query of only excluded words reading every message,
 * no limit on one user's concurrent searches.
 */
export class UnboundedSearchStore extends PostgresStore {
  constructor(private readonly database: ConstructorParameters<typeof PostgresStore>[0]) {
    super(database);
  }

  override async searchThreads(request: ThreadSearchRequest, ctx: RequestContext): Promise<Page<ThreadSearchHit>> {
    const { limit, after } = keyset(request);
    const cursor =
      after === undefined
        ? { side: sql`SELECT true AS found`, filter: sql`` }
        : {
            side: sql`SELECT count(*) > 0 AS found FROM ranked WHERE thread_id = ${storableText(after)}`,
            filter: sql`WHERE (r.rank, r.updated_at, r.thread_id) < (SELECT c.rank, c.updated_at, c.thread_id FROM ranked c WHERE c.thread_id = ${storableText(after)})`,
          };
    const rows = await retryIfTerminated(async () => {
      const { rows } = await sql<any>`
        WITH query AS (
          SELECT websearch_to_tsquery('simple', ${storableText(request.q)}) AS q
        ), best AS (
          SELECT DISTINCT ON (i.thread_id) i.thread_id, i.id AS item_id, i.content_text, i.created_at AS matched_at,
                 ts_rank(i.content_tsv, query.q) AS rank
          FROM query, chatkit_threads t JOIN chatkit_thread_items i ON i.thread_id = t.id
          WHERE t.user_id = ${ctx.userId} AND i.content_tsv @@ query.q
          ORDER BY i.thread_id, rank DESC, i.seq DESC
        ), ranked AS (
          SELECT b.*, t.data, t.created_at, t.updated_at FROM best b JOIN chatkit_threads t ON t.id = b.thread_id
        )
        SELECT cursor.found, page.thread_id, page.data, page.created_at, page.updated_at, page.item_id, page.matched_at, page.rank,
               ts_headline('simple', page.content_text, query.q,
                 'StartSel=**, StopSel=**, MaxWords=30, MinWords=10, ShortWord=0, MaxFragments=2, FragmentDelimiter=" … "') AS snippet
        FROM (${cursor.side}) cursor
        CROSS JOIN query
        LEFT JOIN LATERAL (
          SELECT r.* FROM ranked r ${cursor.filter}
          ORDER BY r.rank DESC, r.updated_at DESC, r.thread_id DESC
          LIMIT ${limit + 1}
        ) page ON true
        ORDER BY page.rank DESC, page.updated_at DESC, page.thread_id DESC`.execute(this.database);
      return rows;
    });
    if (!rows[0]?.found) throw invalidCursor();
    return toPage(
      rows.filter((row: any) => row.thread_id !== null),
      limit,
      (row: any): ThreadSearchHit => ({
        id: row.thread_id,
        title: (row.data as ThreadMetadata).title ?? null,
        snippet: row.snippet,
        item_id: row.item_id,
        matched_at: new Date(row.matched_at).toISOString(),
        created_at: new Date(row.created_at).toISOString(),
        updated_at: new Date(row.updated_at).toISOString(),
        rank: Number(row.rank),
      }),
    );
  }
}
