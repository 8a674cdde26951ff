import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ClientError, DatabaseUnavailableError, TooManyRequestsError } from '../errors.js';
import type { ApiEnv } from './env.js';

export interface ErrorBody {
  error: { code: string; message: string };
}

export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}

/**
 * Every failure leaves as `{error:{code,message}}`: a client error as itself, a database that
 * could not answer as a 503 to retry, anything else as a bare 500.
 */
export function onError(error: Error, c: Context<ApiEnv>): Response {
  if (error instanceof ClientError) {
    if (error instanceof TooManyRequestsError) c.header('Retry-After', String(error.retryAfterSeconds));
    return c.json(errorBody(error.code, error.message), error.status as ContentfulStatusCode);
  }
  if (error instanceof DatabaseUnavailableError) {
    c.var.logger?.warn('database unavailable', { reason: error.reason, error: error.cause });
    c.header('Retry-After', String(error.retryAfterSeconds));
    return c.json(errorBody(error.code, error.message), 503);
  }
  if (error instanceof HTTPException && error.status < 500) {
    return c.json(errorBody(codeForStatus(error.status), error.message || 'Bad request'), error.status as ContentfulStatusCode);
  }
  c.var.logger?.error('unhandled error', { error });
  return c.json(errorBody('internal_error', 'Internal server error'), 500);
}

export function onNotFound(c: Context<ApiEnv>): Response {
  return c.json(errorBody('route_not_found', `No route for ${c.req.method} ${c.req.path}`), 404);
}

function codeForStatus(status: number): string {
  return { 400: 'bad_request', 401: 'unauthorized', 403: 'forbidden', 404: 'not_found', 413: 'payload_too_large' }[status] ?? 'bad_request';
}
