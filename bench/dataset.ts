import { sql, type Kysely } from 'kysely';
import { positionCursor } from '../shared/store/pagination.js';
import type { Schema } from '../shared/store/schema.js';

export interface DatasetSize {
  /** Items in the whole table, and in the one deep thread. */
  items: number;
  deepItems: number;
  /** Threads in the whole table, and of the one bench user. */
  threads: number;
  userThreads: number;
}

export const BENCH_USER = 'bench-user';
export const DEEP_THREAD = 'thr_deep';
const BASE = '2026-01-01T00:00:00Z';

/** The cursor a page of the bench user's threads ending at thr_g gives (see the updated_at below). */
export function threadsCursorAt(g: number): string {
  const updated = new Date(Date.parse(BASE) + 365 * 86_400_000 - g * 1000).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
  return positionCursor.of(updated, `thr_${g}`);
}

/** Loads the dataset set-based (values are this module's constants, inlined as literals) (INSERT … SELECT generate_series), then VACUUM ANALYZE. */
export async function loadDataset(db: Kysely<Schema>, size: DatasetSize) {
  // The bench user's threads are thr_1 … thr_U, newest activity first; the rest belong to others.
  await sql`
    INSERT INTO chatkit_threads (id, user_id, data, created_at, updated_at)
    SELECT 'thr_' || g,
           CASE WHEN g <= ${sql.lit(size.userThreads)} THEN ${sql.lit(BENCH_USER)} ELSE 'user_' || (g % 50000) END,
           jsonb_build_object('id', 'thr_' || g, 'title', 'Thread ' || g, 'created_at', ${sql.lit(BASE)}, 'status', jsonb_build_object('type', 'active'), 'metadata', '{}'::jsonb),
           ${sql.lit(BASE)}::timestamptz,
           ${sql.lit(BASE)}::timestamptz + interval '1 year' - g * interval '1 second'
    FROM generate_series(1, ${sql.lit(size.threads)}) g`.execute(db);
  await sql`
    INSERT INTO chatkit_threads (id, user_id, data, created_at, updated_at)
    VALUES (${sql.lit(DEEP_THREAD)}, ${sql.lit(BENCH_USER)}, jsonb_build_object('id', ${sql.lit(DEEP_THREAD)}, 'created_at', ${sql.lit(BASE)}, 'status', jsonb_build_object('type', 'active'), 'metadata', '{}'::jsonb), ${sql.lit(BASE)}, ${sql.lit(BASE)})`.execute(db);
  // The deep thread first (it_1 … it_D in order), then the other items spread over other threads.
  await sql`
    INSERT INTO chatkit_thread_items (id, thread_id, type, content_text, data, created_at)
    SELECT 'it_' || g,
           CASE WHEN g <= ${sql.lit(size.deepItems)} THEN ${sql.lit(DEEP_THREAD)} ELSE 'thr_' || (${sql.lit(size.userThreads)} + 1 + g % GREATEST(${sql.lit(size.threads)} - ${sql.lit(size.userThreads)}, 1)) END,
           'user_message',
           'message number ' || g,
           jsonb_build_object('id', 'it_' || g, 'thread_id', 'x', 'type', 'user_message', 'created_at', ${sql.lit(BASE)},
             'content', jsonb_build_array(jsonb_build_object('type', 'input_text', 'text', 'message number ' || g || ' with a little more text to be realistic')),
             'attachments', '[]'::jsonb, 'inference_options', '{}'::jsonb),
           ${sql.lit(BASE)}::timestamptz + g * interval '1 millisecond'
    FROM generate_series(1, ${sql.lit(size.items)}) g`.execute(db);
  await sql`VACUUM ANALYZE`.execute(db);
}
