import { BadRequestError } from '../errors.js';
import type { ChatKitRequest, UserMessageInput } from '../protocol/index.js';

/**
 * The most text one request may carry (MESSAGE_MAX_CHARS), in characters as JavaScript counts
 * them (UTF-16 code units). 100,000 is about 25,000 tokens, a long document pasted whole; it is
 * also what search indexes of a message (shared/store/search.ts), so every message a user sends
 * is searchable in full.
 */
export const DEFAULT_MESSAGE_MAX_CHARS = 100_000;

/**
 * Refuses, before anything is read or written, a request whose user text is longer than `max`:
 * a message (its text, its tags' id, group and data as JSON, its quoted text), a client tool's output, the
 * answers to a structured input, a custom action's payload (as JSON). The 400 names the field.
 */
export function checkTextSize(request: ChatKitRequest, max: number): void {
  const measured = measure(request);
  if (!measured || measured.length <= max) return;
  throw new BadRequestError(
    `${request.type}: ${measured.field}: ${measured.what} is ${measured.length.toLocaleString('en')} characters; at most ${max.toLocaleString('en')} are accepted`,
    'message_too_long',
  );
}

interface Measured {
  field: string;
  what: string;
  length: number;
}

function measure(request: ChatKitRequest): Measured | null {
  switch (request.type) {
    case 'threads.create':
    case 'threads.add_user_message':
      return { field: 'params.input', what: "the message's text", length: messageLength(request.params.input) };
    case 'threads.add_client_tool_output':
      return { field: 'params.result', what: 'the output (as JSON)', length: jsonLength(request.params.result) };
    case 'threads.add_structured_input':
      return {
        field: 'params.input.answers',
        what: 'the answers',
        length: Object.values(request.params.input.answers).reduce((sum, answer) => sum + answer.values.reduce((n, value) => n + value.length, 0), 0),
      };
    case 'threads.custom_action':
    case 'threads.sync_custom_action':
      return { field: 'params.action.payload', what: 'the payload (as JSON)', length: jsonLength(request.params.action.payload) };
    default:
      return null;
  }
}

function messageLength(input: UserMessageInput): number {
  let length = input.quoted_text?.length ?? 0;
  for (const part of input.content) {
    length += part.text.length;
    // A tag's every field goes into the stored message and the model's input.
    if (part.type === 'input_tag') length += part.id.length + (part.group?.length ?? 0) + jsonLength(part.data);
  }
  return length;
}

function jsonLength(value: unknown): number {
  return value === undefined ? 0 : (JSON.stringify(value)?.length ?? 0);
}
