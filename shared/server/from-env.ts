import OpenAI from 'openai';
import { AgentResponder, assistantToolTask, createAssistant } from '../agent/index.js';
import { EchoResponder } from '../responder/echo-responder.js';
import { DEFAULT_MODEL, OpenAITranscriber } from '../responder/openai-responder.js';
import type { Store } from '../store/store.js';
import { ChatKitServer } from './chatkit-server.js';

interface Log {
  info(message: string, ...extra: unknown[]): void;
  warn(message: string, ...extra: unknown[]): void;
  error(message: string, ...extra: unknown[]): void;
}

/**
 * The server as configured by OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_MODEL,
 * ASSISTANT_INSTRUCTIONS and OPENAI_TRANSCRIBE_MODEL: the assistant agent
 * (shared/agent/assistant.ts) answers. Without a key it answers with the offline echo
 * responder and says so — except in production (NODE_ENV=production), where a missing key
 * stops the start.
 */
export function createChatKitServerFromEnv(store: Store, env: NodeJS.ProcessEnv, log: Log, announce?: (line: string) => void): ChatKitServer {
  const onError = (message: string, error: unknown) => log.error(message, { error });
  if (!env.OPENAI_API_KEY) {
    if (env.NODE_ENV === 'production') throw new Error('OPENAI_API_KEY is required in production');
    const notice = 'No OPENAI_API_KEY: answering with the offline echo responder (set OPENAI_API_KEY for real answers)';
    announce ? announce(notice) : log.warn(notice);
    return new ChatKitServer({ store, responder: new EchoResponder(), onError });
  }
  const client = new OpenAI({ apiKey: env.OPENAI_API_KEY, baseURL: env.OPENAI_BASE_URL || undefined, maxRetries: 1 });
  const model = env.OPENAI_MODEL || DEFAULT_MODEL;
  // OPENAI_INSTRUCTIONS was the name before the assistant became an agent.
  const instructions = env.ASSISTANT_INSTRUCTIONS || env.OPENAI_INSTRUCTIONS || undefined;
  const responder = new AgentResponder({
    client,
    model,
    agent: createAssistant({ model, instructions }),
    toolTask: assistantToolTask,
    onUsage: (usage) => log.info('turn usage', usage),
  });
  return new ChatKitServer({ store, responder, transcriber: new OpenAITranscriber(client, env.OPENAI_TRANSCRIBE_MODEL || undefined), onError });
}
