import OpenAI, { toFile } from 'openai';
import type { AssistantMessageItem, ClientToolCallItem, ThreadStreamEvent } from '../protocol/index.js';
import { toAnnotation } from './model-input.js';
import { isReasoningModel } from './reasoning-models.js';
import { fallbackTitle, type Responder, type Transcriber, type TurnInput } from './responder.js';

/** A title's output budget on a reasoning model, thinking included. */
const REASONING_TITLE_TOKENS = 1024;
export const DEFAULT_INSTRUCTIONS = 'You are a helpful assistant.';

export interface OpenAIResponderOptions {
  client: OpenAI;
  model: string;
  instructions: string;
}

/** Answers through the Responses API, streamed, mapping its events to ChatKit's. */
export class OpenAIResponder implements Responder {
  constructor(private readonly options: OpenAIResponderOptions) {}

  async *respond(turn: TurnInput, signal: AbortSignal): AsyncIterable<ThreadStreamEvent> {
    const stream = await this.options.client.responses.create(
      { model: turn.item?.inference_options.model ?? this.options.model, instructions: this.options.instructions, input: await turn.modelInput(), stream: true, store: false },
      { signal },
    );
    // Output items by the model's id, as ChatKit items under our ids.
    const messages = new Map<string, AssistantMessageItem>();
    const now = () => new Date().toISOString();
    for await (const event of stream) {
      switch (event.type) {
        case 'response.output_item.added': {
          if (event.item.type !== 'message') break;
          const item: AssistantMessageItem = { id: turn.ids('message'), thread_id: turn.thread.id, created_at: now(), type: 'assistant_message', content: [] };
          messages.set(event.item.id!, item);
          yield { type: 'thread.item.added', item: structuredClone(item) };
          break;
        }
        case 'response.content_part.added': {
          const item = messages.get(event.item_id);
          if (!item || (event.part.type !== 'output_text' && event.part.type !== 'refusal')) break;
          // A refusal is shown as what it is: the model's text (as the reference converts it).
          const text = event.part.type === 'refusal' ? event.part.refusal : event.part.text;
          const content = { type: 'output_text' as const, text, annotations: [] };
          item.content[event.content_index] = content;
          yield { type: 'thread.item.updated', item_id: item.id, update: { type: 'assistant_message.content_part.added', content_index: event.content_index, content: { ...content } } };
          break;
        }
        case 'response.output_text.delta':
        case 'response.refusal.delta': {
          const item = messages.get(event.item_id);
          const part = item?.content[event.content_index];
          if (!item || !part) break;
          part.text += event.delta;
          yield { type: 'thread.item.updated', item_id: item.id, update: { type: 'assistant_message.content_part.text_delta', content_index: event.content_index, delta: event.delta } };
          break;
        }
        case 'response.output_text.annotation.added': {
          const item = messages.get(event.item_id);
          const part = item?.content[event.content_index];
          const annotation = toAnnotation(event.annotation);
          if (!item || !part || !annotation) break;
          part.annotations.push(annotation);
          yield {
            type: 'thread.item.updated',
            item_id: item.id,
            update: { type: 'assistant_message.content_part.annotation_added', content_index: event.content_index, annotation_index: part.annotations.length - 1, annotation },
          };
          break;
        }
        case 'response.output_text.done':
        case 'response.refusal.done': {
          const item = messages.get(event.item_id);
          const part = item?.content[event.content_index];
          if (!item || !part) break;
          part.text = event.type === 'response.refusal.done' ? event.refusal : event.text;
          yield { type: 'thread.item.updated', item_id: item.id, update: { type: 'assistant_message.content_part.done', content_index: event.content_index, content: structuredClone(part) } };
          break;
        }
        case 'response.output_item.done': {
          if (event.item.type === 'message') {
            const item = messages.get(event.item.id);
            if (item) yield { type: 'thread.item.done', item: structuredClone(item) };
          } else if (event.item.type === 'function_call') {
            const call: ClientToolCallItem = {
              id: turn.ids('tool_call'),
              thread_id: turn.thread.id,
              created_at: now(),
              type: 'client_tool_call',
              status: 'pending',
              call_id: event.item.call_id,
              name: event.item.name,
              arguments: parseArguments(event.item.arguments),
            };
            yield { type: 'thread.item.done', item: call };
          }
          break;
        }
        // The code goes with the error: the server tells the user of some (context_length_exceeded).
        case 'error':
          throw Object.assign(new Error(`model stream failed: ${event.message}`), { code: event.code });
        case 'response.failed':
          throw Object.assign(new Error(`model response failed: ${event.response.error?.message ?? 'unknown error'}`), { code: event.response.error?.code });
      }
    }
  }

  async title(firstMessage: string, signal: AbortSignal): Promise<string> {
    try {
      const response = await this.options.client.responses.create(
        {
          model: this.options.model,
          instructions: 'Write a title of at most six words for a conversation that starts with the user message below. Answer with the title only, no quotes.',
          input: firstMessage.slice(0, 2000),
          // A reasoning model spends output tokens thinking first: 24 would all go to that.
          max_output_tokens: isReasoningModel(this.options.model) ? REASONING_TITLE_TOKENS : 24,
          store: false,
        },
        { signal },
      );
      const title = response.output_text.trim().replace(/^["'\s]+|["'\s.]+$/g, '');
      return title ? title.slice(0, 80) : fallbackTitle(firstMessage);
    } catch {
      return fallbackTitle(firstMessage);
    }
  }
}

function parseArguments(json: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(json);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : { value: parsed };
  } catch {
    return { raw: json };
  }
}

export class OpenAITranscriber implements Transcriber {
  constructor(
    private readonly client: OpenAI,
    private readonly model = 'gpt-4o-mini-transcribe',
  ) {}

  async transcribe(audio: Buffer, mimeType: string, signal: AbortSignal): Promise<string> {
    const mediaType = mimeType.split(';', 1)[0]!.trim();
    const extension = mediaType.split('/')[1] ?? 'webm';
    const file = await toFile(audio, `audio.${extension}`, { type: mediaType });
    const result = await this.client.audio.transcriptions.create({ file, model: this.model }, { signal });
    return result.text;
  }
}

