import type { ResponseInputItem } from 'openai/resources/responses/responses';
import type { Annotation, ThreadItem } from '../protocol/index.js';
import { userText } from './responder.js';

/** The thread as the Responses API reads it: messages, tool calls and their outputs, hidden context. */
export function toModelInput(history: ThreadItem[]): ResponseInputItem[] {
  return history.flatMap((item): ResponseInputItem[] => {
    switch (item.type) {
      case 'user_message':
        return [{ role: 'user', content: userText(item) }];
      case 'assistant_message': {
        const text = item.content.map((part) => part.text).join('');
        return text ? [{ role: 'assistant', content: text }] : [];
      }
      case 'client_tool_call': {
        const call: ResponseInputItem = { type: 'function_call', call_id: item.call_id, name: item.name, arguments: JSON.stringify(item.arguments) };
        return item.status === 'completed'
          ? [call, { type: 'function_call_output', call_id: item.call_id, output: JSON.stringify(item.output ?? null) }]
          : [call];
      }
      case 'hidden_context_item':
      case 'sdk_hidden_context': {
        const content = typeof item.content === 'string' ? item.content : JSON.stringify(item.content);
        return [{ role: 'developer', content: `Context (not shown to the user): ${content}` }];
      }
      case 'widget':
        return item.copy_text ? [{ role: 'assistant', content: item.copy_text }] : [];
      default:
        return [];
    }
  });
}

/** A model annotation as ChatKit shows it; null for kinds ChatKit has no source for. */
export function toAnnotation(annotation: unknown): Annotation | null {
  const a = annotation as { type?: string; url?: string; title?: string; filename?: string; file_id?: string; index?: number; end_index?: number };
  if (a?.type === 'url_citation' && a.url) {
    return { type: 'annotation', source: { type: 'url', url: a.url, title: a.title ?? a.url }, ...(a.end_index !== undefined ? { index: a.end_index } : {}) };
  }
  if (a?.type === 'file_citation' && (a.filename || a.file_id)) {
    const filename = a.filename ?? a.file_id!;
    return { type: 'annotation', source: { type: 'file', filename, title: filename }, ...(a.index !== undefined ? { index: a.index } : {}) };
  }
  return null;
}
