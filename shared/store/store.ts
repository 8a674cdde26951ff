import type { Attachment, FeedbackKind, Page, PageRequest, StoredThread, ThreadItem, ThreadMetadata } from '../protocol/index.js';

/** Who is asking. Every store call is scoped to this user. */
export interface RequestContext {
  userId: string;
}

/**
 * A turn's exclusive hold on its thread: while it lasts no other turn starts there. It ends when
 * the turn releases it or, if the process died first, after `seconds`.
 */
export interface TurnLease {
  id: string;
  seconds: number;
}

/** What a turn starts from, in the one statement that takes the lease. */
export interface TurnStart {
  lease: TurnLease;
  /** How many of the thread's latest items the history holds (the appended item included). */
  historyLimit: number;
  /**
   * The user's new message, appended to the thread (which then counts as active now). The
   * attachments it carries that were not sent before are bound to the thread by the same statement.
   */
  append?: ThreadItem | undefined;
  /** Answer this user message again: every later item is removed and the history ends with it. */
  retryAfter?: string | undefined;
  /**
   * This turn is the user's answer to the thread's paused turn: it takes the lease from it only
   * if it still waits, for `itemId`, with every one of `callIds` pending. A turn that appends a
   * user message takes the lease from a paused turn too (the message answers it instead).
   */
  answer?: PauseAnswer | undefined;
}

/** The user's answer to a paused turn: the item answered (its widget) and the calls it decides. */
export interface PauseAnswer {
  itemId: string;
  /** The calls it decides, each still pending; none: every call still pending. */
  callIds: string[];
}

/** A turn that stops to wait for its user's answer (tool calls waiting for approval). */
export interface TurnPause {
  /** The item whose actions answer it (a confirmation widget). */
  itemId: string;
  /** The calls the user may answer, by id. */
  pending: string[];
  /** The responder's own record of the paused run, opaque to the store. */
  state: string;
  /** How long it waits: the thread's lease is held as long; then it has expired. */
  seconds: number;
}

/** A paused turn as the turn that took it over receives it (it is gone from the store then). */
export interface PausedTurn {
  itemId: string;
  pending: string[];
  state: string;
  pausedAt: string;
  expiresAt: string;
  /** Its wait had run out when the turn took over. */
  expired: boolean;
}

/** What a turn leaves behind as it releases its thread. */
export interface TurnEnd {
  /** Given to the thread only if it has no title yet and the lease was still held. */
  title?: string | undefined;
  /** The turn's last item, appended as addThreadItem would (even if the lease expired meanwhile). */
  lastItem?: ThreadItem | undefined;
  /**
   * The turn stops to wait for its user's answer: stored with the thread, which stays held (the
   * lease renewed for `pause.seconds`) instead of released. Only while the turn holds the lease:
   * otherwise nothing is written, the last item included.
   */
  pause?: TurnPause | undefined;
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
  /**
   * The only way a thread comes to exist: with its first item (if any) atomically, so there is
   * never a thread without its first message, and held by `lease` when a turn starts with it.
   * The attachments the first message carries are bound to the thread in the same statement.
   */
  createThread(thread: ThreadMetadata, firstItem: ThreadItem | null, ctx: RequestContext, lease?: TurnLease): Promise<void>;
  /** Updates an existing thread; a deleted thread, or another user's, is "not found" (never recreated). */
  saveThread(thread: ThreadMetadata, ctx: RequestContext): Promise<void>;
  /**
   * Takes the thread's lease for a turn (ThreadBusyError if another turn holds it), appends the
   * user's message or removes what follows a retried one, and returns the thread with the
   * history the turn answers (oldest first, hidden items included, ending with the message).
   * A paused turn holding the lease yields it to an answer (`start.answer`; PauseNotPendingError
   * or PauseExpiredError when it does not wait for that answer) or to a new message; the paused
   * turn taken over, or one whose wait ran out, is removed and returned as `paused`.
   */
  beginTurn(threadId: string, start: TurnStart, ctx: RequestContext): Promise<{ thread: StoredThread; history: ThreadItem[]; paused: PausedTurn | null }>;
  /**
   * Releases the turn's lease (if it still holds it) and gives an untitled thread `title`; with
   * `lastItem`, also appends the turn's last item; with `pause`, stores it and keeps the lease;
   * all in the same statement. Returns the thread as stored, or null when the lease was not held
   * (without an item, or with a pause) or the thread no longer exists; with an item and no
   * pause, a missing thread is "not found" (the item could not be stored).
   */
  endTurn(threadId: string, leaseId: string, ctx: RequestContext, end?: TurnEnd): Promise<StoredThread | null>;
  /** Titles a thread that has no title yet (a title the user chose meanwhile wins). */
  setTitleIfUntitled(threadId: string, title: string, ctx: RequestContext): Promise<void>;
  /** The user's threads by latest activity (`desc`: newest first). */
  loadThreads(page: PageRequest, ctx: RequestContext): Promise<Page<StoredThread>>;
  /**
   * Deletes the thread with its items, feedback and its attachments (returned, so that their bytes
   * can go too): every one ever sent to it, those of messages a retry removed included.
   */
  deleteThread(threadId: string, ctx: RequestContext): Promise<Attachment[]>;
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
  /** Each named attachment once (duplicates collapse), in the order first named; any missing is not found. */
  loadAttachments(attachmentIds: readonly string[], ctx: RequestContext): Promise<Attachment[]>;
  /**
   * Deletes an attachment not sent in a message and returns it (for its bytes). One sent to a
   * thread is refused (ConflictError `attachment_in_use`): it goes with its thread.
   */
  deleteAttachment(attachmentId: string, ctx: RequestContext): Promise<Attachment>;
}
