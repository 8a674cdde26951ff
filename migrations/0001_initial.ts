import { sql, type Kysely } from 'kysely';

// Plain SQL that PostgreSQL 15 (local), 16/17 (Neon) and 18 (PGlite) all accept.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE chatkit_threads (
      id          text PRIMARY KEY,
      user_id     text NOT NULL,
      data        jsonb NOT NULL,
      created_at  timestamptz NOT NULL,
      updated_at  timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  // A user's threads by latest activity, paged by keyset (updated_at, id), both directions.
  await sql`CREATE INDEX chatkit_threads_user_activity ON chatkit_threads (user_id, updated_at, id)`.execute(db);

  await sql`
    CREATE TABLE chatkit_thread_items (
      id            text PRIMARY KEY,
      thread_id     text NOT NULL REFERENCES chatkit_threads (id) ON DELETE CASCADE,
      seq           bigint GENERATED ALWAYS AS IDENTITY,
      type          text NOT NULL,
      content_text  text,
      data          jsonb NOT NULL,
      created_at    timestamptz NOT NULL
    )`.execute(db);
  // A thread's items in insertion order, paged by keyset on seq; also serves the cascade delete.
  await sql`CREATE UNIQUE INDEX chatkit_thread_items_thread_seq ON chatkit_thread_items (thread_id, seq)`.execute(db);

  await sql`
    CREATE TABLE chatkit_attachments (
      id          text PRIMARY KEY,
      user_id     text NOT NULL,
      data        jsonb NOT NULL,
      created_at  timestamptz NOT NULL DEFAULT now()
    )`.execute(db);

  await sql`
    CREATE TABLE chatkit_item_feedback (
      item_id     text NOT NULL REFERENCES chatkit_thread_items (id) ON DELETE CASCADE,
      user_id     text NOT NULL,
      thread_id   text NOT NULL REFERENCES chatkit_threads (id) ON DELETE CASCADE,
      kind        text NOT NULL CHECK (kind IN ('positive', 'negative')),
      created_at  timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (item_id, user_id)
    )`.execute(db);
  await sql`CREATE INDEX chatkit_item_feedback_thread ON chatkit_item_feedback (thread_id)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE chatkit_item_feedback, chatkit_attachments, chatkit_thread_items, chatkit_threads`.execute(db);
}
