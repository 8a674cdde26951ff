import { Hono } from 'hono';
import { corsMiddleware, type ApiOptions } from '../shared/http/api.js';
import { chatkitApp } from '../shared/http/chatkit-app.js';
import { UPLOAD_ALLOW_HEADERS, UPLOAD_ALLOW_METHODS } from '../shared/http/cors.js';
import { errorBody } from '../shared/http/errors.js';
import { openApiDocument } from '../shared/http/openapi.js';
import { deleteThreadApp, listMessagesApp, listThreadsApp } from '../shared/http/rest-apps.js';
import type { ChatKitServer } from '../shared/server/index.js';
import type { Store } from '../shared/store/store.js';
import { chatPageApp, type ChatPageOptions } from './chat-page.js';
import type { DiskAttachmentStore } from './disk-attachments.js';

export interface DevAppDeps {
  api: ApiOptions;
  store: Store;
  chatkit: ChatKitServer;
  /** Takes uploads and serves previews at its signed URLs, as S3 does for the deployed stack. */
  files: DiskAttachmentStore;
  /** The chat page at `/` (dev/chat-page.ts); absent, no page. */
  page?: ChatPageOptions | undefined;
}

/**
 * Routes each request to the same per-route app a Lambda function serves, as API Gateway
 * routes to one function per route; plus what only dev has: health, the OpenAPI document, the
 * upload and preview URLs (S3's part in the stack), the chat page. Every route a browser calls
 * answers CORS for the allowed origins, errors and unknown routes included: the per-route apps
 * with their own middleware (as on Lambda), the rest with the same policy here.
 */
export function createDevApp({ api, store, chatkit, files, page }: DevAppDeps) {
  const chat = chatkitApp({ chatkit, ...api });
  const threads = listThreadsApp({ store, ...api });
  const remove = deleteThreadApp({ store, attachments: files, ...api });
  const messages = listMessagesApp({ store, ...api });
  const uploads = new Hono()
    .use(corsMiddleware(api.corsOrigins, { allowHeaders: UPLOAD_ALLOW_HEADERS, allowMethods: UPLOAD_ALLOW_METHODS }))
    .route('/', files.routes())
    .notFound((c) => c.json(errorBody('route_not_found', `No route for ${c.req.method} ${c.req.path}`), 404));

  const app = new Hono<{ Bindings: Record<string, unknown> }>()
    .all('/chatkit', (c) => chat.fetch(c.req.raw, c.env))
    .all('/threads', (c) => threads.fetch(c.req.raw, c.env))
    .all('/threads/:id', (c) => remove.fetch(c.req.raw, c.env))
    .all('/threads/:id/messages', (c) => messages.fetch(c.req.raw, c.env))
    .all('/attachments/:token', (c) => uploads.fetch(c.req.raw, c.env));
  // The chat page's token route answers no CORS (its page is same-origin): mounted before the middleware.
  if (page) app.route('/', chatPageApp(page));
  return app
    .use(corsMiddleware(api.corsOrigins))
    .get('/health', (c) => c.json({ status: 'ok' }))
    .get('/openapi.json', (c) => c.json(openApiDocument(new URL(c.req.url).origin)))
    .notFound((c) => c.json(errorBody('route_not_found', `No route for ${c.req.method} ${c.req.path}`), 404));
}
