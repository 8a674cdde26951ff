import type { Agent } from '@openai/agents-core';
import type { StoredThread } from '../protocol/index.js';
import type { HistoryConverter } from '../responder/model-input.js';
import type { CancelledTurn } from '../responder/responder.js';
import type { CitationConverters } from './annotations.js';
import type { AgentContext } from './context.js';
import type { ImageUrlFor } from './model-output.js';
import type { ToolTaskFor } from './stream-events.js';

/**
 * Where a team customises what the reference lets it customise, beside its agent
 * (`createAssistant` in assistant.ts). Each is optional: left out, it behaves as the reference's default.
 */
export interface AssistantOptions {
  /** The task shown while a server tool runs; null shows none (default: the tool's name, humanized, loading). */
  toolTask?: ToolTaskFor | undefined;
  /** How the thread's items read to the model, per item type, attachments and tags (the reference's ThreadItemConverter overrides). */
  history?: HistoryConverter | undefined;
  /** How url, file and container file citations show as sources (the reference's response converter hooks). */
  citations?: CitationConverters | undefined;
  /** Where generated images are kept: the URL the item shows (default: a data URL stored in the item). */
  imageUrl?: ImageUrlFor | undefined;
  /** How many partial images an image generation sends, for its progress (default: unknown, progress 0). */
  partialImages?: number | undefined;
  /** Shown when a guardrail stops a turn and its outputInfo carries no `message`. */
  guardrailMessage?: string | undefined;
  /** Whether the client may stop a turn (ChatKit's stop button, `allow_cancel`); default yes. */
  allowCancel?: boolean | ((thread: StoredThread) => boolean | Promise<boolean>) | undefined;
  /** What a cancelled turn keeps (the reference's `handle_stream_cancelled`); default `turn.keepDefault()`. */
  onCancelled?: ((turn: CancelledTurn) => Promise<void>) | undefined;
}

/** The assistant: its agent (model, instructions, tools, handoffs, guardrails) and its options. */
export interface Assistant extends AssistantOptions {
  agent: Agent<AgentContext, any>;
}
