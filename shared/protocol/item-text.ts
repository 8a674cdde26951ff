import type { ThreadItem, ThreadItemType } from './items.js';

// What the store and the REST routes need of items at run time, with no schema library behind it:
// these ship in every function, the schemas only where requests are parsed.

export const HIDDEN_ITEM_TYPES = ['hidden_context_item', 'sdk_hidden_context'] as const satisfies readonly ThreadItemType[];

export function isHiddenItem(item: ThreadItem): boolean {
  return (HIDDEN_ITEM_TYPES as readonly string[]).includes(item.type);
}

/** The item's readable text, as the REST messages route shows it; null for items without text. */
export function itemPlainText(item: ThreadItem): string | null {
  switch (item.type) {
    case 'user_message':
      return item.content.map((part) => part.text).join('');
    case 'assistant_message':
      return item.content.map((part) => part.text).join('');
    case 'widget':
      return item.copy_text ?? null;
    case 'sdk_hidden_context':
      return item.content;
    case 'hidden_context_item':
      return typeof item.content === 'string' ? item.content : null;
    default:
      return null;
  }
}
