import { sql, type Kysely } from 'kysely';

// The thread each attachment was sent to, so that deleting a thread finds every file ever bound to
// it — those of messages a retry removed as well — without reading its items. It is derived from
// the attachment's JSON (`thread_id`, set by the statement that stores the message), so the two
// can never disagree and rows written before this migration get it too. Adding a stored generated
// column rewrites the table once, under a lock: attachments are few next to items.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE chatkit_attachments ADD COLUMN thread_id text GENERATED ALWAYS AS (data->>'thread_id') STORED`.execute(db);
  await sql`CREATE INDEX chatkit_attachments_thread ON chatkit_attachments (thread_id) WHERE thread_id IS NOT NULL`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE chatkit_attachments DROP COLUMN thread_id`.execute(db);
}
