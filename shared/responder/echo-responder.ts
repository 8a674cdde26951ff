import type { AssistantMessageItem, ThreadStreamEvent } from '../protocol/index.js';
import { fallbackTitle, userText, type Responder, type TurnInput } from './responder.js';

/** However long the message, the echo streams in at most this many deltas. */
const MAX_DELTAS = 64;

/** Answers without a model (no OPENAI_API_KEY): repeats the message, streamed like a real answer. */
export class EchoResponder implements Responder {
  async *respond({ thread, item, ids }: TurnInput, signal: AbortSignal): AsyncIterable<ThreadStreamEvent> {
    const text = `(offline echo) ${item ? userText(item) : 'Noted.'}`;
    const message: AssistantMessageItem = {
      id: ids('message'),
      thread_id: thread.id,
      created_at: new Date().toISOString(),
      type: 'assistant_message',
      content: [],
    };
    yield { type: 'thread.item.added', item: message };
    const part = { type: 'output_text' as const, text: '', annotations: [] };
    yield { type: 'thread.item.updated', item_id: message.id, update: { type: 'assistant_message.content_part.added', content_index: 0, content: part } };
    for (const delta of chunks(text, MAX_DELTAS)) {
      if (signal.aborted) return;
      part.text += delta;
      yield { type: 'thread.item.updated', item_id: message.id, update: { type: 'assistant_message.content_part.text_delta', content_index: 0, delta } };
    }
    const done = { ...part };
    yield { type: 'thread.item.updated', item_id: message.id, update: { type: 'assistant_message.content_part.done', content_index: 0, content: done } };
    yield { type: 'thread.item.done', item: { ...message, content: [done] } };
  }

  async title(firstMessage: string): Promise<string> {
    return fallbackTitle(firstMessage);
  }
}

/** The text word by word, words grouped so that there are at most `most` pieces. */
function chunks(text: string, most: number): string[] {
  const words = text.match(/\S+\s*/g) ?? [];
  const size = Math.ceil(words.length / most);
  return Array.from({ length: Math.ceil(words.length / size) }, (_, i) => words.slice(i * size, (i + 1) * size).join(''));
}
