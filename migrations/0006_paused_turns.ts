import { sql, type Kysely } from 'kysely';

// A turn paused until its user answers (a tool call waiting for approval). At most one per
// thread: while it waits it holds the thread's turn lease (`turn_id` names the lease it holds,
// `expires_at` is also the lease's end), so no other turn starts there except the one that
// answers it or a new user message, which takes it over. `state` is the responder's own record
// of the paused run (opaque here, bounded by the server); `pending` lists the calls still
// waiting, so that an answer is checked inside the statement that takes the lease. It goes with
// its thread (ON DELETE CASCADE) and is deleted by the turn that takes it over.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE chatkit_paused_turns (
      thread_id   text PRIMARY KEY REFERENCES chatkit_threads (id) ON DELETE CASCADE,
      turn_id     text NOT NULL,
      item_id     text NOT NULL,
      pending     text[] NOT NULL,
      state       text NOT NULL,
      created_at  timestamptz NOT NULL DEFAULT now(),
      expires_at  timestamptz NOT NULL
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE chatkit_paused_turns`.execute(db);
}
