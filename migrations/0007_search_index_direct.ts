import { sql, type Kysely } from 'kysely';

// Words go into the search index with the item that holds them, not into a pending list.
//
// With GIN's default `fastupdate`, an insert appends its words to a pending list, and whichever
// insert finds the list past `gin_pending_list_limit` (4 MB) merges all of it inside its own
// statement. One user writing long messages of distinct words (each up to ~12,500 new words)
// grew that list faster than merges kept up: another user's one-line message then paid for the
// merge, ran past the statement timeout, and was a 503, again and again. Off, each insert pays
// for its own words: ~70 ms for a 100,000-character message of distinct words, under a
// millisecond for a short one, on this project's machines.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER INDEX chatkit_thread_items_content_tsv SET (fastupdate = off)`.execute(db);
  // Turning it off does not flush what already waits.
  await sql`SELECT gin_clean_pending_list('chatkit_thread_items_content_tsv'::regclass)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER INDEX chatkit_thread_items_content_tsv RESET (fastupdate)`.execute(db);
}
