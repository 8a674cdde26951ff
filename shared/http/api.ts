import type { Logger } from '@aws-lambda-powertools/logger';
import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { createMiddleware } from 'hono/factory';
import { requestId } from 'hono/request-id';
import { API_ALLOW_HEADERS, API_ALLOW_METHODS, API_EXPOSE_HEADERS, PREFLIGHT_MAX_AGE_SECONDS } from './cors.js';
import type { ApiEnv } from './env.js';
import { errorBody, onError, onNotFound } from './errors.js';

/** Request bodies above this are refused with 413 (API Gateway's own limit is 10 MB). */
export const MAX_BODY_BYTES = 1024 * 1024;

/** How a transport plugs into the shared apps. */
export interface Transport {
  /** Sets `userId`, or rejects with 401. */
  authenticate: MiddlewareHandler<ApiEnv>;
  /** Sets `abortSignal` (and `waitUntil`) from what the transport knows about the connection. */
  connection: MiddlewareHandler<ApiEnv>;
  /** The id that ties a request's logs together (API Gateway's, or a fresh one). */
  requestId?: (c: Parameters<MiddlewareHandler<ApiEnv>>[0]) => string;
}

export interface ApiOptions {
  transport: Transport;
  logger: Logger;
  /** Allowed browser origins; `['*']` allows any. */
  corsOrigins: string[];
}

/**
 * The middleware every route shares, in order: request id, structured request log, CORS
 * (answering preflights before authentication), body limit, connection, authentication.
 */
export function createApi({ transport, logger, corsOrigins }: ApiOptions): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.use(requestId(transport.requestId ? { generator: transport.requestId } : {}));
  app.use(requestLog(logger));
  app.use(corsMiddleware(corsOrigins));
  app.use(
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) => c.json(errorBody('payload_too_large', `Request body is larger than ${MAX_BODY_BYTES} bytes`), 413),
    }),
  );
  app.use(transport.connection);
  app.use(transport.authenticate);
  app.onError(onError);
  app.notFound(onNotFound);
  return app;
}

function requestLog(logger: Logger) {
  return createMiddleware<ApiEnv>(async (c, next) => {
    const started = performance.now();
    const child = logger.createChild();
    child.appendKeys({ requestId: c.var.requestId });
    c.set('logger', child);
    await next();
    child.info('request', {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round(performance.now() - started),
      userId: c.var.userId,
    });
  });
}

/**
 * The API's CORS (shared/http/cors.ts): answers preflights, and puts the headers on every
 * response, errors included, so that a page can read a 401 or a 409 and act on it.
 */
export function corsMiddleware(
  corsOrigins: string[],
  { allowHeaders = API_ALLOW_HEADERS, allowMethods = API_ALLOW_METHODS }: { allowHeaders?: readonly string[]; allowMethods?: readonly string[] } = {},
): MiddlewareHandler {
  return cors({
    origin: corsOrigins.includes('*') ? '*' : corsOrigins,
    allowHeaders: [...allowHeaders],
    allowMethods: [...allowMethods],
    exposeHeaders: [...API_EXPOSE_HEADERS],
    maxAge: PREFLIGHT_MAX_AGE_SECONDS,
  });
}
