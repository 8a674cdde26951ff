import { Kysely, PostgresDialect, sql, type CompiledQuery } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../shared/store/postgres-store.js';
import type { Schema } from '../../shared/store/schema.js';
import { createMigratedDatabase, type TestDatabase } from '../support/backends.js';
import type { Database } from '../../shared/db/connect.js';

// What a search reads, pinned by its plan rather than its time: a user's search for a word in
// nearly every message must start from the user's own threads. Reading the search index for
// such a word reads every user's messages that hold it, a cost that grows with other users'
// histories (bench/search-isolation.ts measures it). The statement is the store's own, as sent
// (with its parameters), explained by PostgreSQL on 20,000 messages of other users.

const HEAVY = 'plan-heavy';
let testDb: TestDatabase;
let database: Database;
let pool: pg.Pool;
let sent: CompiledQuery | undefined;
let store: PostgresStore;

beforeAll(async () => {
  ({ testDb, database } = await createMigratedDatabase());
  // 1,000 other users with 4 threads of 5 messages; the heavy user with 200 threads of 5. Every
  // message says "the"; the rest are words of a 3,000-word vocabulary.
  await sql`
    INSERT INTO chatkit_threads (id, user_id, data, created_at)
    SELECT 'o' || u || '_' || t, 'other-' || u, jsonb_build_object('title', 'T', 'status', '{"type":"active"}'::jsonb, 'metadata', '{}'::jsonb, 'id', 'o' || u || '_' || t), now()
    FROM generate_series(1, 1000) u, generate_series(1, 4) t
    UNION ALL
    SELECT 'h_' || t, ${HEAVY}, jsonb_build_object('title', 'T', 'status', '{"type":"active"}'::jsonb, 'metadata', '{}'::jsonb, 'id', 'h_' || t), now()
    FROM generate_series(1, 200) t`.execute(database.db);
  await sql`
    INSERT INTO chatkit_thread_items (id, thread_id, type, content_text, data, created_at)
    SELECT th.id || '_' || i, th.id, 'user_message',
           (SELECT 'the ' || string_agg('w' || ((hashtext(th.id)::bigint + i * 7919 + k * 104729) % 3000 + 3000) % 3000, ' ') FROM generate_series(1, 20) k),
           '{}'::jsonb, now()
    FROM chatkit_threads th, generate_series(1, 5) i`.execute(database.db);
  await sql`ANALYZE`.execute(database.db);
  pool = new pg.Pool({ connectionString: testDb.url, max: 1 });
  store = new PostgresStore(new Kysely<Schema>({ dialect: new PostgresDialect({ pool }), log: (event) => void (sent = event.query) }));
});
afterAll(async () => {
  await pool?.end();
  await database?.close();
  await testDb?.drop();
});

/** The plan PostgreSQL makes for the statement the store sent, with the same parameters (a one-off plan, as the store's own). */
async function planOfLastSearch(): Promise<string> {
  const { rows } = await pool.query(`EXPLAIN (FORMAT JSON) ${sent!.sql}`, [...sent!.parameters]);
  return JSON.stringify(rows[0]['QUERY PLAN']);
}

describe("a user's search, by its plan", () => {
  it("for a word in nearly every message, goes from the user's own threads to their messages, never through the search index across users", async () => {
    const page = await store.searchThreads({ q: 'the', limit: 20 }, { userId: HEAVY });
    expect(page.data).toHaveLength(20);
    const plan = await planOfLastSearch();
    expect(plan).not.toContain('"Index Name":"chatkit_thread_items_content_tsv"');
    expect(plan).toMatch(/"Relation Name":"chatkit_threads"/);
  });
});
