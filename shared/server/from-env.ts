import { DEFAULT_MODEL, effortRefusal, reasoningFromEnv } from '../agent/model-settings.js';
import { DeferredResponder } from '../responder/deferred-responder.js';
import type { Transcriber } from '../responder/responder.js';
import type { Store } from '../store/store.js';
import { attachmentPolicyFromEnv, type AttachmentStore } from './attachment-store.js';
import { ChatKitServer, type ChatKitServerOptions } from './chatkit-server.js';

interface Log {
  info(message: string, ...extra: unknown[]): void;
  warn(message: string, ...extra: unknown[]): void;
  error(message: string, ...extra: unknown[]): void;
}

/**
 * The server as the environment configures it (README, Configuration): the assistant agent
 * (shared/agent/assistant.ts) answers. Without OPENAI_API_KEY the same agent runs on the offline
 * model (shared/agent/offline-model.ts), and says so — except in production (NODE_ENV=production),
 * where a missing key stops the start.
 */
export interface FromEnv {
  store: Store;
  env: NodeJS.ProcessEnv;
  log: Log;
  /** Where to say that the offline model answers (default: a log warning). */
  announce?: (line: string) => void;
  attachments?: AttachmentStore | undefined;
  /** Each turn's model token usage (logged too). */
  onUsage?: (usage: { inputTokens: number; outputTokens: number }) => void;
  /** See ChatKitServerOptions.seesClientLeave (false on Lambda). */
  seesClientLeave?: boolean | undefined;
}

export function createChatKitServerFromEnv({ store, env, log, announce, attachments, onUsage, seesClientLeave }: FromEnv): ChatKitServer {
  const common: Omit<ChatKitServerOptions, 'responder'> = {
    store,
    attachments,
    attachmentPolicy: attachmentPolicyFromEnv(env),
    historyWindow: positiveInteger(env, 'CHATKIT_HISTORY_ITEMS'),
    historyMaxChars: positiveInteger(env, 'CHATKIT_HISTORY_MAX_CHARS'),
    turnSeconds: positiveInteger(env, 'TURN_MAX_SECONDS'),
    pauseSeconds: positiveInteger(env, 'APPROVAL_EXPIRY_SECONDS'),
    messageMaxChars: positiveInteger(env, 'MESSAGE_MAX_CHARS'),
    seesClientLeave,
    onError: (message, error) => log.error(message, { error }),
  };
  const listed = list(env.OPENAI_MODELS);
  const model = env.OPENAI_MODEL || DEFAULT_MODEL;
  const reasoning = reasoningFromEnv(env);
  // The default model and every model a client may pick.
  const refused = effortRefusal(reasoning.effort, [model, ...(listed ?? [])]);
  if (refused) throw new Error(`ASSISTANT_REASONING_EFFORT="${reasoning.effort}" is refused by ${refused.model}, which takes ${refused.takes.join(', ')}`);
  // OPENAI_INSTRUCTIONS was the name before the assistant became an agent.
  const instructions = env.ASSISTANT_INSTRUCTIONS || env.OPENAI_INSTRUCTIONS || undefined;
  if (!env.OPENAI_API_KEY) {
    if (env.NODE_ENV === 'production') throw new Error('OPENAI_API_KEY is required in production');
    const notice =
      'No OPENAI_API_KEY: the assistant runs on an offline model that echoes what you write; "/tool_name {json}" calls one of its tools (set OPENAI_API_KEY for real answers)';
    announce ? announce(notice) : log.warn(notice);
    const responder = new DeferredResponder(async () => {
      const { AgentResponder, createAssistant, OfflineModelProvider } = await import('../agent/index.js');
      return new AgentResponder({ ...createAssistant({ model, instructions }), modelProvider: new OfflineModelProvider(), model, reasoning });
    });
    return new ChatKitServer({ ...common, responder, models: listed });
  }
  const apiKey = env.OPENAI_API_KEY;
  // The openai SDK, like the Agents SDK, loads with the first turn (or transcription), not at cold start.
  const client = once(async () => {
    const { default: OpenAI } = await import('openai');
    return new OpenAI({ apiKey, baseURL: env.OPENAI_BASE_URL || undefined, maxRetries: 1 });
  });
  // The Agents SDK loads with the first turn, once its first events have gone, not at cold start.
  const responder = new DeferredResponder(async () => {
    const [{ AgentResponder, createAssistant }, openai] = await Promise.all([import('../agent/index.js'), client()]);
    return new AgentResponder({
      ...createAssistant({ model, instructions }),
      client: openai,
      model,
      reasoning,
      onUsage: (usage) => {
        log.info('turn usage', usage);
        onUsage?.(usage);
      },
    });
  });
  return new ChatKitServer({
    ...common,
    // A client may pick a model only from this list: any other would be billed to the deployment.
    models: listed ?? [model],
    responder,
    transcriber: lazyTranscriber(async () => {
      const [{ OpenAITranscriber }, openai] = await Promise.all([import('../responder/openai-responder.js'), client()]);
      return new OpenAITranscriber(openai, env.OPENAI_TRANSCRIBE_MODEL || undefined);
    }),
  });
}

/** `load` once and shared; a failed load is tried again by the next call. */
function once<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () =>
    (loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    }));
}

function lazyTranscriber(load: () => Promise<Transcriber>): Transcriber {
  const loaded = once(load);
  return { transcribe: async (...args) => (await loaded()).transcribe(...args) };
}

function list(value: string | undefined): string[] | undefined {
  const items = (value ?? '').split(',').map((item) => item.trim()).filter(Boolean);
  return items.length ? items : undefined;
}

function positiveInteger(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new Error(`${name} must be a positive whole number, not "${value}"`);
  return number;
}
