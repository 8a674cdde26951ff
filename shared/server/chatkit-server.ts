import { BadRequestError, NotEnabledError } from '../errors.js';
import { defaultIds, type IdGenerator } from '../ids.js';
import {
  isStreamingRequest,
  type Action,
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
  type WidgetItem,
} from '../protocol/index.js';
import { toModelInput, type HistoryConverter } from '../responder/model-input.js';
import { approvalClick, checkPause, type ApprovalClick, type ResumedPause } from '../responder/paused-turn.js';
import type { Responder, Transcriber, TurnInput } from '../responder/responder.js';
import type { RequestContext, Store, TurnLease } from '../store/store.js';
import { clientAttachment, clientItems, clientThread } from './client-json.js';
import { attachmentsForModel } from './attachment-input.js';
import { checkUpload, DEFAULT_ATTACHMENT_POLICY, deleteFiles, deleteThreadAndFiles, type AttachmentPolicy, type AttachmentStore } from './attachment-store.js';
import { checkTextSize, DEFAULT_MESSAGE_MAX_CHARS } from './message-size.js';
import { parseRequest } from './parse-request.js';
import { answerStructuredInput } from './structured-input.js';
import { isContextLengthExceeded, TurnRunner, type Turn } from './turn-runner.js';

export { CANCELLED_NOTE, CONTEXT_TOO_LONG_MESSAGE, INTERRUPTED_NOTE } from './turn-runner.js';

export type ChatKitResult =
  | { kind: 'json'; body: unknown }
  | { kind: 'stream'; events: AsyncIterable<ThreadStreamEvent> };

/** The app's widget and client actions; `sender` is the widget the action came from, if it named one. */
export interface ActionHandler {
  action(thread: StoredThread, action: Action, sender: WidgetItem | null, ctx: RequestContext, signal: AbortSignal): AsyncIterable<ThreadStreamEvent>;
  syncAction(thread: StoredThread, action: Action, sender: WidgetItem | null, ctx: RequestContext): Promise<{ updated_item?: ThreadItem }>;
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
  /**
   * The most characters of history a turn sends the model (default 400,000, about 100,000
   * tokens): older items are left out first; the message being answered always goes whole.
   * See `fitHistory` (shared/responder/model-input.ts).
   */
  historyMaxChars?: number | undefined;
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
  /**
   * Whether the transport tells the server that a client left (default yes). Lambda's runtime
   * does not: there a stopped answer would run on unseen and keep its thread from the next
   * message until it ended, so ChatKit's stop button is not offered (`allow_cancel: false`).
   */
  seesClientLeave?: boolean | undefined;
  onError?: ((message: string, error: unknown) => void) | undefined;
}

/** What a transport hands the server besides the request. */
export interface RequestOptions {
  /** Fires when the client goes away, or with a ServerStopping reason when the server stops the turn. */
  signal: AbortSignal;
  /** Keeps the process alive for work that outlives the response (a title that comes late). */
  waitUntil?: ((work: Promise<unknown>) => void) | undefined;
}

const ITEMS_PAGE = 20;
const DEFAULT_HISTORY_WINDOW = 40;
/**
 * About 100,000 tokens at 4 characters a token: a quarter of what the default model
 * (gpt-5.6-luna: a 1,050,000-token window, up to 128,000 of them written) takes, and under the
 * 272,000 input tokens past which its input costs double, even at 1.5 characters a token (other
 * scripts, code). It leaves a 128,000-token window (GPT-4o) room for the instructions, tools and
 * a 16,000-token answer in English. It holds the message being answered at MESSAGE_MAX_CHARS
 * (100,000) three times over.
 */
export const DEFAULT_HISTORY_MAX_CHARS = 400_000;
const DEFAULT_TURN_SECONDS = 300;
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
  private readonly turns: TurnRunner;

  constructor(protected readonly options: ChatKitServerOptions) {
    this.store = options.store;
    this.responder = options.responder;
    this.ids = options.ids ?? defaultIds;
    this.turns = new TurnRunner({ ...options, ids: this.ids });
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
    const answer = (turn: Turn, lead: ThreadStreamEvent[] = []) =>
      this.turns.run(turn, ctx, signal, waitUntil, (turnSignal) => this.respond(turn, ctx, lead, turnSignal));
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
          await this.turns.release(thread.id, lease, ctx);
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
        return this.turns.run(turn, ctx, signal, waitUntil, (turnSignal) => actions.action(thread, action, sender, ctx, turnSignal));
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
    // Only a widget sends actions (as the reference checks): a handler never acts for another item.
    if (sender && sender.type !== 'widget') throw new BadRequestError(`item_id: item ${params.item_id} is not a widget`, 'not_a_widget');
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

  /** The model's view of the history, with each attachment's content from the store (bounded per turn), bounded in size. */
  private async modelInput(history: ThreadItem[], converter?: HistoryConverter, maxChars = this.options.historyMaxChars ?? DEFAULT_HISTORY_MAX_CHARS) {
    const files = this.options.attachments;
    const maxTurnBytes = this.options.attachmentPolicy?.maxTurnBytes ?? DEFAULT_ATTACHMENT_POLICY.maxTurnBytes;
    return toModelInput(history, files ? await attachmentsForModel(history, files, maxTurnBytes) : undefined, converter, { maxChars });
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
    let said = false;
    try {
      for await (const event of this.responder.respond(input, signal)) {
        said = true;
        yield event;
      }
    } catch (error) {
      // The model refused the input as longer than its context window before it said anything
      // (the history bound is an estimate: other scripts, code and PDFs take more tokens): once
      // more with only the message answered, the older items left out. Else the thread would
      // stay too long for every later message.
      const answered = turn.history.findLastIndex((item) => item.type === 'user_message');
      if (said || turn.resumed || answered < 1 || !isContextLengthExceeded(error)) throw error;
      yield* this.responder.respond({ ...input, modelInput: (converter) => this.modelInput(turn.history, converter, 0) }, signal);
    }
  }

}
