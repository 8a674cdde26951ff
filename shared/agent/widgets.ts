import type { JsonObject, ThreadItemUpdate, ThreadStreamEvent, WidgetItem } from '../protocol/index.js';

/** A widget as a tool gives it: one tree, or successive states of one tree (a stream). */
export type WidgetSource = JsonObject | AsyncIterable<JsonObject>;

/**
 * The events that show a widget: a static tree is one `thread.item.done`; a stream is added
 * with its first state, updated as it changes, and done with its last.
 */
export async function* widgetEvents(threadId: string, source: WidgetSource, itemId: string, copyText?: string): AsyncGenerator<ThreadStreamEvent> {
  const item = (widget: JsonObject): WidgetItem => ({
    id: itemId,
    thread_id: threadId,
    created_at: new Date().toISOString(),
    type: 'widget',
    widget,
    ...(copyText !== undefined ? { copy_text: copyText } : {}),
  });
  if (!isAsyncIterable(source)) {
    yield { type: 'thread.item.done', item: item(source) };
    return;
  }
  let last: JsonObject | null = null;
  for await (const state of source) {
    if (last === null) {
      yield { type: 'thread.item.added', item: item(state) };
    } else {
      for (const update of widgetUpdates(last, state)) yield { type: 'thread.item.updated', item_id: itemId, update };
    }
    last = state;
  }
  if (last !== null) yield { type: 'thread.item.done', item: item(last) };
}

/**
 * How a widget changed, as ChatKit applies it: text appended to an identified Text or Markdown
 * component streams as a delta; any other change replaces the whole tree.
 */
export function widgetUpdates(before: JsonObject, after: JsonObject): ThreadItemUpdate[] {
  const deltas: ThreadItemUpdate[] = [];
  const sameShape = compare(before, after, deltas);
  return sameShape ? deltas : [{ type: 'widget.root.updated', widget: after }];
}

function compare(before: unknown, after: unknown, deltas: ThreadItemUpdate[]): boolean {
  if (Array.isArray(before) || Array.isArray(after)) {
    if (!Array.isArray(before) || !Array.isArray(after) || before.length !== after.length) return false;
    return before.every((value, index) => compare(value, after[index], deltas));
  }
  if (!isObject(before) || !isObject(after)) return before === after;
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  if (isStreamingText(before) && isStreamingText(after) && before.id === after.id) {
    const previous = before.value as string;
    const next = after.value as string;
    if (next !== previous || before.streaming !== after.streaming) {
      if (typeof after.id !== 'string' || !next.startsWith(previous)) return false;
      deltas.push({ type: 'widget.streaming_text.value_delta', component_id: after.id, delta: next.slice(previous.length), done: after.streaming !== true });
    }
    keys.delete('value');
    keys.delete('streaming');
  }
  for (const key of keys) {
    if (!compare(before[key], after[key], deltas)) return false;
  }
  return true;
}

function isStreamingText(node: Record<string, unknown>): boolean {
  return (node.type === 'Text' || node.type === 'Markdown') && typeof node.value === 'string';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isAsyncIterable(value: WidgetSource): value is AsyncIterable<JsonObject> {
  return typeof (value as AsyncIterable<JsonObject>)[Symbol.asyncIterator] === 'function';
}
