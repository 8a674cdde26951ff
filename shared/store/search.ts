import { sql, type Kysely } from 'kysely';
import { retryIfTerminated } from '../db/faults.js';
import { TooManyRequestsError } from '../errors.js';
import type { Page, ThreadMetadata } from '../protocol/index.js';
import { storableText } from './json.js';
import { invalidCursor, keyset, toPage } from './pagination.js';
import type { Schema } from './schema.js';
import type { RequestContext, ThreadSearchHit, ThreadSearchRequest } from './store.js';

// What one search may cost, whatever the user wrote and however long their history:

/** The searchable part of an item: its first characters (migration 0004 indexes exactly these). */
export const SEARCHABLE_CHARACTERS = 100_000;
/** Only the most recent matching messages are ranked (the ranking reads each one's vector). */
export const MAX_RANKED_MESSAGES = 1_000;
/** A snippet is cut from this many characters around the first match, not from the whole text. */
export const SNIPPET_WINDOW = 1_500;
/** Searches one user may have running at once, across every function instance; more are a 429. */
export const SEARCHES_PER_USER = 2;

/** How far before the first match the snippet's window starts. */
const SNIPPET_LEAD = 500;
/** The query words the snippet looks for: enough to find a match, few enough for a cheap regex. */
const LOCATOR_WORDS = 8;
const LOCATOR_WORD_LENGTH = 100;
/** The advisory-lock key space of search slots ('CKsr'): other applications' keys are not ours. */
export const SEARCH_LOCK_SPACE = 0x434b7372;
const HEADLINE_OPTIONS = 'StartSel=**, StopSel=**, MaxWords=30, MinWords=10, ShortWord=0, MaxFragments=2, FragmentDelimiter=" … "';

// The regular expressions that turn a tsquery into a locator of its words, as parameters (no
// escaping twice). `querytree` writes each searched lexeme quoted ('it''s'), negated ones left out.
const QUOTED_LEXEME = String.raw`'((?:[^']|'')+)'`;
const NOT_A_WORD_CHARACTER = String.raw`([^[:alnum:]_])`;
const ESCAPED = String.raw`\\\1`;
const STARTS_A_WORD = String.raw`^[[:alnum:]_]`;
const ENDS_A_WORD = String.raw`[[:alnum:]_]$`;
const WORD_START = String.raw`\m`;
const WORD_END = String.raw`\M`;

interface SearchRow {
  admitted: boolean;
  found: boolean;
  thread_id: string;
  data: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
  item_id: string;
  matched_at: Date;
  rank: number;
  snippet: string;
}

/**
 * Full-text search over a user's threads, one statement. Its cost is bounded: the query must
 * name a word to find (a query of only `-word` finds nothing, as in a web search, instead of
 * reading every message), at most MAX_RANKED_MESSAGES are ranked, each item's searchable text is
 * SEARCHABLE_CHARACTERS long, the snippet reads a window of it, and a user runs at most
 * SEARCHES_PER_USER at once (a transaction-level advisory lock, so it holds across function
 * instances and through PgBouncer; it is released when the statement ends, however it ends).
 */
export async function searchThreads(db: Kysely<Schema>, request: ThreadSearchRequest, ctx: RequestContext): Promise<Page<ThreadSearchHit>> {
  const { limit, after } = keyset(request);
  const text = storableText(request.q);
  const exclude = request.excludeThreadId ? sql`AND t.id <> ${storableText(request.excludeThreadId)}` : sql``;
  // `found` says whether the cursor is one of this search's hits: a page row with null data
  // beside it is an empty page, no row at all cannot happen (the cursor side is one row).
  const cursor =
    after === undefined
      ? { side: sql`SELECT true AS found`, filter: sql`` }
      : {
          side: sql`SELECT count(*) > 0 AS found FROM ranked WHERE thread_id = ${storableText(after)}`,
          filter: sql`WHERE (r.rank, r.updated_at, r.thread_id) < (SELECT c.rank, c.updated_at, c.thread_id FROM ranked c WHERE c.thread_id = ${storableText(after)})`,
        };
  const rows = await retryIfTerminated(async () => (await sql<SearchRow>`
    WITH query AS (
      -- querytree is 'T' for a query no index can answer (only excluded words) and '' for none.
      SELECT q, querytree(q) NOT IN ('', 'T') AS indexable, (
          SELECT string_agg(
                   CASE WHEN w ~ ${STARTS_A_WORD} THEN ${WORD_START} ELSE '' END
                   || regexp_replace(w, ${NOT_A_WORD_CHARACTER}, ${ESCAPED}, 'g')
                   || CASE WHEN w ~ ${ENDS_A_WORD} THEN ${WORD_END} ELSE '' END, '|')
          FROM (SELECT replace(m[1], '''''', '''') AS w FROM regexp_matches(querytree(q), ${QUOTED_LEXEME}, 'g') m) words
          WHERE length(w) <= ${LOCATOR_WORD_LENGTH} LIMIT ${LOCATOR_WORDS}
        ) AS locator
      FROM websearch_to_tsquery('simple', ${text}) q
    ), slot AS MATERIALIZED (
      -- The first free one of the user's slots, held until the statement ends; none: refused.
      SELECT n FROM generate_series(1, ${SEARCHES_PER_USER}::int) n
      WHERE pg_try_advisory_xact_lock(${SEARCH_LOCK_SPACE}::int, hashtext(${ctx.userId} || ':' || n))
      LIMIT 1
    ), matches AS (
      -- The thread's columns come along: joining the threads again for them, after the planner's
      -- estimate of a common word's matches, made it read the whole threads table.
      SELECT i.thread_id, i.id, i.seq, i.created_at, i.content_tsv, i.content_text,
             t.data AS thread_data, t.created_at AS thread_created_at, t.updated_at AS thread_updated_at
      FROM query, chatkit_threads t JOIN chatkit_thread_items i ON i.thread_id = t.id
      WHERE query.indexable AND EXISTS (SELECT 1 FROM slot)
        -- The query written out again, not query.q: the planner sees its words only here (the value is
        -- bound when the one-off statement is planned) and weighs a common word against the user's own
        -- items (their threads, then their items) instead of reading every user's that hold it (GIN).
        AND t.user_id = ${ctx.userId} AND i.content_tsv @@ websearch_to_tsquery('simple', ${text}) ${exclude}
      ORDER BY i.seq DESC LIMIT ${MAX_RANKED_MESSAGES}
    ), ranked AS (
      -- Each thread's best match.
      SELECT DISTINCT ON (m.thread_id) m.thread_id, m.id AS item_id, m.content_text, m.created_at AS matched_at,
             ts_rank(m.content_tsv, query.q) AS rank,
             m.thread_data AS data, m.thread_created_at AS created_at, m.thread_updated_at AS updated_at
      FROM matches m, query
      ORDER BY m.thread_id, rank DESC, m.seq DESC
    )
    SELECT EXISTS (SELECT 1 FROM slot) AS admitted, cursor.found,
           page.thread_id, page.data, page.created_at, page.updated_at, page.item_id, page.matched_at, page.rank,
           ts_headline('simple', substr(searched.text, greatest(1, located.at - ${SNIPPET_LEAD}), ${SNIPPET_WINDOW}), query.q, ${HEADLINE_OPTIONS}) AS snippet
    FROM (${cursor.side}) cursor
    CROSS JOIN query
    LEFT JOIN LATERAL (
      SELECT r.* FROM ranked r ${cursor.filter}
      ORDER BY r.rank DESC, r.updated_at DESC, r.thread_id DESC
      LIMIT ${limit + 1}
    ) page ON true
    -- The snippet: the searchable text's first match of a query word, and a window around it.
    LEFT JOIN LATERAL (SELECT left(page.content_text, ${SEARCHABLE_CHARACTERS}) AS text) searched ON true
    LEFT JOIN LATERAL (
      SELECT coalesce(regexp_instr(searched.text, query.locator, 1, 1, 0, 'i'), 0) AS at
    ) located ON true
    ORDER BY page.rank DESC, page.updated_at DESC, page.thread_id DESC`.execute(db)).rows);
  if (!rows[0]?.admitted) throw new TooManyRequestsError(`at most ${SEARCHES_PER_USER} searches run at once for a user; try again in a moment`, 'too_many_searches');
  if (!rows[0].found) throw invalidCursor();
  return toPage(
    rows.filter((row) => row.thread_id !== null),
    limit,
    (row): ThreadSearchHit => ({
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
