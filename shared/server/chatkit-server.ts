import { BadRequestError, NotEnabledError } from '../errors.js';
import { defaultIds, type IdGenerator } from '../ids.js';
import {
  ChatKitRequest,
  isStreamingRequest,
  type Action,
  type AssistantMessageItem,
  type Attachment,
  type FeedbackKind,
  type NonStreamingRequest,
  type StoredThread,
  type StreamingRequest,
  type ThreadItem,
  type ThreadStreamEvent,
  type UserMessageInput,
  type UserMessageItem,
} from '../protocol/index.js';
import { assertJsonDepth } from '../protocol/json-depth.js';
import type { Responder, Transcriber, TurnInput } from '../responder/responder.js';
import type { RequestContext, Store } from '../store/store.js';
import { clientAttachment, clientEvent, clientItems, clientThread } from './client-json.js';

export type ChatKitResult =
  | { kind: 'json'; body: unknown }
  | { kind: 'stream'; events: AsyncIterable<ThreadStreamEvent> };

/** Uploads for `attachments.create`: decides where the file goes (e.g. a presigned S3 URL). */
export interface AttachmentStore {
  createAttachment(params: { name: string; size: number; mime_type: string }, id: string, ctx: RequestContext): Promise<Attachment>;
  deleteAttachment(attachment: Attachment, ctx: RequestContext): Promise<void>;
}

/** The app's widget and client actions. */
export interface ActionHandler {
  action(thread: StoredThread, action: Action, sender: ThreadItem | null, ctx: RequestContext, signal: AbortSignal): AsyncIterable<ThreadStreamEvent>;
  syncAction(thread: StoredThread, action: Action, sender: ThreadItem | null, ctx: RequestContext): Promise<{ updated_item?: ThreadItem }>;
}

export interface ChatKitServerOptions {
  store: Store;
  responder: Responder;
  attachments?: AttachmentStore | undefined;
  transcriber?: Transcriber | undefined;
  actions?: ActionHandler | undefined;
  ids?: IdGenerator | undefined;
  /** How many of a thread's latest items a responder's history holds. */
  historyWindow?: number | undefined;
  onError?: ((message: string, error: unknown) => void) | undefined;
}

/** The note a cancelled turn leaves for the model, so the next turn does not carry on the old answer. */
export const CANCELLED_NOTE = 'The user cancelled the previous response before it finished; do not continue it unless asked.';

const ITEMS_PAGE = 20;

/**
 * The ChatKit protocol over a Store and a Responder. `process` validates the request and does
 * every check that can fail (ownership included) before it returns, so a transport can still
 * answer with a 4xx; a streaming result is then driven by iterating its events to the end.
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

  async process(rawBody: string, ctx: RequestContext, signal: AbortSignal): Promise<ChatKitResult> {
    const request = parseRequest(rawBody);
    if (isStreamingRequest(request)) return { kind: 'stream', events: await this.stream(request, ctx, signal) };
    return { kind: 'json', body: await this.json(request, ctx, signal) };
  }

  // ---- non-streaming ----

  protected async json(request: NonStreamingRequest, ctx: RequestContext, signal: AbortSignal): Promise<unknown> {
    switch (request.type) {
      case 'threads.get_by_id': {
        const { thread, items } = await this.store.loadThreadWithItems(request.params.thread_id, ITEMS_PAGE, ctx);
        return clientThread(thread, items);
      }
      case 'threads.list': {
        const page = await this.store.loadThreads(request.params, ctx);
        return { ...page, data: page.data.map((thread) => clientThread(thread)) };
      }
      case 'items.list': {
        const { thread_id, ...page } = request.params;
        return clientItems(await this.store.loadThreadItems(thread_id, page, ctx));
      }
      case 'threads.update': {
        const thread = await this.store.loadThread(request.params.thread_id, ctx);
        const updated = { ...thread, title: request.params.title };
        await this.store.saveThread(updated, ctx);
        return clientThread(updated);
      }
      case 'threads.delete':
        await this.store.deleteThread(request.params.thread_id, ctx);
        return {};
      case 'items.feedback':
        await this.addFeedback(request.params.thread_id, request.params.item_ids, request.params.kind, ctx);
        return {};
      case 'attachments.create': {
        if (!this.options.attachments) throw new NotEnabledError('File attachments');
        const attachment = await this.options.attachments.createAttachment(request.params, this.ids('attachment'), ctx);
        await this.store.saveAttachment(attachment, ctx);
        return clientAttachment(attachment);
      }
      case 'attachments.delete': {
        const attachment = await this.store.loadAttachment(request.params.attachment_id, ctx);
        await this.options.attachments?.deleteAttachment(attachment, ctx);
        await this.store.deleteAttachment(attachment.id, ctx);
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

  protected async stream(request: StreamingRequest, ctx: RequestContext, signal: AbortSignal): Promise<AsyncIterable<ThreadStreamEvent>> {
    switch (request.type) {
      case 'threads.create': {
        const now = new Date().toISOString();
        const thread: StoredThread = { id: this.ids('thread'), created_at: now, updated_at: now, status: { type: 'active' }, metadata: {} };
        const item = await this.userMessage(thread.id, request.params.input, ctx);
        await this.store.createThread(thread, item, ctx);
        return this.turn(thread, item, ctx, signal, [
          { type: 'thread.created', thread: clientThread(thread) },
          { type: 'thread.item.done', item },
        ]);
      }
      case 'threads.add_user_message': {
        const thread = await this.store.loadThread(request.params.thread_id, ctx);
        const item = await this.userMessage(thread.id, request.params.input, ctx);
        await this.store.addThreadItem(thread.id, item, ctx);
        return this.turn(thread, item, ctx, signal, [{ type: 'thread.item.done', item }]);
      }
      case 'threads.add_client_tool_output': {
        const thread = await this.store.loadThread(request.params.thread_id, ctx);
        const [latest] = (await this.store.loadThreadItems(thread.id, { limit: 1, order: 'desc', includeHidden: true }, ctx)).data;
        if (latest?.type !== 'client_tool_call' || latest.status !== 'pending') {
          throw new BadRequestError('the thread has no pending client tool call to take an output', 'no_pending_tool_call');
        }
        await this.store.saveItem(thread.id, { ...latest, status: 'completed', output: request.params.result }, ctx);
        return this.turn(thread, null, ctx, signal, []);
      }
      case 'threads.add_structured_input': {
        const { thread_id, item_id, input } = request.params;
        const thread = await this.store.loadThread(thread_id, ctx);
        const item = await this.store.loadItem(thread.id, item_id, ctx);
        if (item.type !== 'structured_input' || item.status !== 'pending') {
          throw new BadRequestError(`item ${item_id} is not a pending structured input`, 'not_pending_input');
        }
        const answered = {
          ...item,
          status: input.status,
          inputs: item.inputs.map((question) => {
            const answer = input.answers[question.id];
            return answer ? { ...question, answer } : question;
          }),
        };
        await this.store.saveItem(thread.id, answered, ctx);
        return this.turn(thread, null, ctx, signal, [{ type: 'thread.item.replaced', item: answered }]);
      }
      case 'threads.retry_after_item': {
        const thread = await this.store.loadThread(request.params.thread_id, ctx);
        const item = await this.store.loadItem(thread.id, request.params.item_id, ctx);
        if (item.type !== 'user_message') throw new BadRequestError('a retry starts after a user message', 'not_user_message');
        await this.store.deleteItemsAfter(thread.id, item.id, ctx);
        return this.turn(thread, item, ctx, signal, []);
      }
      case 'threads.custom_action': {
        const actions = this.requireActions();
        const { thread, sender } = await this.actionTarget(request.params, ctx);
        const action = request.params.action;
        return this.run(thread, null, ctx, signal, [], () => actions.action(thread, action, sender, ctx, signal));
      }
    }
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

  /** A user message from the client's input; its attachments must be the caller's. */
  protected async userMessage(threadId: string, input: UserMessageInput, ctx: RequestContext): Promise<UserMessageItem> {
    const attachments = await Promise.all(input.attachments.map((id) => this.store.loadAttachment(id, ctx)));
    return {
      id: this.ids('message'),
      thread_id: threadId,
      created_at: new Date().toISOString(),
      type: 'user_message',
      content: input.content,
      attachments: attachments.map((a) => ({ ...a, thread_id: threadId })),
      ...(input.quoted_text !== undefined ? { quoted_text: input.quoted_text } : {}),
      inference_options: input.inference_options,
    };
  }

  private turn(thread: StoredThread, item: UserMessageItem | null, ctx: RequestContext, signal: AbortSignal, prefix: ThreadStreamEvent[]) {
    const input: TurnInput = {
      thread,
      item,
      ctx,
      store: this.store,
      ids: this.ids,
      history: async () => {
        const page = await this.store.loadThreadItems(thread.id, { limit: this.options.historyWindow ?? 40, order: 'desc', includeHidden: true }, ctx);
        return page.data.reverse();
      },
    };
    return this.run(thread, item, ctx, signal, prefix, () => this.responder.respond(input, signal));
  }

  /**
   * Forwards the producer's events, persisting what they say, and keeps the thread in step.
   * On cancellation it keeps the partial answer (when it has text) and leaves a hidden note;
   * `finally` makes that happen however the iteration ends.
   */
  private async *run(
    thread: StoredThread,
    item: UserMessageItem | null,
    ctx: RequestContext,
    signal: AbortSignal,
    prefix: ThreadStreamEvent[],
    produce: () => AsyncIterable<ThreadStreamEvent>,
  ): AsyncGenerator<ThreadStreamEvent> {
    const pending = new Map<string, AssistantMessageItem>();
    let saved = threadState(thread);
    const threadChange = async (): Promise<ThreadStreamEvent | null> => {
      const state = threadState(thread);
      if (state === saved) return null;
      await this.store.saveThread(thread, ctx);
      saved = state;
      return { type: 'thread.updated', thread: clientThread(thread) };
    };
    try {
      for (const event of prefix) yield clientEvent(event)!;
      yield { type: 'stream_options', stream_options: { allow_cancel: true } };
      try {
        for await (const event of produce()) {
          if (signal.aborted) break;
          await this.persist(thread.id, event, pending, ctx);
          const update = await threadChange();
          if (update) yield update;
          const visible = clientEvent(event);
          if (visible) yield visible;
        }
        if (!signal.aborted && item && !thread.title) {
          thread.title = await this.responder.title(item.content.map((part) => part.text).join(''), signal);
        }
      } catch (error) {
        if (!signal.aborted) {
          this.options.onError?.('responder failed', error);
          yield { type: 'error', code: 'stream.error', allow_retry: true };
        }
      }
      if (!signal.aborted) {
        const update = await threadChange();
        if (update) yield update;
      }
    } finally {
      if (signal.aborted) await this.keepCancelledTurn(thread.id, pending, ctx);
    }
  }

  /** Writes happen when an item is done, replaced or removed: never per delta. */
  private async persist(threadId: string, event: ThreadStreamEvent, pending: Map<string, AssistantMessageItem>, ctx: RequestContext) {
    switch (event.type) {
      case 'thread.item.added':
        if (event.item.type === 'assistant_message') pending.set(event.item.id, structuredClone(event.item));
        break;
      case 'thread.item.updated': {
        const message = pending.get(event.item_id);
        const update = event.update;
        if (!message) break;
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
        await this.store.addThreadItem(threadId, event.item, ctx);
        break;
      case 'thread.item.replaced':
        await this.store.saveItem(threadId, event.item, ctx);
        break;
      case 'thread.item.removed':
        pending.delete(event.item_id);
        await this.store.deleteThreadItem(threadId, event.item_id, ctx);
        break;
    }
  }

  private async keepCancelledTurn(threadId: string, pending: Map<string, AssistantMessageItem>, ctx: RequestContext) {
    try {
      for (const message of pending.values()) {
        const content = message.content.filter((part) => part && part.text.length > 0);
        if (content.length) await this.store.addThreadItem(threadId, { ...message, content }, ctx);
      }
      await this.store.addThreadItem(
        threadId,
        { id: this.ids('sdk_hidden_context'), thread_id: threadId, created_at: new Date().toISOString(), type: 'sdk_hidden_context', content: CANCELLED_NOTE },
        ctx,
      );
    } catch (error) {
      this.options.onError?.('could not save the cancelled turn', error);
    }
  }
}

function threadState(thread: StoredThread): string {
  const { updated_at: _, ...state } = thread;
  return JSON.stringify(state);
}

function parseRequest(rawBody: string) {
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch {
    throw new BadRequestError('The request body is not valid JSON', 'invalid_json');
  }
  assertJsonDepth(json);
  const type = (json as { type?: unknown } | null)?.type;
  const known = ChatKitRequest.options.flatMap((union) => union.options.map((o) => o.shape.type.value)) as string[];
  if (typeof type !== 'string' || !known.includes(type)) {
    throw new BadRequestError(`Unknown request type ${JSON.stringify(type)}`, 'unknown_request_type');
  }
  const parsed = ChatKitRequest.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new BadRequestError(`${type}: ${issue.path.join('.') || 'request'}: ${issue.message}`, 'invalid_params');
  }
  return parsed.data;
}

