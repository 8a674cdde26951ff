import type { ResponseInputItem } from 'openai/resources/responses/responses';
import type { IdGenerator } from '../ids.js';
import type { StoredThread, ThreadItem, ThreadStreamEvent, UserMessageItem } from '../protocol/index.js';
import type { RequestContext, Store } from '../store/store.js';
import type { HistoryConverter } from './model-input.js';
import type { PauseRequest, ResumedPause } from './paused-turn.js';

/** What a responder gets for one turn. */
export interface TurnInput {
  /** The thread; change its title, status or metadata and the server saves it and tells the client. */
  thread: StoredThread;
  /** The message to answer; null when the turn follows a tool output or a structured input. */
  item: UserMessageItem | null;
  ctx: RequestContext;
  store: Store;
  ids: IdGenerator;
  /**
   * The items the turn answers, oldest first, hidden context included: a window of the thread's
   * latest items that ends with the message being answered (loaded with the turn's first statement).
   */
  history(): Promise<ThreadItem[]>;
  /**
   * The history as model input (`toModelInput`, through `converter` when given), with the
   * attachments' contents resolved, bounded in size (the server's `historyMaxChars`): the oldest
   * items are left out first, the message being answered always goes whole.
   */
  modelInput(converter?: HistoryConverter): Promise<ResponseInputItem[]>;
  /**
   * The paused turn this turn took over (its user answered it, wrote a new message instead, or
   * its wait ran out): the responder carries it on or tells the model. Null for most turns.
   */
  resumed: ResumedPause | null;
  /**
   * Ends the turn waiting for its user's answer (shared/responder/paused-turn.ts): the server
   * stores the request with the turn's last item and keeps the thread held for the wait. Call
   * it before the last event; it throws when the request exceeds the bounds.
   */
  pause(request: PauseRequest): void;
}

/** A turn the client cancelled, as the server hands it to a responder's `cancelled`. */
export interface CancelledTurn {
  thread: StoredThread;
  /** What the client was shown but never got as done: partial answers, open workflows and widgets, as they last were. */
  pending: ThreadItem[];
  store: Store;
  ctx: RequestContext;
  /** What the server keeps by default: each non-empty partial answer, and a hidden note telling the model the user stopped it. */
  keepDefault(): Promise<void>;
}

/**
 * Produces the assistant's side of a turn as ChatKit events. The server persists what the
 * events say (item done, replaced, removed), forwards them, and handles cancellation.
 */
export interface Responder {
  respond(input: TurnInput, signal: AbortSignal): AsyncIterable<ThreadStreamEvent>;
  /** A short title for a new thread, from its first message. */
  title(firstMessage: string, signal: AbortSignal): Promise<string>;
  /**
   * Tools a client may pick with `inference_options.tool_choice` (by id); a choice of any other
   * tool is refused before the turn starts. None: the client may not pick a tool.
   */
  tools?(): readonly string[] | Promise<readonly string[]>;
  /** Whether the client may stop this turn (ChatKit's `allow_cancel`, its stop button); default yes. */
  allowCancel?(thread: StoredThread): boolean | Promise<boolean>;
  /**
   * What a cancelled turn keeps, in place of the server's default (`turn.keepDefault()`). The
   * client is gone: what is stored here shows on its next load.
   */
  cancelled?(turn: CancelledTurn): Promise<void>;
}

/** Speech to text for `input.transcribe`. */
export interface Transcriber {
  transcribe(audio: Buffer, mimeType: string, signal: AbortSignal): Promise<string>;
}

/** Used when no model is available, or the model's title call fails. */
export function fallbackTitle(text: string): string {
  const words = text.trim().split(/\s+/).filter(Boolean).slice(0, 6).join(' ');
  return words.length > 60 ? `${words.slice(0, 57)}...` : words || 'New conversation';
}

export function userText(item: UserMessageItem): string {
  const text = item.content.map((part) => part.text).join('');
  return item.quoted_text ? `> ${item.quoted_text}\n\n${text}` : text;
}
