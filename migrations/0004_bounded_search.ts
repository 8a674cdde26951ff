import { sql, type Kysely } from 'kysely';

// The searchable text of an item is its first 100,000 characters.
//
// Unbounded, the vector of a long message of distinct words passed PostgreSQL's limit of 1 MiB
// of lexemes ("string is too long for tsvector"), and storing the message failed. 100,000
// characters are at most 400 KB of UTF-8, at most 600 KB lowercased: always under the limit,
// and the snippet (shared/store/search.ts) reads no more of the text than this either.
// shared/store/search.ts names the same number; this migration must never change it.
//
// PostgreSQL 15 and 16 cannot change a generated column's expression, so the column is made
// anew: like 0003, this rewrites the table once, under a lock.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE chatkit_thread_items DROP COLUMN content_tsv`.execute(db);
  await sql`
    ALTER TABLE chatkit_thread_items ADD COLUMN content_tsv tsvector
      GENERATED ALWAYS AS (
        CASE WHEN type IN ('hidden_context_item', 'sdk_hidden_context') THEN NULL
             ELSE to_tsvector('simple'::regconfig, left(coalesce(content_text, ''), 100000))
        END
      ) STORED`.execute(db);
  await sql`CREATE INDEX chatkit_thread_items_content_tsv ON chatkit_thread_items USING GIN (content_tsv)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE chatkit_thread_items DROP COLUMN content_tsv`.execute(db);
  await sql`
    ALTER TABLE chatkit_thread_items ADD COLUMN content_tsv tsvector
      GENERATED ALWAYS AS (
        CASE WHEN type IN ('hidden_context_item', 'sdk_hidden_context') THEN NULL
             ELSE to_tsvector('simple'::regconfig, coalesce(content_text, ''))
        END
      ) STORED`.execute(db);
  await sql`CREATE INDEX chatkit_thread_items_content_tsv ON chatkit_thread_items USING GIN (content_tsv)`.execute(db);
}
