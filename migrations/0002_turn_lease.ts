import { sql, type Kysely } from 'kysely';

// A turn's hold on its thread: one streamed answer at a time. `turn_id` names the holder (so only
// it releases the hold) and `turn_expires_at` ends a hold whose function died without releasing it.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE chatkit_threads ADD COLUMN turn_id text, ADD COLUMN turn_expires_at timestamptz`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE chatkit_threads DROP COLUMN turn_id, DROP COLUMN turn_expires_at`.execute(db);
}
