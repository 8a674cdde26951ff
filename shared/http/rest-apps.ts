import type { Context } from 'hono';
import type * as z from 'zod/mini';
import { BadRequestError } from '../errors.js';
import { describeIssue } from '../protocol/describe-issue.js';
import { itemPlainText } from '../protocol/item-text.js';
import { deleteThreadAndFiles, type AttachmentStore } from '../server/attachment-store.js';
import type { Store } from '../store/store.js';
import { createApi, type ApiOptions } from './api.js';
import type { ApiEnv } from './env.js';
import { deleteThreadRoute, listMessagesRoute, listThreadsRoute } from './routes.js';

export interface RestDeps extends ApiOptions {
  store: Store;
  /** Where attachment bytes live, so that deleting a thread deletes them too. */
  attachments?: AttachmentStore | undefined;
}

/** GET /threads, and GET /threads?q= (search) */
export function listThreadsApp({ store, ...options }: RestDeps) {
  return createApi(options).get('/threads', async (c) => {
    const { limit, after, q } = valid(listThreadsRoute.query, c.req.query());
    if (q !== undefined) {
      const hits = await store.searchThreads({ q, limit, after }, { userId: c.var.userId });
      return c.json({
        threads: hits.data.map((h) => ({ id: h.id, title: h.title, created_at: h.created_at, updated_at: h.updated_at, snippet: h.snippet, matched_at: h.matched_at })),
        has_more: hits.has_more,
        next_cursor: hits.after ?? null,
      });
    }
    const page = await store.loadThreads({ limit, after, order: 'desc' }, { userId: c.var.userId });
    return c.json({
      threads: page.data.map((t) => ({ id: t.id, title: t.title ?? null, created_at: t.created_at, updated_at: t.updated_at })),
      has_more: page.has_more,
      next_cursor: page.after ?? null,
    });
  });
}

/** DELETE /threads/{id} */
export function deleteThreadApp({ store, attachments, ...options }: RestDeps) {
  return createApi(options).delete('/threads/:id', async (c) => {
    const { id } = valid(deleteThreadRoute.params, pathParams(c));
    const onError = (message: string, error: unknown) => c.var.logger.error(message, { error });
    await deleteThreadAndFiles(store, attachments, id, { userId: c.var.userId }, onError);
    return c.json({ status: 'deleted' as const });
  });
}

/** GET /threads/{id}/messages */
export function listMessagesApp({ store, ...options }: RestDeps) {
  return createApi(options).get('/threads/:id/messages', async (c) => {
    const { id } = valid(listMessagesRoute.params, pathParams(c));
    const { limit, after, order } = valid(listMessagesRoute.query, c.req.query());
    const page = await store.loadThreadItems(id, { limit, after, order }, { userId: c.var.userId });
    return c.json({
      messages: page.data.map((item) => ({ id: item.id, type: item.type, content: itemPlainText(item), created_at: item.created_at })),
      has_more: page.has_more,
      next_cursor: page.after ?? null,
    });
  });
}

/** The route's parameters as its schema reads them; a refusal names the parameter and what was expected. */
function valid<T extends z.ZodMiniType>(schema: T, value: unknown): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new BadRequestError(describeIssue(parsed.error.issues[0]!), 'bad_request');
  return parsed.data;
}

function pathParams(c: Context<ApiEnv>): Record<string, string> {
  return c.req.param() as Record<string, string>;
}
