import type { ColumnType, Generated, GeneratedAlways } from 'kysely';

/** Kysely's view of the tables that `migrations/` creates. */
export interface Schema {
  chatkit_threads: ThreadsTable;
  chatkit_thread_items: ThreadItemsTable;
  chatkit_attachments: AttachmentsTable;
  chatkit_item_feedback: ItemFeedbackTable;
  chatkit_paused_turns: PausedTurnsTable;
}

type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** A timestamp the database fills in when an insert leaves it out. */
type DefaultedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T = unknown> = ColumnType<T, string, string>;

export interface ThreadsTable {
  id: string;
  user_id: string;
  /** The whole Thread as the protocol defines it, minus `items`. */
  data: Json<Record<string, unknown>>;
  created_at: Timestamp;
  /** Last activity: bumped by every item added. Orders a user's threads. */
  updated_at: DefaultedTimestamp;
  /** The turn that holds the thread (one streamed answer at a time), until `turn_expires_at`. */
  turn_id: ColumnType<string | null, string | null | undefined, string | null>;
  turn_expires_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface ThreadItemsTable {
  id: string;
  thread_id: string;
  /** Insertion order: the stable key items are ordered and paged by. */
  seq: Generated<string>;
  type: string;
  /** Plain-text projection of the item's content (null when it has none). */
  content_text: string | null;
  /** Full-text vector of content_text ('simple' configuration); null for hidden context. */
  content_tsv: GeneratedAlways<string | null>;
  data: Json<Record<string, unknown>>;
  created_at: Timestamp;
}

export interface AttachmentsTable {
  id: string;
  user_id: string;
  data: Json<Record<string, unknown>>;
  /** The thread it was sent to (`data->>'thread_id'`); null until a message carries it. */
  thread_id: GeneratedAlways<string | null>;
  created_at: DefaultedTimestamp;
}

export interface ItemFeedbackTable {
  thread_id: string;
  item_id: string;
  user_id: string;
  kind: 'positive' | 'negative';
  created_at: Generated<Date>;
}

/** A turn waiting for its user's answer (migration 0004); it holds the thread's lease meanwhile. */
export interface PausedTurnsTable {
  thread_id: string;
  /** The lease it holds: the thread's `turn_id` while it waits. */
  turn_id: string;
  /** The item whose actions answer it. */
  item_id: string;
  /** The calls still waiting for an answer. */
  pending: string[];
  /** The responder's record of the paused run, opaque to the store. */
  state: string;
  created_at: DefaultedTimestamp;
  expires_at: Timestamp;
}
