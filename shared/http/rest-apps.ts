import { itemPlainText } from '../protocol/index.js';
import { deleteThreadAndFiles, type AttachmentStore } from '../server/attachment-store.js';
import type { Store } from '../store/store.js';
import { createApi, type ApiOptions } from './api.js';
import { deleteThreadRoute, listMessagesRoute, listThreadsRoute } from './routes.js';

export interface RestDeps extends ApiOptions {
  store: Store;
  /** Where attachment bytes live, so that deleting a thread deletes them too. */
  attachments?: AttachmentStore | undefined;
}

/** GET /threads, and GET /threads?q= (search) */
export function listThreadsApp({ store, ...options }: RestDeps) {
  return createApi(options).openapi(listThreadsRoute, async (c) => {
    const { limit, after, q } = c.req.valid('query');
    if (q !== undefined) {
      const hits = await store.searchThreads({ q, limit, after }, { userId: c.var.userId });
      return c.json(
        {
          threads: hits.data.map((h) => ({ id: h.id, title: h.title, created_at: h.created_at, updated_at: h.updated_at, snippet: h.snippet, matched_at: h.matched_at })),
          has_more: hits.has_more,
          next_cursor: hits.after ?? null,
        },
        200,
      );
    }
    const page = await store.loadThreads({ limit, after, order: 'desc' }, { userId: c.var.userId });
    return c.json(
      {
        threads: page.data.map((t) => ({ id: t.id, title: t.title ?? null, created_at: t.created_at, updated_at: t.updated_at })),
        has_more: page.has_more,
        next_cursor: page.after ?? null,
      },
      200,
    );
  });
}

/** DELETE /threads/{id} */
export function deleteThreadApp({ store, attachments, ...options }: RestDeps) {
  return createApi(options).openapi(deleteThreadRoute, async (c) => {
    const onError = (message: string, error: unknown) => c.var.logger.error(message, { error });
    await deleteThreadAndFiles(store, attachments, c.req.valid('param').id, { userId: c.var.userId }, onError);
    return c.json({ status: 'deleted' as const }, 200);
  });
}

/** GET /threads/{id}/messages */
export function listMessagesApp({ store, ...options }: RestDeps) {
  return createApi(options).openapi(listMessagesRoute, async (c) => {
    const { limit, after, order } = c.req.valid('query');
    const page = await store.loadThreadItems(c.req.valid('param').id, { limit, after, order }, { userId: c.var.userId });
    return c.json(
      {
        messages: page.data.map((item) => ({ id: item.id, type: item.type, content: itemPlainText(item), created_at: item.created_at })),
        has_more: page.has_more,
        next_cursor: page.after ?? null,
      },
      200,
    );
  });
}
