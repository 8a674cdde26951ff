import { databaseFault } from '../db/faults.js';
import { BadRequestError, ClientError, ConflictError, NotEnabledError, NotFoundError, ServerStopping } from '../errors.js';
import { defaultIds, type IdGenerator } from '../ids.js';
import {
  isStreamingRequest,
  type Action,
  type AssistantMessageItem,
  type Attachment,
  type ClientToolCallItem,
  type FeedbackKind,
  type NonStreamingRequest,
  type StoredThread,
  type StreamingRequest,
  type ThreadItem,
  type ThreadStreamEvent,
  type UserMessageInput,
  type UserMessageItem,
} from '../protocol/index.js';
import { toModelInput, type HistoryConverter } from '../responder/model-input.js';
import { approvalClick, checkPause, DEFAULT_PAUSE_SECONDS, type ApprovalClick, type PauseRequest, type ResumedPause } from '../responder/paused-turn.js';
import { fallbackTitle, type Responder, type Transcriber, type TurnInput } from '../responder/responder.js';
import type { RequestContext, Store, TurnEnd, TurnLease } from '../store/store.js';
import { clientAttachment, clientEvent, clientItems, clientThread } from './client-json.js';
import { attachmentsForModel } from './attachment-input.js';
import { checkUpload, DEFAULT_ATTACHMENT_POLICY, deleteFiles, deleteThreadAndFiles, type AttachmentPolicy, type AttachmentStore } from './attachment-store.js';
import { markLast } from './last-event.js';
import { checkTextSize, DEFAULT_MESSAGE_MAX_CHARS } from './message-size.js';
import { parseRequest } from './parse-request.js';
import { answerStructuredInput } from './structured-input.js';

export type ChatKitResult =
  | { kind: 'json'; body: unknown }
  | { kind: 'stream'; events: AsyncIterable<ThreadStreamEvent> };

/** The app's widget and client actions. */
export interface ActionHandler {
  action(thread: StoredThread, action: Action, sender: ThreadItem | null, ctx: RequestContext, signal: AbortSignal): AsyncIterable<ThreadStreamEvent>;
  syncAction(thread: StoredThread, action: Action, sender: ThreadItem | null, ctx: RequestContext): Promise<{ updated_item?: ThreadItem }>;
}

export interface ChatKitServerOptions {
  store: Store;
  responder: Responder;
  attachments?: AttachmentStore | undefined;
  /** What may be uploaded (default: images, PDFs and text up to 20 MiB) and what a turn may read (32 MiB). */
  attachmentPolicy?: AttachmentPolicy | undefined;
  transcriber?: Transcriber | undefined;
  actions?: ActionHandler | undefined;
  ids?: IdGenerator | undefined;
  /** How many of a thread's latest items a turn's history holds (default 40). */
  historyWindow?: number | undefined;
  /** Models a client may pick with `inference_options.model`; unset: any (no model behind the responder). */
  models?: readonly string[] | undefined;
  /** The longest a turn may run: a turn whose process died holds its thread no longer than this (default 300 s). */
  turnSeconds?: number | undefined;
  /**
   * How long a done item waits to see whether the turn ends right after it, so that its write
   * and the thread's release are one statement (default 25 ms). Only a done item waits, and at
   * most this long: an item that more events follow is shown as soon as they come or this passes.
   */
  lastItemWaitMs?: number | undefined;
  /** How long a paused turn (a tool call waiting for approval) waits for its user's answer (default 24 h). */
  pauseSeconds?: number | undefined;
  /** The most text one request may carry, in characters (default 100,000): see message-size.ts. */
  messageMaxChars?: number | undefined;
  onError?: ((message: string, error: unknown) => void) | undefined;
}

/** What a transport hands the server besides the request. */
export interface RequestOptions {
  /** Fires when the client goes away, or with a ServerStopping reason when the server stops the turn. */
  signal: AbortSignal;
  /** Keeps the process alive for work that outlives the response (a title that comes late). */
  waitUntil?: ((work: Promise<unknown>) => void) | undefined;
}

/** The note a cancelled turn leaves for the model, so the next turn does not carry on the old answer. */
export const CANCELLED_NOTE = 'The user cancelled the previous response before it finished; do not continue it unless asked.';
/** The note an interrupted turn leaves: the user was told and may ask again. */
export const INTERRUPTED_NOTE = 'The previous response was cut off by the server before it finished; the user was told it was interrupted.';

const ITEMS_PAGE = 20;
const DEFAULT_HISTORY_WINDOW = 40;
const DEFAULT_TURN_SECONDS = 300;
const DEFAULT_LAST_ITEM_WAIT_MS = 25;
/** Attempts at writing an item the client was shown as done, across dropped connections. */
const DONE_WRITE_ATTEMPTS = 3;

/** One streamed answer: what it answers and what it holds. */
interface Turn {
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

/**
 * The ChatKit protocol over a Store and a Responder. `process` validates the request and does
 * every check that can fail (ownership, a thread busy with another turn) before it returns, so
 * a transport can still answer with a 4xx; a streaming result is then driven by iterating its
 * events to the end.
 */
export class ChatKitServer {
  protected readonly store: Store;
  protected readonly responder: Responder;
  protected readonly ids: IdGenerator;

  constructor(protected readonly options: ChatKitServerOptions) {
    this.store = options.store;
    this.responder = options.responder;
    this.ids = options.ids ?? defaultIds;
  }

  /** The tools a client may pick with `inference_options.tool_choice`. */
  async tools(): Promise<readonly string[]> {
    return (await this.responder.tools?.()) ?? [];
  }

  async process(rawBody: string, ctx: RequestContext, { signal, waitUntil }: RequestOptions): Promise<ChatKitResult> {
    const parsed = parseRequest(rawBody);
    checkTextSize(parsed, this.options.messageMaxChars ?? DEFAULT_MESSAGE_MAX_CHARS);
    if (isStreamingRequest(parsed)) return { kind: 'stream', events: await this.stream(parsed, ctx, signal, waitUntil) };
    return { kind: 'json', body: await this.json(parsed, ctx, signal) };
  }

  // ---- non-streaming ----

  protected async json(request: NonStreamingRequest, ctx: RequestContext, signal: AbortSignal): Promise<unknown> {
    switch (request.type) {
      case 'threads.get_by_id': {
        const { thread, items } = await this.store.loadThreadWithItems(request.params.thread_id, ITEMS_PAGE, ctx);
        return clientThread(thread, { ...items, data: await this.withPreviews(items.data, ctx) });
      }
      case 'threads.list': {
        const page = await this.store.loadThreads(request.params, ctx);
        return { ...page, data: page.data.map((thread) => clientThread(thread)) };
      }
      case 'items.list': {
        const { thread_id, ...page } = request.params;
        const items = await this.store.loadThreadItems(thread_id, page, ctx);
        return clientItems({ ...items, data: await this.withPreviews(items.data, ctx) });
      }
      case 'threads.update': {
        const thread = await this.store.loadThread(request.params.thread_id, ctx);
        const updated = { ...thread, title: request.params.title };
        await this.store.saveThread(updated, ctx);
        return clientThread(updated);
      }
      case 'threads.delete':
        await deleteThreadAndFiles(this.store, this.options.attachments, request.params.thread_id, ctx, this.options.onError);
        return {};
      case 'items.feedback':
        await this.addFeedback(request.params.thread_id, request.params.item_ids, request.params.kind, ctx);
        return {};
      case 'attachments.create': {
        if (!this.options.attachments) throw new NotEnabledError('File attachments');
        checkUpload(request.params, this.options.attachmentPolicy ?? DEFAULT_ATTACHMENT_POLICY);
        const attachment = await this.options.attachments.createAttachment(request.params, this.ids('attachment'), ctx);
        await this.store.saveAttachment(attachment, ctx);
        return clientAttachment(attachment);
      }
      case 'attachments.delete': {
        // The row first (refused once the attachment is in a message), then the bytes: an upload
        // still arriving finds no attachment to keep them for.
        const attachment = await this.store.deleteAttachment(request.params.attachment_id, ctx);
        if (this.options.attachments) await deleteFiles(this.options.attachments, [attachment], ctx, this.options.onError);
        return {};
      }
      case 'input.transcribe':
        return { text: await this.transcribe(Buffer.from(request.params.audio_base64, 'base64'), request.params.mime_type, signal) };
      case 'threads.sync_custom_action': {
        const actions = this.requireActions();
        const { thread, sender } = await this.actionTarget(request.params, ctx);
        const { updated_item } = await actions.syncAction(thread, request.params.action, sender, ctx);
        if (updated_item) await this.store.saveItem(thread.id, updated_item, ctx);
        return updated_item ? { updated_item: clientItems({ data: [updated_item], has_more: false }).data[0] } : {};
      }
    }
  }

  /** Stores feedback; override to send it elsewhere too. */
  protected addFeedback(threadId: string, itemIds: string[], kind: FeedbackKind, ctx: RequestContext): Promise<void> {
    return this.store.saveFeedback(threadId, itemIds, kind, ctx);
  }

  protected transcribe(audio: Buffer, mimeType: string, signal: AbortSignal): Promise<string> {
    if (!this.options.transcriber) throw new NotEnabledError('Voice input');
    return this.options.transcriber.transcribe(audio, mimeType, signal);
  }

  // ---- streaming: every check first, then a lazy stream ----

  protected async stream(
    request: StreamingRequest,
    ctx: RequestContext,
    signal: AbortSignal,
    waitUntil: RequestOptions['waitUntil'],
  ): Promise<AsyncIterable<ThreadStreamEvent>> {
    // After the current tick, when the turn's first statement is on the wire: a lazy responder
    // then loads during that round trip rather than before it.
    if (this.responder.prepare) setImmediate(() => this.responder.prepare?.());
    const answer = (turn: Turn, lead: ThreadStreamEvent[] = []) =>
      this.run(turn, ctx, signal, waitUntil, (turnSignal) => this.respond(turn, ctx, lead, turnSignal));
    switch (request.type) {
      case 'threads.create': {
        const now = new Date().toISOString();
        const thread: StoredThread = { id: this.ids('thread'), created_at: now, updated_at: now, status: { type: 'active' }, metadata: {} };
        const item = await this.userMessage(thread.id, request.params.input, ctx);
        const lease = this.lease();
        await this.store.createThread(thread, item, ctx, lease);
        await this.keepFiles(item, ctx);
        return answer({
          thread,
          item,
          history: [item],
          lease,
          prefix: [
            { type: 'thread.created', thread: clientThread(thread) },
            { type: 'thread.item.done', item },
          ],
        });
      }
      case 'threads.add_user_message': {
        const item = await this.userMessage(request.params.thread_id, request.params.input, ctx);
        const lease = this.lease();
        const { thread, history, paused } = await this.store.beginTurn(item.thread_id, { lease, historyLimit: this.historyWindow, append: item }, ctx);
        await this.keepFiles(item, ctx);
        // A message instead of an answer: what waited is denied, and the model told.
        const resumed: ResumedPause | null = paused && { paused, resolution: { type: paused.expired ? 'expired' : 'superseded', at: item.created_at } };
        return answer({ thread, item, history, lease, prefix: [{ type: 'thread.item.done', item }], resumed });
      }
      case 'threads.add_client_tool_output': {
        const lease = this.lease();
        const { thread, history } = await this.store.beginTurn(request.params.thread_id, { lease, historyLimit: this.historyWindow }, ctx);
        try {
          const latest = history.at(-1);
          if (latest?.type !== 'client_tool_call' || latest.status !== 'pending') {
            throw new BadRequestError('the thread has no pending client tool call to take an output', 'no_pending_tool_call');
          }
          const completed: ClientToolCallItem = { ...latest, status: 'completed', output: request.params.result };
          await this.store.saveItem(thread.id, completed, ctx);
          // Calls the user left unanswered (they wrote instead) can never get an output: drop them.
          const dangling = history.filter((item) => item.type === 'client_tool_call' && item.status === 'pending' && item.id !== latest.id);
          for (const call of dangling) await this.store.deleteThreadItem(thread.id, call.id, ctx);
          const rest = history.filter((item) => !dangling.includes(item) && item !== latest);
          return answer({ thread, item: null, history: [...rest, completed], lease, prefix: [] });
        } catch (error) {
          // Refused before any stream: the thread is free again at once, not when the lease expires.
          await this.releaseQuietly(thread.id, lease, ctx);
          throw error;
        }
      }
      case 'threads.add_structured_input': {
        const { thread_id, item_id, input } = request.params;
        const pending = await this.store.loadItem(thread_id, item_id, ctx);
        if (pending.type !== 'structured_input' || pending.status !== 'pending') {
          throw new BadRequestError(`item ${item_id} is not a pending structured input`, 'not_pending_input');
        }
        const answered = answerStructuredInput(pending, input);
        const lease = this.lease();
        const { thread, history } = await this.store.beginTurn(thread_id, { lease, historyLimit: this.historyWindow }, ctx);
        const withAnswers = history.map((item) => (item.id === answered.id ? answered : item));
        // The replacement goes through the turn's pipeline: stored, and sent after stream_options.
        return answer({ thread, item: null, history: withAnswers, lease, prefix: [] }, [{ type: 'thread.item.replaced', item: answered }]);
      }
      case 'threads.retry_after_item': {
        const lease = this.lease();
        const { thread, history } = await this.store.beginTurn(
          request.params.thread_id,
          { lease, historyLimit: this.historyWindow, retryAfter: request.params.item_id },
          ctx,
        );
        return answer({ thread, item: history.at(-1) as UserMessageItem, history, lease, prefix: [] });
      }
      case 'threads.custom_action': {
        const click = approvalClick(request.params.action);
        if (click) return this.answerPause(request.params, click, ctx, answer);
        const actions = this.requireActions();
        const { thread, sender } = await this.actionTarget(request.params, ctx);
        const action = request.params.action;
        const turn: Turn = { thread, item: null, history: [], lease: null, prefix: [] };
        return this.run(turn, ctx, signal, waitUntil, (turnSignal) => actions.action(thread, action, sender, ctx, turnSignal));
      }
    }
  }

  /**
   * A click on a confirmation widget resumes the paused turn it answers, as a turn of its own,
   * on any instance: the store hands the paused turn over only if it still waits for that click.
   */
  private async answerPause(
    params: { thread_id: string; item_id?: string | undefined },
    click: ApprovalClick,
    ctx: RequestContext,
    answer: (turn: Turn) => AsyncIterable<ThreadStreamEvent>,
  ) {
    if (!params.item_id) throw new BadRequestError('threads.custom_action: params.item_id: an approval names the widget it answers', 'invalid_params');
    const lease = this.lease();
    const callIds = click.callId === undefined ? [] : [click.callId];
    const start = { lease, historyLimit: this.historyWindow, answer: { itemId: params.item_id, callIds } };
    const { thread, history, paused } = await this.store.beginTurn(params.thread_id, start, ctx);
    const pausedTurn = paused!; // an answer that took the lease took the pause with it
    const decided = callIds.length ? callIds : pausedTurn.pending;
    const resolution = { type: 'decided' as const, decisions: decided.map((callId) => ({ callId, approved: click.approved })), by: ctx.userId, at: new Date().toISOString() };
    return answer({ thread, item: null, history, lease, prefix: [], resumed: { paused: pausedTurn, resolution } });
  }

  protected requireActions(): ActionHandler {
    if (!this.options.actions) throw new NotEnabledError('Custom actions');
    return this.options.actions;
  }

  protected async actionTarget(params: { thread_id: string; item_id?: string | undefined }, ctx: RequestContext) {
    const thread = await this.store.loadThread(params.thread_id, ctx);
    const sender = params.item_id ? await this.store.loadItem(thread.id, params.item_id, ctx) : null;
    return { thread, sender };
  }

  /** A user message from the client's input; its model and tool must be offered, its attachments the caller's. */
  protected async userMessage(threadId: string, input: UserMessageInput, ctx: RequestContext): Promise<UserMessageItem> {
    const { model, tool_choice } = input.inference_options;
    const models = this.options.models;
    if (model !== undefined && models && !models.includes(model)) {
      throw new BadRequestError(`inference_options.model: expected one of ${models.join(', ')}`, 'model_not_allowed');
    }
    const tools = tool_choice ? await this.tools() : [];
    if (tool_choice && !tools.includes(tool_choice.id)) {
      throw new BadRequestError(
        tools.length ? `inference_options.tool_choice.id: expected one of ${tools.join(', ')}` : 'inference_options.tool_choice: this assistant offers no tools to choose',
        'unknown_tool',
      );
    }
    const attachments = await this.verifiedAttachments(input.attachments, threadId, ctx);
    return {
      id: this.ids('message'),
      thread_id: threadId,
      created_at: new Date().toISOString(),
      type: 'user_message',
      content: input.content,
      attachments,
      ...(input.quoted_text !== undefined ? { quoted_text: input.quoted_text } : {}),
      inference_options: input.inference_options,
    };
  }

  /**
   * The attachments a new message carries, each once (an id named twice is one attachment), as
   * they will be once the message is stored: the caller's, never sent before, uploaded as
   * declared. One statement and the stores' checks; nothing is moved or bound here — the
   * statement that stores the message binds them, `keepFiles` then keeps their bytes — so a
   * message refused later (another user's thread, a busy one) leaves them as they were.
   */
  private async verifiedAttachments(ids: readonly string[], threadId: string, ctx: RequestContext): Promise<Attachment[]> {
    const stored = await this.store.loadAttachments(ids, ctx);
    const sent = stored.find((attachment) => attachment.thread_id !== undefined);
    if (sent) throw new BadRequestError(`attachment ${sent.id} was already sent in a message`, 'attachment_already_sent');
    const files = this.options.attachments;
    const verified = files ? await Promise.all(stored.map((attachment) => files.verifyUpload(attachment, ctx))) : stored;
    return verified.map((attachment) => ({ ...attachment, thread_id: threadId }));
  }

  /**
   * Keeps the bytes of the attachments of a message just stored (S3: copied from `pending/` to
   * `attached/`). Before the stream starts, so that the previews it sends already work. A failure
   * is reported, not thrown: the message is stored; a file the model then cannot read is named
   * as removed.
   */
  private async keepFiles(item: UserMessageItem, ctx: RequestContext): Promise<void> {
    const files = this.options.attachments;
    if (!files || item.attachments.length === 0) return;
    const results = await Promise.allSettled(item.attachments.map((attachment) => files.attach(attachment, ctx)));
    for (const result of results) if (result.status === 'rejected') this.options.onError?.("could not keep an attachment's bytes", result.reason);
  }

  /** Items as the client sees them: image previews signed now, not when the message was sent. */
  private async withPreviews(items: ThreadItem[], ctx: RequestContext): Promise<ThreadItem[]> {
    const files = this.options.attachments;
    if (!files) return items;
    return Promise.all(
      items.map(async (item) => {
        if (item.type !== 'user_message' || !item.attachments.some((a) => a.type === 'image')) return item;
        const attachments = await Promise.all(item.attachments.map(async (a) => (a.type === 'image' ? { ...a, preview_url: await files.previewUrl(a, ctx) } : a)));
        return { ...item, attachments };
      }),
    );
  }

  /** The model's view of the history, with each attachment's content from the store (bounded per turn). */
  private async modelInput(history: ThreadItem[], converter?: HistoryConverter) {
    const files = this.options.attachments;
    const maxTurnBytes = this.options.attachmentPolicy?.maxTurnBytes ?? DEFAULT_ATTACHMENT_POLICY.maxTurnBytes;
    return toModelInput(history, files ? await attachmentsForModel(history, files, maxTurnBytes) : undefined, converter);
  }

  private get lastItemWaitMs(): number {
    return this.options.lastItemWaitMs ?? DEFAULT_LAST_ITEM_WAIT_MS;
  }

  private get pauseSeconds(): number {
    return this.options.pauseSeconds ?? DEFAULT_PAUSE_SECONDS;
  }

  private get historyWindow(): number {
    return this.options.historyWindow ?? DEFAULT_HISTORY_WINDOW;
  }

  private lease(): TurnLease {
    return { id: this.ids('turn'), seconds: this.options.turnSeconds ?? DEFAULT_TURN_SECONDS };
  }

  private async *respond(turn: Turn, ctx: RequestContext, lead: ThreadStreamEvent[], signal: AbortSignal): AsyncIterable<ThreadStreamEvent> {
    yield* lead;
    const input: TurnInput = {
      thread: turn.thread,
      item: turn.item,
      ctx,
      store: this.store,
      ids: this.ids,
      history: async () => turn.history,
      modelInput: (converter) => this.modelInput(turn.history, converter),
      resumed: turn.resumed ?? null,
      pause: (request) => {
        if (!turn.lease) throw new Error('only a turn that holds its thread can pause');
        checkPause(request);
        turn.pause = { ...request, pending: [...request.pending] };
      },
    };
    yield* this.responder.respond(input, signal);
  }

  /**
   * Forwards the producer's events, persisting what they say, and keeps the thread in step.
   * Ends the same way whatever happens: a client that left gets its partial answer kept and a
   * hidden note; a server stop tells the client what was kept; an error is one `error` event;
   * the lease is released and a title that came in time is sent.
   */
  private async *run(
    turn: Turn,
    ctx: RequestContext,
    outer: AbortSignal,
    waitUntil: RequestOptions['waitUntil'],
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
    const apply = async function* (this: ChatKitServer, event: ThreadStreamEvent): AsyncGenerator<ThreadStreamEvent> {
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
        for await (const { value: event, last: isLast } of markLast(produce(signal), endsWithDone, this.lastItemWaitMs)) {
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
        const pause = turn.pause && !signal.aborted ? { ...turn.pause, seconds: this.pauseSeconds } : undefined;
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
      if (turn.lease && !released) await this.releaseQuietly(thread.id, turn.lease, ctx);
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

  /** The responder's say on whether the client may stop the turn; a responder that cannot answer (it failed to load) leaves the default. */
  private async allowCancel(thread: StoredThread): Promise<boolean> {
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
    yield { type: 'error', code: 'stream.error', message: 'The response was interrupted before it finished.', allow_retry: true };
  }

  private hiddenNote(threadId: string, content: string): ThreadItem {
    return { id: this.ids('sdk_hidden_context'), thread_id: threadId, created_at: new Date().toISOString(), type: 'sdk_hidden_context', content };
  }

  private async releaseQuietly(threadId: string, lease: TurnLease, ctx: RequestContext) {
    try {
      await this.store.endTurn(threadId, lease.id, ctx);
    } catch (error) {
      this.options.onError?.('could not release the thread (its lease will expire)', error);
    }
  }
}

function threadState(thread: StoredThread): string {
  const { updated_at: _, ...state } = thread;
  return JSON.stringify(state);
}
