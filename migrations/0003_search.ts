import { sql, type Kysely } from 'kysely';

// Full-text search over what users see in their conversations.
//
// The 'simple' configuration lowercases and splits words but neither stems nor drops stop words:
// people write in every language, and 'english' would stem German or Japanese words wrongly and
// ignore words such as "it" or "was" that may be exactly what someone remembers. A search finds
// the words as written ("invoice" does not find "invoices"); the same configuration must be
// named in every query (shared/store/postgres-store.ts), or the index is not used.
//
// Hidden context (model-only notes) gets no vector, so it can never be found. Adding a stored
// generated column rewrites the table once, under a lock: run it before the table is large, or
// in a quiet window.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE chatkit_thread_items ADD COLUMN content_tsv tsvector
      GENERATED ALWAYS AS (
        CASE WHEN type IN ('hidden_context_item', 'sdk_hidden_context') THEN NULL
             ELSE to_tsvector('simple'::regconfig, coalesce(content_text, ''))
        END
      ) STORED`.execute(db);
  await sql`CREATE INDEX chatkit_thread_items_content_tsv ON chatkit_thread_items USING GIN (content_tsv)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE chatkit_thread_items DROP COLUMN content_tsv`.execute(db);
}
