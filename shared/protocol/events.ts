import type { Annotation } from './sources.js';
import type { OutputText, ThreadItem } from './items.js';
import type { Thread } from './thread.js';
import type { Task } from './workflow.js';
import type { JsonObject } from './common.js';

export type ThreadItemUpdate =
  | { type: 'assistant_message.content_part.added'; content_index: number; content: OutputText }
  | { type: 'assistant_message.content_part.text_delta'; content_index: number; delta: string }
  | {
      type: 'assistant_message.content_part.annotation_added';
      content_index: number;
      annotation_index: number;
      annotation: Annotation;
    }
  | { type: 'assistant_message.content_part.done'; content_index: number; content: OutputText }
  | { type: 'widget.streaming_text.value_delta'; component_id: string; delta: string; done: boolean }
  | { type: 'widget.root.updated'; widget: JsonObject }
  | { type: 'widget.component.updated'; component_id: string; component: JsonObject }
  | { type: 'workflow.task.added'; task_index: number; task: Task }
  | { type: 'workflow.task.updated'; task_index: number; task: Task }
  | { type: 'generated_image.updated'; image: { id: string; url: string }; progress?: number };

export type ErrorCode = 'stream.error' | 'custom' | (string & {});

export type ThreadStreamEvent =
  | { type: 'thread.created'; thread: Thread }
  | { type: 'thread.updated'; thread: Thread }
  | { type: 'thread.item.added'; item: ThreadItem }
  | { type: 'thread.item.updated'; item_id: string; update: ThreadItemUpdate }
  | { type: 'thread.item.done'; item: ThreadItem }
  | { type: 'thread.item.removed'; item_id: string }
  | { type: 'thread.item.replaced'; item: ThreadItem }
  | { type: 'stream_options'; stream_options: { allow_cancel: boolean } }
  | { type: 'progress_update'; icon?: string; text: string }
  | { type: 'client_effect'; name: string; data: JsonObject }
  | { type: 'error'; code: ErrorCode; message?: string; allow_retry: boolean }
  | { type: 'notice'; level: 'info' | 'warning' | 'danger'; message: string; title?: string };
