import { databaseFault } from '../db/faults.js';
import { ClientError, ConflictError, NotFoundError, ServerStopping } from '../errors.js';
import type { IdGenerator } from '../ids.js';
import type { AssistantMessageItem, StoredThread, ThreadItem, ThreadStreamEvent, UserMessageItem } from '../protocol/index.js';
import { DEFAULT_PAUSE_SECONDS, type PauseRequest, type ResumedPause } from '../responder/paused-turn.js';
import { fallbackTitle, type Responder } from '../responder/responder.js';
import type { RequestContext, Store, TurnEnd, TurnLease } from '../store/store.js';
import { clientEvent, clientThread } from './client-json.js';
import { markLast } from './last-event.js';

/** The note a cancelled turn leaves for the model, so the next turn does not carry on the old answer. */
export const CANCELLED_NOTE = 'The user cancelled the previous response before it finished; do not continue it unless asked.';
/** The note an interrupted turn leaves: the user was told and may ask again. */
export const INTERRUPTED_NOTE = 'The previous response was cut off by the server before it finished; the user was told it was interrupted.';

/**
 * What the user reads when the model refuses the turn's input as longer than its context window:
 * with the history bounded (CHATKIT_HISTORY_MAX_CHARS), that is the message itself with its
 * attachments. Sending it again would fail the same way, so there is no retry; a shorter message
 * is answered (the long one is left out of later turns' input first).
 */
export const CONTEXT_TOO_LONG_MESSAGE = 'This message is too long for the model to read, with its attachments. Send a shorter message, or fewer or smaller files.';

const DEFAULT_LAST_ITEM_WAIT_MS = 25;
/** Attempts at writing an item the client was shown as done, across dropped connections. */
const DONE_WRITE_ATTEMPTS = 3;

/** One streamed answer: what it answers and what it holds. */
export interface Turn {
  thread: StoredThread;
  /** The message being answered; null after a tool output or a structured input. */
  item: UserMessageItem | null;
  history: ThreadItem[];
  lease: TurnLease | null;
  /** Events already true in the store, sent before `stream_options`. */
  prefix: ThreadStreamEvent[];
  /** The paused turn this turn took over, and how it was resolved. */
  resumed?: ResumedPause | null | undefined;
  /** Set by the responder: the turn ends waiting for its user's answer. */
  pause?: PauseRequest | null | undefined;
}

export interface TurnRunnerOptions {
  store: Store;
  responder: Responder;
  ids: IdGenerator;
  /** See ChatKitServerOptions. */
  lastItemWaitMs?: number | undefined;
  pauseSeconds?: number | undefined;
  seesClientLeave?: boolean | undefined;
  onError?: ((message: string, error: unknown) => void) | undefined;
}

/**
 * A turn from its first event to the release of its thread: what the producer streams is
 * persisted as it is shown, and the turn ends the same way whatever happens (see `run`).
 */
export class TurnRunner {
  private readonly store: Store;
  private readonly responder: Responder;
  private readonly ids: IdGenerator;

  constructor(private readonly options: TurnRunnerOptions) {
    this.store = options.store;
    this.responder = options.responder;
    this.ids = options.ids;
  }

  /**
   * Forwards the producer's events, persisting what they say, and keeps the thread in step.
   * Ends the same way whatever happens: a client that left gets its partial answer kept and a
   * hidden note; a server stop tells the client what was kept; an error is one `error` event;
   * the lease is released and a title that came in time is sent.
   */
  async *run(
    turn: Turn,
    ctx: RequestContext,
    outer: AbortSignal,
    waitUntil: ((work: Promise<unknown>) => void) | undefined,
    produce: (signal: AbortSignal) => AsyncIterable<ThreadStreamEvent>,
  ): AsyncGenerator<ThreadStreamEvent> {
    const { thread } = turn;
    // The server's own reason to stop the producer: a failed write (the thread was deleted).
    const failed = new AbortController();
    const signal = AbortSignal.any([outer, failed.signal]);
    const pending = new Map<string, ThreadItem>();
    const title = turn.item && !thread.title ? this.startTitle(turn.item, signal) : null;
    let saved = threadState(thread);
    let released = false;
    // The turn's last item when it is a done item: stored with the thread's release, then shown.
    let last: Extract<ThreadStreamEvent, { type: 'thread.item.done' }> | null = null;
    const apply = async function* (this: TurnRunner, event: ThreadStreamEvent): AsyncGenerator<ThreadStreamEvent> {
      await this.persist(thread.id, event, pending, ctx);
      const visible = clientEvent(event);
      if (visible) yield visible;
      // After the event that changed it, as the reference orders it.
      if (threadState(thread) !== saved) {
        await this.store.saveThread(thread, ctx);
        saved = threadState(thread);
        yield { type: 'thread.updated', thread: clientThread(thread) };
      }
    }.bind(this);
    try {
      for (const event of turn.prefix) yield clientEvent(event)!;
      yield { type: 'stream_options', stream_options: { allow_cancel: await this.allowCancel(thread) } };
      try {
        const endsWithDone = (event: ThreadStreamEvent) => turn.lease !== null && event.type === 'thread.item.done';
        for await (const { value: event, last: isLast } of markLast(produce(signal), endsWithDone, (this.options.lastItemWaitMs ?? DEFAULT_LAST_ITEM_WAIT_MS))) {
          if (signal.aborted) break;
          if (isLast && event.type === 'thread.item.done') last = event;
          else yield* apply(event);
        }
        // A turn stopped meanwhile stores its last item the ordinary way, before what a stop keeps;
        // a stopped turn does not pause, so the prompt of its pause, which nothing would answer, goes.
        if (last && outer.aborted) {
          const stopped = last;
          last = null;
          if (stopped.item.id !== turn.pause?.itemId) {
            for await (const event of apply(stopped)) if (outer.reason instanceof ServerStopping) yield event;
          }
        }
      } catch (error) {
        if (!outer.aborted) {
          failed.abort(error);
          yield this.errorEvent(error);
        }
      }

      if (outer.aborted && outer.reason instanceof ServerStopping) {
        yield* this.keepInterruptedTurn(thread.id, pending, ctx);
      } else if (outer.aborted) {
        await this.keepCancelledTurn(thread, pending, ctx);
      }
      if (turn.lease) {
        const ready = title && !outer.aborted ? title.value() : undefined;
        // Only a turn that ran to its end pauses; a stopped or failed one releases its thread.
        const pause = turn.pause && !signal.aborted ? { ...turn.pause, seconds: this.options.pauseSeconds ?? DEFAULT_PAUSE_SECONDS } : undefined;
        let stored: StoredThread | null;
        try {
          stored = await this.endTurn(thread, turn.lease, ctx, { title: ready, lastItem: last?.item, pause });
          released = true;
        } catch (error) {
          // The last item could not be stored: the client is not shown it as done.
          failed.abort(error);
          yield this.errorEvent(error);
          return;
        }
        if (pause && !stored) {
          // The turn outlived its lease: nothing was stored, and nothing waits for an answer.
          yield { type: 'error', code: 'custom', message: 'This request could not be kept waiting for your answer; please ask again.', allow_retry: true };
          return;
        }
        if (last) {
          pending.delete(last.item.id);
          yield clientEvent(last)!;
        }
        if (ready !== undefined && stored?.title && stored.title !== thread.title) {
          thread.title = stored.title;
          yield { type: 'thread.updated', thread: clientThread(thread) };
        } else if (title && ready === undefined && !signal.aborted) {
          // The answer is done and the title is not: the stream closes now; the title lands later.
          const late = title.promise.then((text) => this.store.setTitleIfUntitled(thread.id, text, ctx));
          waitUntil?.(late.catch((error) => this.options.onError?.('could not save the title', error)));
        }
      }
    } finally {
      if (turn.lease && !released) await this.release(thread.id, turn.lease, ctx);
    }
  }

  /**
   * Ends the turn: the lease released, a title that came in time, and the last item, in one
   * statement. With an item it is retried as any done item is (idempotent by id); without one,
   * a failure leaves the lease to expire.
   */
  private endTurn(thread: StoredThread, lease: TurnLease, ctx: RequestContext, end: TurnEnd): Promise<StoredThread | null> {
    if (!end.lastItem) return this.store.endTurn(thread.id, lease.id, ctx, end);
    // A conflict on a retry means an earlier attempt committed: with a pause, the thread paused then.
    return this.storedOnce(() => this.store.endTurn(thread.id, lease.id, ctx, end), end.pause ? thread : null);
  }

  private startTitle(item: UserMessageItem, signal: AbortSignal) {
    const text = item.content.map((part) => part.text).join('');
    let value: string | undefined;
    const promise = this.responder.title(text, signal).catch(() => fallbackTitle(text));
    void promise.then((title) => (value = title));
    return { promise, value: () => value };
  }

  private errorEvent(error: unknown): ThreadStreamEvent {
    if (error instanceof NotFoundError) {
      return { type: 'error', code: 'custom', message: 'This conversation was deleted while the answer was being written.', allow_retry: false };
    }
    if (isContextLengthExceeded(error)) {
      this.options.onError?.('the model refused the input: context_length_exceeded (longer than its context window)', error);
      return { type: 'error', code: 'custom', message: CONTEXT_TOO_LONG_MESSAGE, allow_retry: false };
    }
    if (!(error instanceof ClientError)) this.options.onError?.('the turn failed', error);
    return { type: 'error', code: 'stream.error', allow_retry: true };
  }

  /** Writes happen when an item is done, replaced or removed: never per delta. */
  private async persist(threadId: string, event: ThreadStreamEvent, pending: Map<string, ThreadItem>, ctx: RequestContext) {
    switch (event.type) {
      case 'thread.item.added':
        pending.set(event.item.id, structuredClone(event.item));
        break;
      case 'thread.item.updated': {
        const shown = pending.get(event.item_id);
        const update = event.update;
        // What a cancelled turn hands its responder: partial answers and workflows as they last were.
        if (shown?.type === 'workflow' && (update.type === 'workflow.task.added' || update.type === 'workflow.task.updated')) {
          shown.workflow.tasks[update.task_index] = structuredClone(update.task);
          break;
        }
        if (shown?.type !== 'assistant_message') break;
        const message = shown;
        if (update.type === 'assistant_message.content_part.added' || update.type === 'assistant_message.content_part.done') {
          message.content[update.content_index] = structuredClone(update.content);
        } else if (update.type === 'assistant_message.content_part.text_delta') {
          const part = (message.content[update.content_index] ??= { type: 'output_text', text: '', annotations: [] });
          part.text += update.delta;
        } else if (update.type === 'assistant_message.content_part.annotation_added') {
          message.content[update.content_index]?.annotations.splice(update.annotation_index, 0, update.annotation);
        }
        break;
      }
      case 'thread.item.done':
        pending.delete(event.item.id);
        await this.addDoneItem(threadId, event.item, ctx);
        break;
      case 'thread.item.replaced':
        pending.delete(event.item.id);
        await this.store.saveItem(threadId, event.item, ctx);
        break;
      case 'thread.item.removed':
        pending.delete(event.item_id);
        // An item shown but never stored (still streaming when the responder takes it back) has
        // no row: nothing to delete, as a DELETE of no rows in the reference's stores.
        await this.store.deleteThreadItem(threadId, event.item_id, ctx).catch((error: unknown) => {
          if (!(error instanceof NotFoundError)) throw error;
        });
        break;
    }
  }

  /**
   * An item the client is about to be shown as done must be stored: the write is tried again,
   * on a new connection, when the connection drops or times out under it. It is idempotent by
   * id, so a conflict on a later attempt means an earlier one did commit.
   */
  private addDoneItem(threadId: string, item: ThreadItem, ctx: RequestContext): Promise<void> {
    return this.storedOnce(() => this.store.addThreadItem(threadId, item, ctx), undefined);
  }

  /** Runs a write that stores a done item until it succeeds, a conflict shows an earlier attempt did, or it fails for good. */
  private async storedOnce<T>(write: () => Promise<T>, committedEarlier: T): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await write();
      } catch (error) {
        if (attempt > 1 && error instanceof ConflictError) return committedEarlier;
        if (attempt === DONE_WRITE_ATTEMPTS || databaseFault(error) === null) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 * 4 ** (attempt - 1)));
      }
    }
  }

  /** Non-empty partial answers, as they were when the stream stopped. */
  private partialAnswers(pending: Map<string, ThreadItem>): AssistantMessageItem[] {
    return [...pending.values()]
      .filter((item): item is AssistantMessageItem => item.type === 'assistant_message')
      .map((message) => ({ ...message, content: message.content.filter((part) => part && part.text.trim().length > 0) }))
      .filter((message) => message.content.length > 0);
  }

  /** What a cancelled turn keeps: the responder's choice, else its non-empty partial answers and a hidden note. */
  private async keepCancelledTurn(thread: StoredThread, pending: Map<string, ThreadItem>, ctx: RequestContext) {
    const keepDefault = async () => {
      for (const message of this.partialAnswers(pending)) await this.addDoneItem(thread.id, message, ctx);
      await this.store.addThreadItem(thread.id, this.hiddenNote(thread.id, CANCELLED_NOTE), ctx);
    };
    try {
      if (this.responder.cancelled) await this.responder.cancelled({ thread, pending: [...pending.values()].map((item) => structuredClone(item)), store: this.store, ctx, keepDefault });
      else await keepDefault();
    } catch (error) {
      this.options.onError?.('could not save the cancelled turn', error);
    }
  }

  /**
   * Whether the client may stop the turn: never where a stop goes unseen (the transport cannot
   * tell that the client left); else the responder's say, or the default when it cannot answer
   * (it failed to load).
   */
  private async allowCancel(thread: StoredThread): Promise<boolean> {
    if (this.options.seesClientLeave === false) return false;
    try {
      return (await this.responder.allowCancel?.(thread)) ?? true;
    } catch {
      return true;
    }
  }

  /** The server stopped the turn with the client still there: it is shown what was kept, then told. */
  private async *keepInterruptedTurn(threadId: string, pending: Map<string, ThreadItem>, ctx: RequestContext): AsyncGenerator<ThreadStreamEvent> {
    try {
      for (const message of this.partialAnswers(pending)) {
        await this.addDoneItem(threadId, message, ctx);
        yield { type: 'thread.item.done', item: message };
      }
      await this.store.addThreadItem(threadId, this.hiddenNote(threadId, INTERRUPTED_NOTE), ctx);
    } catch (error) {
      this.options.onError?.('could not save the interrupted turn', error);
    }
    // `custom`: ChatKit shows a message only with that code (others map to its own text).
    yield { type: 'error', code: 'custom', message: 'The response was interrupted before it finished.', allow_retry: true };
  }

  private hiddenNote(threadId: string, content: string): ThreadItem {
    return { id: this.ids('sdk_hidden_context'), thread_id: threadId, created_at: new Date().toISOString(), type: 'sdk_hidden_context', content };
  }

  /** Releases the thread; a failure is reported and leaves the lease to expire. */
  async release(threadId: string, lease: TurnLease, ctx: RequestContext) {
    try {
      await this.store.endTurn(threadId, lease.id, ctx);
    } catch (error) {
      this.options.onError?.('could not release the thread (its lease will expire)', error);
    }
  }
}

/**
 * Whether the model refused the input as longer than its context window: the Responses API's
 * `context_length_exceeded`, as an HTTP 400 or as a stream's error event (the openai SDK's
 * APIError carries the code; an SDK may wrap it as `error` or `cause`).
 */
export function isContextLengthExceeded(error: unknown): boolean {
  for (let cause = error, depth = 0; cause && typeof cause === 'object' && depth < 5; depth++) {
    if ((cause as { code?: unknown }).code === 'context_length_exceeded') return true;
    cause = (cause as { error?: unknown }).error ?? (cause as { cause?: unknown }).cause;
  }
  return false;
}

function threadState(thread: StoredThread): string {
  const { updated_at: _, ...state } = thread;
  return JSON.stringify(state);
}
