import OpenAI from 'openai';
import { EchoResponder } from '../responder/echo-responder.js';
import { DEFAULT_INSTRUCTIONS, DEFAULT_MODEL, OpenAIResponder, OpenAITranscriber } from '../responder/openai-responder.js';
import type { Store } from '../store/store.js';
import { ChatKitServer } from './chatkit-server.js';

interface Log {
  warn(message: string, ...extra: unknown[]): void;
  error(message: string, ...extra: unknown[]): void;
}

/**
 * The server as configured by OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_MODEL, OPENAI_INSTRUCTIONS
 * and OPENAI_TRANSCRIBE_MODEL. Without a key it answers with the offline echo responder and says
 * so — except in production (NODE_ENV=production), where a missing key stops the start.
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
  return new ChatKitServer({
    store,
    responder: new OpenAIResponder({ client, model: env.OPENAI_MODEL || DEFAULT_MODEL, instructions: env.OPENAI_INSTRUCTIONS || DEFAULT_INSTRUCTIONS }),
    transcriber: new OpenAITranscriber(client, env.OPENAI_TRANSCRIBE_MODEL || undefined),
    onError,
  });
}
