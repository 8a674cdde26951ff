import { Hono } from 'hono';
import type { ApiOptions } from '../shared/http/api.js';
import { chatkitApp } from '../shared/http/chatkit-app.js';
import { errorBody } from '../shared/http/errors.js';
import { openApiDocument } from '../shared/http/openapi.js';
import { deleteThreadApp, listMessagesApp, listThreadsApp } from '../shared/http/rest-apps.js';
import type { ChatKitServer } from '../shared/server/index.js';
import type { Store } from '../shared/store/store.js';
import type { DiskAttachmentStore } from './disk-attachments.js';

export interface DevAppDeps {
  api: ApiOptions;
  store: Store;
  chatkit: ChatKitServer;
  /** Takes uploads and serves previews at its signed URLs, as S3 does for the deployed stack. */
  files: DiskAttachmentStore;
}

/**
 * Routes each request to the same per-route app a Lambda function serves, as API Gateway
 * routes to one function per route; plus what only dev has (health, the OpenAPI document).
 */
export function createDevApp({ api, store, chatkit, files }: DevAppDeps) {
  const chat = chatkitApp({ chatkit, ...api });
  const threads = listThreadsApp({ store, ...api });
  const remove = deleteThreadApp({ store, attachments: files, ...api });
  const uploads = files.routes();
  const messages = listMessagesApp({ store, ...api });

  return new Hono<{ Bindings: Record<string, unknown> }>()
    .get('/health', (c) => c.json({ status: 'ok' }))
    .get('/openapi.json', (c) => c.json(openApiDocument(new URL(c.req.url).origin)))
    .all('/chatkit', (c) => chat.fetch(c.req.raw, c.env))
    .all('/threads', (c) => threads.fetch(c.req.raw, c.env))
    .all('/threads/:id', (c) => remove.fetch(c.req.raw, c.env))
    .all('/threads/:id/messages', (c) => messages.fetch(c.req.raw, c.env))
    .all('/attachments/:token', (c) => uploads.fetch(c.req.raw, c.env))
    .notFound((c) => c.json(errorBody('route_not_found', `No route for ${c.req.method} ${c.req.path}`), 404));
}
