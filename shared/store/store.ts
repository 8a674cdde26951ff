import type { Attachment, FeedbackKind, Page, PageRequest, StoredThread, ThreadItem, ThreadMetadata } from '../protocol/index.js';

/** Who is asking. Every store call is scoped to this user. */
export interface RequestContext {
  userId: string;
}

export interface ItemPageRequest extends PageRequest {
  /** Hidden context items are for the model; clients never see them. Default false. */
  includeHidden?: boolean;
}

export interface ThreadSearchRequest {
  /**
   * What the user typed, read as web-search syntax (words, "a phrase", or, -word): never as raw
   * tsquery, so no character in it is an error.
   */
  q: string;
  limit?: number | undefined;
  /** The `id` of the last hit of the previous page. */
  after?: string | undefined;
  /** A thread to leave out, e.g. the conversation that is searching. */
  excludeThreadId?: string | undefined;
}

/** A thread that matches a search, with its best-matching item. */
export interface ThreadSearchHit {
  /** The thread's id. */
  id: string;
  title: string | null;
  /** The best-matching passage of that item, the matched words in **bold**. */
  snippet: string;
  item_id: string;
  /** When the best-matching item was written. */
  matched_at: string;
  created_at: string;
  updated_at: string;
  /** Relevance (ts_rank of the best-matching item): hits come highest first. */
  rank: number;
}

/**
 * Where threads, items, attachments and feedback live. A missing record and another user's
 * record are the same thing to the caller: a NotFoundError. Items round-trip exactly.
 */
export interface Store {
  loadThread(threadId: string, ctx: RequestContext): Promise<StoredThread>;
  /** The thread with the first page of its items (oldest first, hidden context excluded). */
  loadThreadWithItems(threadId: string, limit: number, ctx: RequestContext): Promise<{ thread: StoredThread; items: Page<ThreadItem> }>;
  /** A new thread with its first item, atomically: no thread without its first message. */
  createThread(thread: ThreadMetadata, firstItem: ThreadItem, ctx: RequestContext): Promise<void>;
  /** Insert or update; updating another user's thread is "not found". */
  saveThread(thread: ThreadMetadata, ctx: RequestContext): Promise<void>;
  /** The user's threads by latest activity (`desc`: newest first). */
  loadThreads(page: PageRequest, ctx: RequestContext): Promise<Page<StoredThread>>;
  deleteThread(threadId: string, ctx: RequestContext): Promise<void>;
  /** Full-text search over the text of the user's threads, most relevant thread first. */
  searchThreads(request: ThreadSearchRequest, ctx: RequestContext): Promise<Page<ThreadSearchHit>>;

  /** Items in insertion order (`asc`) or newest first (`desc`). */
  loadThreadItems(threadId: string, page: ItemPageRequest, ctx: RequestContext): Promise<Page<ThreadItem>>;
  /** Appends a new item and marks the thread active now. */
  addThreadItem(threadId: string, item: ThreadItem, ctx: RequestContext): Promise<void>;
  /** Insert or replace an item, keeping its place in the thread. */
  saveItem(threadId: string, item: ThreadItem, ctx: RequestContext): Promise<void>;
  loadItem(threadId: string, itemId: string, ctx: RequestContext): Promise<ThreadItem>;
  deleteThreadItem(threadId: string, itemId: string, ctx: RequestContext): Promise<void>;
  /** Removes every item that came after `itemId`; returns the removed ids in order. */
  deleteItemsAfter(threadId: string, itemId: string, ctx: RequestContext): Promise<string[]>;

  saveFeedback(threadId: string, itemIds: string[], kind: FeedbackKind, ctx: RequestContext): Promise<void>;

  saveAttachment(attachment: Attachment, ctx: RequestContext): Promise<void>;
  loadAttachment(attachmentId: string, ctx: RequestContext): Promise<Attachment>;
  deleteAttachment(attachmentId: string, ctx: RequestContext): Promise<void>;
}
