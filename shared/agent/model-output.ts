import type { ResponseOutputMessage, ResponseStreamEvent } from 'openai/resources/responses/responses';
import type { IdGenerator } from '../ids.js';
import type { AssistantMessageItem, ItemOfType, OutputText, ThreadStreamEvent } from '../protocol/index.js';
import { citationToAnnotation, type CitationConverters } from './annotations.js';
import type { WorkflowTracker } from './workflows.js';

type GeneratedImageItem = ItemOfType<'generated_image'>;

/**
 * Where a generated image is kept: a data URL in the item by default; upload the image and
 * return its URL to keep rows small. Called for each partial image too (`partialIndex`).
 */
export type ImageUrlFor = (image: { id: string; base64: string; partialIndex?: number }) => string | Promise<string>;

export const dataImageUrl: ImageUrlFor = ({ base64 }) => `data:image/png;base64,${base64}`;

export interface ModelOutputOptions {
  threadId: string;
  ids: IdGenerator;
  workflows: WorkflowTracker;
  citations?: CitationConverters | undefined;
  imageUrl?: ImageUrlFor | undefined;
  /** How many partial images an image generation sends, to report progress; unknown: progress 0. */
  partialImages?: number | undefined;
}

/**
 * The model's own output, from the raw Responses API events, as ChatKit items:
 * - assistant messages: added, each content part added, text deltas, citations, done
 *   (a refusal is shown as the message's text);
 * - reasoning: thoughts streamed as tasks of the open workflow (a "reasoning" one opens if none is);
 * - image generation: a generated_image item updated with each partial image.
 * A message or an image ends the open workflow: it is something to see.
 */
export class ModelOutput {
  /** By the model's item id. */
  private readonly messages = new Map<string, AssistantMessageItem>();
  private readonly images = new Map<string, GeneratedImageItem>();
  /** Streaming thoughts by reasoning item and summary index: the task holding each. */
  private readonly thoughts = new Map<string, { workflowId: string; index: number }>();

  constructor(private readonly options: ModelOutputOptions) {}

  /** Forgets what was streaming (the run failed). */
  clear(): void {
    this.messages.clear();
    this.images.clear();
    this.thoughts.clear();
  }

  async map(event: ResponseStreamEvent): Promise<ThreadStreamEvent[]> {
    const { workflows } = this.options;
    switch (event.type) {
      case 'response.output_item.added': {
        const item = event.item;
        if (item.type === 'reasoning') return workflows.current ? [] : workflows.start({ type: 'reasoning', tasks: [] }, false);
        if (item.type === 'message') {
          const events = workflows.end();
          const message: AssistantMessageItem = { ...this.newItem(), type: 'assistant_message', content: await this.content(item.content) };
          this.messages.set(item.id, message);
          events.push({ type: 'thread.item.added', item: structuredClone(message) });
          return events;
        }
        if (item.type === 'image_generation_call') {
          const events = workflows.end();
          const image: GeneratedImageItem = { ...this.newItem(), type: 'generated_image' };
          this.images.set(item.id, image);
          events.push({ type: 'thread.item.added', item: structuredClone(image) });
          return events;
        }
        return [];
      }
      case 'response.content_part.added': {
        const message = this.messages.get(event.item_id);
        if (!message || (event.part.type !== 'output_text' && event.part.type !== 'refusal')) return [];
        const [content] = await this.content([event.part]);
        message.content[event.content_index] = content!;
        return [messageUpdated(message.id, { type: 'assistant_message.content_part.added', content_index: event.content_index, content: structuredClone(content!) })];
      }
      case 'response.output_text.delta':
      case 'response.refusal.delta': {
        const message = this.messages.get(event.item_id);
        const part = message?.content[event.content_index];
        if (!message || !part) return [];
        part.text += event.delta;
        return [messageUpdated(message.id, { type: 'assistant_message.content_part.text_delta', content_index: event.content_index, delta: event.delta })];
      }
      case 'response.output_text.annotation.added': {
        const message = this.messages.get(event.item_id);
        const part = message?.content[event.content_index];
        const annotation = await citationToAnnotation(event.annotation, this.options.citations);
        // Citations ChatKit cannot show are dropped, so the index counts only those it can.
        if (!message || !part || !annotation) return [];
        part.annotations.push(annotation);
        return [
          messageUpdated(message.id, {
            type: 'assistant_message.content_part.annotation_added',
            content_index: event.content_index,
            annotation_index: part.annotations.length - 1,
            annotation,
          }),
        ];
      }
      case 'response.output_text.done':
      case 'response.refusal.done': {
        const message = this.messages.get(event.item_id);
        const part = message?.content[event.content_index];
        if (!message || !part) return [];
        part.text = event.type === 'response.output_text.done' ? event.text : event.refusal;
        return [messageUpdated(message.id, { type: 'assistant_message.content_part.done', content_index: event.content_index, content: structuredClone(part) })];
      }
      case 'response.output_item.done': {
        const item = event.item;
        if (item.type === 'message') {
          const message = this.messages.get(item.id);
          if (!message) return [];
          this.messages.delete(item.id);
          message.content = await this.content(item.content);
          return [{ type: 'thread.item.done', item: structuredClone(message) }];
        }
        if (item.type === 'image_generation_call') {
          const image = this.images.get(item.id);
          if (!image || !item.result) return [];
          this.images.delete(item.id);
          image.image = { id: item.id, url: await this.imageUrl({ id: item.id, base64: item.result }) };
          return [{ type: 'thread.item.done', item: structuredClone(image) }];
        }
        return [];
      }
      case 'response.image_generation_call.partial_image': {
        const image = this.images.get(event.item_id);
        if (!image) return [];
        const url = await this.imageUrl({ id: event.item_id, base64: event.partial_image_b64, partialIndex: event.partial_image_index });
        image.image = { id: event.item_id, url };
        const expected = this.options.partialImages;
        const progress = expected && expected > 0 ? Math.min(1, event.partial_image_index / expected) : 0;
        return [{ type: 'thread.item.updated', item_id: image.id, update: { type: 'generated_image.updated', image: { ...image.image }, progress } }];
      }
      case 'response.reasoning_summary_text.delta': {
        if (!workflows.current) return [];
        const key = `${event.item_id}:${event.summary_index}`;
        const streaming = this.thoughts.get(key);
        const task = streaming?.workflowId === workflows.current.id ? workflows.current.workflow.tasks[streaming.index] : undefined;
        if (!streaming || task?.type !== 'thought') {
          const { events, index, workflowId } = workflows.addTask({ type: 'thought', content: event.delta }, false);
          this.thoughts.set(key, { workflowId, index });
          return events;
        }
        return workflows.updateTask(streaming.workflowId, streaming.index, { ...task, content: task.content + event.delta });
      }
      case 'response.reasoning_summary_text.done': {
        if (!workflows.current) return [];
        const key = `${event.item_id}:${event.summary_index}`;
        const streaming = this.thoughts.get(key);
        this.thoughts.delete(key);
        const task = streaming?.workflowId === workflows.current.id ? workflows.current.workflow.tasks[streaming.index] : undefined;
        if (!streaming || task?.type !== 'thought') return workflows.addTask({ type: 'thought', content: event.text }, false).events;
        if (task.content === event.text) return [];
        return workflows.updateTask(streaming.workflowId, streaming.index, { ...task, content: event.text });
      }
      default:
        return [];
    }
  }

  private newItem() {
    return { id: this.options.ids('message'), thread_id: this.options.threadId, created_at: new Date().toISOString() };
  }

  private imageUrl(image: Parameters<ImageUrlFor>[0]): Promise<string> {
    return Promise.resolve((this.options.imageUrl ?? dataImageUrl)(image));
  }

  /** The message's parts as ChatKit shows them: refusals as text, citations it cannot show dropped. */
  private content(parts: ResponseOutputMessage['content']): Promise<OutputText[]> {
    return Promise.all(
      parts.map(async (part): Promise<OutputText> => {
        if (part.type === 'refusal') return { type: 'output_text', text: part.refusal, annotations: [] };
        const annotations = await Promise.all((part.annotations ?? []).map((a) => citationToAnnotation(a, this.options.citations)));
        return { type: 'output_text', text: part.text, annotations: annotations.filter((a): a is NonNullable<typeof a> => a !== null) };
      }),
    );
  }
}

function messageUpdated(itemId: string, update: Extract<ThreadStreamEvent, { type: 'thread.item.updated' }>['update']): ThreadStreamEvent {
  return { type: 'thread.item.updated', item_id: itemId, update };
}
