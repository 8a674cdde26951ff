import type { Attachment, Page, StoredThread, Thread, ThreadItem, ThreadMetadata, ThreadStreamEvent } from '../protocol/index.js';
import { isHiddenItem } from '../protocol/item-text.js';

// What a client may see. Thread metadata and attachment metadata are the integration's own:
// stored, never returned. Absent fields are omitted (JSON drops undefined).

const EMPTY_PAGE: Page<ThreadItem> = { data: [], has_more: false };

export function clientThread(thread: ThreadMetadata | StoredThread, items: Page<ThreadItem> = EMPTY_PAGE): Thread {
  return {
    id: thread.id,
    title: thread.title,
    created_at: thread.created_at,
    status: thread.status,
    allowed_image_domains: thread.allowed_image_domains,
    metadata: {},
    items: clientItems(items),
  };
}

export function clientAttachment(attachment: Attachment): Attachment {
  const { metadata: _integrationOnly, ...visible } = attachment;
  return visible as Attachment;
}

export function clientItem(item: ThreadItem): ThreadItem {
  return item.type === 'user_message' ? { ...item, attachments: item.attachments.map(clientAttachment) } : item;
}

export function clientItems(page: Page<ThreadItem>): Page<ThreadItem> {
  return { ...page, data: page.data.filter((item) => !isHiddenItem(item)).map(clientItem) };
}

/** The event as the client may see it; null for events about hidden items. */
export function clientEvent(event: ThreadStreamEvent): ThreadStreamEvent | null {
  switch (event.type) {
    case 'thread.item.added':
    case 'thread.item.done':
    case 'thread.item.replaced':
      return isHiddenItem(event.item) ? null : { ...event, item: clientItem(event.item) };
    case 'thread.created':
    case 'thread.updated':
      return { ...event, thread: clientThread(event.thread, event.thread.items) };
    default:
      return event;
  }
}

/** One Server-Sent Event. */
export function encodeSse(event: ThreadStreamEvent): string {
  return `data: ${JSON.stringify(event)}\n\n`;
}
