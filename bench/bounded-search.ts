/**
 * Bounded search (issue 20): the searches that were slow for everyone, through GET /threads as
 * `npm run dev` serves it on PostgreSQL, before (the unbounded statement and index, baseline-search.ts)
 * and after, in the same run. Runs in `npm run bench`, or alone: `tsx bench/bounded-search.ts`.
 */
import { serve } from '@hono/node-server';
import jwt from 'jsonwebtoken';
import { sql, type Kysely } from 'kysely';
import { Migrator } from 'kysely/migration';
import type { AddressInfo } from 'node:net';
import { devTransport } from '../dev/transport.js';
import { migrations } from '../migrations/index.js';
import { authConfigFromEnv, createTokenVerifier } from '../shared/auth/index.js';
import { databaseOptionsFromEnv, openDatabase, type Database } from '../shared/db/connect.js';
import { listThreadsApp } from '../shared/http/rest-apps.js';
import { createLogger } from '../shared/log.js';
import { PostgresStore } from '../shared/store/postgres-store.js';
import type { Schema } from '../shared/store/schema.js';
import { UnboundedSearchStore } from './baseline-search.js';
import { runAlone, type Report } from './report.js';
import { interleaved, median, ms, percentile, time } from './stats.js';
import { scratchDatabase } from './scratch-database.js';

const HEAVY = 'bench-search-heavy';
const OTHER = 'bench-search-other';
const THREADS = 60;
/** Words per big message: about 800 KB of text. */
const WORDS = 145_000;
const SECRET = 'bench-search-secret-of-at-least-32-bytes';
const GOALS = { singleMs: 1_500, concurrentMs: 2_000 };

type Variant = 'before' | 'after';

export interface BoundedSearchOptions {
  serverUrl: string;
  scale: 'quick' | 'full';
  report: Report;
}

export async function benchBoundedSearch({ serverUrl, scale, report }: BoundedSearchOptions) {
  const { say, table } = report;
  const iterations = scale === 'full' ? 10 : 3;
  const concurrentSamples = scale === 'full' ? 12 : 5;
  const setups = {} as Record<Variant, Awaited<ReturnType<typeof setUp>>>;
  try {
    for (const variant of ['before', 'after'] as const) setups[variant] = await setUp(serverUrl, variant);
    const get = (variant: Variant, q: string, user = HEAVY) => fetch(`${setups[variant].url}/threads?q=${encodeURIComponent(q)}&limit=100`, { headers: { authorization: `Bearer ${token(user)}` } });
    // Every answer that is not the expected page is counted as a failure (the time is kept: a 503 after the timeout is what a user waited).
    const failures: Record<string, string[]> = {};
    const checked = (label: string, variant: Variant, q: string, expectHits: number) => async () => {
      const response = await get(variant, q);
      const body = (await response.json()) as { threads?: unknown[] };
      if (response.status !== 200 || body.threads?.length !== expectHits) (failures[`${label}/${variant}`] ??= []).push(String(response.status));
    };

    const needle = await interleaved(iterations, { before: checked('needle', 'before', 'needle', THREADS), after: checked('needle', 'after', 'needle', THREADS) });
    // Before: every thread lacks "zzzz", so all 60 are hits; after: a query with no word to find finds nothing.
    const negated = await interleaved(iterations, { before: checked('negated', 'before', '-zzzz', THREADS), after: checked('negated', 'after', '-zzzz', 0) });
    const concurrent = { before: await whileHeavy((q, user) => get('before', q, user), concurrentSamples), after: await whileHeavy((q, user) => get('after', q, user), concurrentSamples) };
    for (const variant of ['before', 'after'] as const) if (concurrent[variant].failures.length) failures[`concurrent/${variant}`] = concurrent[variant].failures;

    const verdict = (figure: number, goal: number) => (figure <= goal ? 'PASS' : 'MISS');
    const failed = (key: string) => (failures[key]?.length ? ` (${failures[key].length} failed: ${failures[key].join(', ')})` : '');
    const row = (label: string, key: string, samples: Record<Variant, number[]>, goal: number) => [
      label,
      `${ms(median(samples.before))} / ${ms(Math.max(...samples.before))}${failed(`${key}/before`)}`,
      `${ms(median(samples.after))} / ${ms(Math.max(...samples.after))}${failed(`${key}/after`)}`,
      `≤ ${goal}`,
      failures[`${key}/after`]?.length ? 'MISS' : verdict(Math.max(...samples.after), goal),
    ];
    say(`## Bounded search: ${THREADS} threads of one ~800 KB message each, GET /threads on the dev app over HTTP, PostgreSQL, ms median / max`);
    say();
    say('Before: the search statement and index as they were (every match ranked, `ts_headline` over each hit\'s whole text, a vector of the whole text, no per-user limit); after: this code.');
    say();
    table(
      ['case', 'before', 'after', 'goal (max)', 'result'],
      [
        row(`q=needle&limit=100 (${THREADS} hits), ${iterations} runs`, 'needle', needle, GOALS.singleMs),
        row(`q=-zzzz&limit=100 (before: ${THREADS} hits; after: none, no word to find), ${iterations} runs`, 'negated', negated, GOALS.singleMs),
        row(`another user's q=needle while 4 of the heavy user's run at once, ${concurrentSamples} samples`, 'concurrent', { before: concurrent.before.latencies, after: concurrent.after.latencies }, GOALS.concurrentMs),
      ],
    );
    const statuses = (counts: Map<number, number>) => [...counts].sort().map(([status, n]) => `${status}×${n}`).join(' ');
    say(`The heavy user's 4 concurrent loops meanwhile: before ${statuses(concurrent.before.heavy)}; after ${statuses(concurrent.after.heavy)} (429: past the user's search slots).`);
    say();
    return {
      needle: summary(needle),
      negated: summary(negated),
      concurrentOtherUser: summary({ before: concurrent.before.latencies, after: concurrent.after.latencies }),
      heavyStatuses: { before: Object.fromEntries(concurrent.before.heavy), after: Object.fromEntries(concurrent.after.heavy) },
      failures,
    };
  } finally {
    for (const setup of Object.values(setups)) await setup.close();
  }
}

function summary(samples: Record<Variant, number[]>) {
  return Object.fromEntries(Object.entries(samples).map(([variant, s]) => [variant, { p50: median(s), p90: percentile(s, 90), max: Math.max(...s) }]));
}

const token = (sub: string) => jwt.sign({ sub }, SECRET, { algorithm: 'HS256', expiresIn: '1h' });

/** The other user's search latencies while four loops of the heavy user's search run, and what those loops got. */
async function whileHeavy(search: (q: string, user?: string) => Promise<Response>, samples: number) {
  let running = true;
  const heavy = new Map<number, number>();
  const loops = Array.from({ length: 4 }, async () => {
    while (running) {
      const response = await search('needle');
      await response.arrayBuffer();
      heavy.set(response.status, (heavy.get(response.status) ?? 0) + 1);
    }
  });
  await new Promise((resolve) => setTimeout(resolve, 300));
  const latencies: number[] = [];
  const failures: string[] = [];
  for (let i = 0; i < samples; i++) {
    latencies.push(
      await time(async () => {
        const response = await search('needle', OTHER);
        if (response.status !== 200) failures.push(String(response.status));
        await response.arrayBuffer();
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  running = false;
  await Promise.all(loops);
  return { latencies, heavy, failures };
}

/** A database of its own on the server, migrated as the variant's code was, loaded, and served. */
async function setUp(serverUrl: string, variant: Variant) {
  const scratch = await scratchDatabase(serverUrl, `chatkit_bench_search_${variant}`);
  const { url } = scratch;
  // Migrated and loaded without a statement timeout (as migrations run), served as `npm run dev` opens it.
  const loading = await openDatabase(databaseOptionsFromEnv({ DATABASE_URL: url }, 'migrate'));
  try {
    const upTo = variant === 'before' ? '0003_search' : undefined;
    const provided = Object.fromEntries(Object.entries(migrations).filter(([key]) => !upTo || key <= upTo));
    const { error } = await new Migrator({ db: loading.db, provider: { getMigrations: async () => provided } }).migrateToLatest();
    if (error) throw error;
    await load(loading.db);
  } finally {
    await loading.close();
  }
  const database: Database = await openDatabase(databaseOptionsFromEnv({ DATABASE_URL: url }, 'app'));
  const store = variant === 'before' ? new UnboundedSearchStore(database.db) : new PostgresStore(database.db);
  const logger = createLogger('bench');
  logger.setLogLevel('ERROR');
  const { transport } = devTransport(createTokenVerifier(authConfigFromEnv({ JWT_SECRET: SECRET })));
  const app = listThreadsApp({ store, transport, logger, corsOrigins: ['*'] });
  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      await new Promise((resolve) => server.close(resolve));
      await database.close();
      await scratch.drop();
    },
  };
}

/**
 * The heavy user: 60 threads, each one message of ~800 KB (words of a 5,000-word vocabulary, so
 * that the unbounded vector of the baseline can hold it), "needle" 5,000 words in. The other
 * user: five short threads that say "needle".
 */
async function load(db: Kysely<Schema>) {
  const thread = (user: string) => sql`jsonb_build_object('title', 'Thread ' || g, 'status', '{"type":"active"}'::jsonb, 'metadata', '{}'::jsonb, 'id', ${user} || g)`;
  await sql`
    INSERT INTO chatkit_threads (id, user_id, data, created_at)
    SELECT ${HEAVY} || g, ${HEAVY}, ${thread(HEAVY)}, now() FROM generate_series(1, ${THREADS}) g
    UNION ALL
    SELECT ${OTHER} || g, ${OTHER}, ${thread(OTHER)}, now() FROM generate_series(1, 5) g`.execute(db);
  await sql`
    INSERT INTO chatkit_thread_items (id, thread_id, type, content_text, data, created_at)
    SELECT 'msg_' || ${HEAVY} || g, ${HEAVY} || g, 'user_message', big.text, '{}'::jsonb, now()
    FROM generate_series(1, ${THREADS}) g,
    LATERAL (
      SELECT string_agg(CASE WHEN k = 5000 THEN 'needle' ELSE 'w' || ((g * 7919 + k * 31) % 5000) END, ' ') AS text
      FROM generate_series(1, ${WORDS}) k
    ) big
    UNION ALL
    SELECT 'msg_' || ${OTHER} || g, ${OTHER} || g, 'user_message', 'where is the needle ' || g, '{}'::jsonb, now()
    FROM generate_series(1, 5) g`.execute(db);
  await sql`ANALYZE`.execute(db);
}

await runAlone(import.meta.url, benchBoundedSearch);
