/**
 * A user's search against everyone's items: what one user's search costs as OTHER users' items
 * grow. Runs in `npm run bench`, or alone: `tsx bench/search-isolation.ts`.
 *
 * Before: the query filtered as it was, read from its CTE (`i.content_tsv @@ query.q`), which
 * hides the query's words from the planner: for a common word it read, through the GIN index,
 * every user's items that hold it. After: this code (the query written out where it filters).
 * "Before" is this code's own statement with that one clause put back (`QueryFromCte` below), so
 * the two differ in nothing else.
 */
import { sql, type KyselyPlugin, type RawNode, type RootOperationNode } from 'kysely';
import { openDatabase, type Database } from '../shared/db/connect.js';
import { migrateToLatest } from '../shared/db/migrate.js';
import { PostgresStore } from '../shared/store/postgres-store.js';
import { runAlone, type Report } from './report.js';
import { interleaved, median, ms } from './stats.js';
import { scratchDatabase } from './scratch-database.js';

const HEAVY = 'bench-isolation-heavy';
const LIGHT = 'bench-isolation-light';
/** Each other user: 10 threads of 20 messages; each message 40 words, "the" among them, "report" in every other. */
const THREADS_PER_OTHER = 10;
const ITEMS_PER_THREAD = 20;

export interface SearchIsolationOptions {
  serverUrl: string;
  scale: 'quick' | 'full';
  report: Report;
}

/**
 * Puts back the statement as it was: the query filtered from its CTE. Fails loudly if the
 * statement no longer has the clause, so that "before" can never silently equal "after".
 */
class QueryFromCte implements KyselyPlugin {
  private static readonly WRITTEN_OUT = "i.content_tsv @@ websearch_to_tsquery('simple', ";
  transformQuery({ node }: { node: RootOperationNode }): RootOperationNode {
    if (node.kind !== 'RawNode') return node;
    const raw = node as RawNode;
    const at = raw.sqlFragments.findIndex((fragment) => fragment.endsWith(QueryFromCte.WRITTEN_OUT));
    if (at < 0 || !raw.sqlFragments[at + 1]?.startsWith(')')) throw new Error('the search statement no longer filters on the written-out query: update bench/search-isolation.ts');
    // `… @@ websearch_to_tsquery('simple', $n) …` becomes `… @@ query.q AND ($n::text IS NOT NULL OR true) …`:
    // the parameter stays bound, and the added condition is always true.
    const fragments = [...raw.sqlFragments];
    fragments[at] = `${fragments[at]!.slice(0, -QueryFromCte.WRITTEN_OUT.length)}i.content_tsv @@ query.q AND (`;
    fragments[at + 1] = `::text IS NOT NULL OR true${fragments[at + 1]!}`;
    return { ...raw, sqlFragments: fragments } as RawNode;
  }
  async transformResult(args: { result: any }) {
    return args.result;
  }
}

export async function benchSearchIsolation({ serverUrl, scale, report }: SearchIsolationOptions) {
  const { say, table } = report;
  const iterations = scale === 'full' ? 10 : 4;
  const othersPerStep = scale === 'full' ? 2_000 : 500;
  const scratch = await scratchDatabase(serverUrl, 'chatkit_bench_isolation');
  let database: Database | undefined;
  try {
    database = await openDatabase({ url: scratch.url });
    const { db } = database;
    await migrateToLatest(db);
    await loadUser(db, HEAVY, 400, 25);
    await loadUser(db, LIGHT, 5, 10);
    const stores = { before: new PostgresStore(db.withPlugin(new QueryFromCte())), after: new PostgresStore(db) };
    const search = (store: PostgresStore, userId: string, q: string) => () => store.searchThreads({ q, limit: 20 }, { userId });

    const rows: Array<Array<string | number>> = [];
    const figures: Record<string, Record<string, number>> = {};
    for (const step of [1, 2]) {
      await loadOthers(db, othersPerStep, (step - 1) * othersPerStep);
      const others = step * othersPerStep * THREADS_PER_OTHER * ITEMS_PER_THREAD;
      for (const [who, userId, q] of [
        ['400 threads, 10,000 items', HEAVY, 'the'],
        ['400 threads, 10,000 items', HEAVY, 'report'],
        ['5 threads, 50 items', LIGHT, 'the'],
      ] as const) {
        const samples = await interleaved(iterations, { before: search(stores.before, userId, q), after: search(stores.after, userId, q) });
        const before = median(samples.before!);
        const after = median(samples.after!);
        figures[`${userId}/${q}/${others}`] = { before, after };
        rows.push([`${others.toLocaleString('en')}`, `a user with ${who}, q=${q}`, ms(before), ms(after), `${(before / after).toFixed(1)}×`]);
      }
    }
    say(`## A user's search against everyone's items: the store's searchThreads on PostgreSQL, ms median of ${iterations}`);
    say();
    say('Other users hold the items of the first column (10 threads of 20 messages each, every message with "the", every other with "report"); the searching user\'s own messages hold them too. Before: the query filtered from its CTE (the planner cannot see its words and reads every user\'s matching items through the GIN index); after: the query written out where it filters (the planner goes from the user\'s threads to their items). Each size is measured with both in alternation.');
    say();
    table(['items of other users', 'search', 'before', 'after', 'before ÷ after'], rows);
    return figures;
  } finally {
    await database?.close();
    await scratch.drop();
  }
}

/** Words of a 3,000-word vocabulary, picked from the item's number: deterministic, and common words common. */
const words = (item: ReturnType<typeof sql>) => sql`(
  SELECT 'the ' || CASE WHEN ${item}::bigint % 2 = 0 THEN 'report ' ELSE '' END || string_agg('w' || ((${item}::bigint * 7919 + k * 104729) % 3000), ' ')
  FROM generate_series(1, 38) k
)`;

async function loadUser(db: Database['db'], userId: string, threads: number, itemsPerThread: number) {
  await sql`
    INSERT INTO chatkit_threads (id, user_id, data, created_at)
    SELECT ${userId} || '_' || t, ${userId}, jsonb_build_object('title', 'Thread ' || t, 'status', '{"type":"active"}'::jsonb, 'metadata', '{}'::jsonb, 'id', ${userId} || '_' || t), now()
    FROM generate_series(1, ${threads}::int) t`.execute(db);
  await sql`
    INSERT INTO chatkit_thread_items (id, thread_id, type, content_text, data, created_at)
    SELECT ${userId} || '_' || t || '_' || i, ${userId} || '_' || t, 'user_message', ${words(sql`(t * 1000 + i)`)}, '{}'::jsonb, now()
    FROM generate_series(1, ${threads}::int) t, generate_series(1, ${itemsPerThread}::int) i`.execute(db);
  await sql`ANALYZE`.execute(db);
}

/** `count` more other users, numbered from `from`. */
async function loadOthers(db: Database['db'], count: number, from: number) {
  await sql`
    INSERT INTO chatkit_threads (id, user_id, data, created_at)
    SELECT 'o' || u || '_' || t, 'other-' || u, jsonb_build_object('title', 'Thread', 'status', '{"type":"active"}'::jsonb, 'metadata', '{}'::jsonb, 'id', 'o' || u || '_' || t), now()
    FROM generate_series(${from + 1}::int, ${from + count}::int) u, generate_series(1, ${THREADS_PER_OTHER}::int) t`.execute(db);
  await sql`
    INSERT INTO chatkit_thread_items (id, thread_id, type, content_text, data, created_at)
    SELECT 'o' || u || '_' || t || '_' || i, 'o' || u || '_' || t, 'user_message', ${words(sql`((u * ${THREADS_PER_OTHER}::int + t) * ${ITEMS_PER_THREAD}::int + i)`)}, '{}'::jsonb, now()
    FROM generate_series(${from + 1}::int, ${from + count}::int) u, generate_series(1, ${THREADS_PER_OTHER}::int) t, generate_series(1, ${ITEMS_PER_THREAD}::int) i`.execute(db);
  await sql`ANALYZE`.execute(db);
}

await runAlone(import.meta.url, benchSearchIsolation);
