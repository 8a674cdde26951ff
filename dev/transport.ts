import { createMiddleware } from 'hono/factory';
import type { TokenVerifier } from '../shared/auth/index.js';
import type { Transport } from '../shared/http/api.js';
import { bearerAuthentication } from '../shared/http/authenticate.js';
import type { ApiEnv } from '../shared/http/env.js';

/**
 * The dev server's side of the transport contract: the same JWT checks as the Lambda
 * authorizer, in-process; the request's own signal (node aborts it when the client goes away);
 * background work tracked so that shutdown can wait for it.
 */
export function devTransport(verifier: TokenVerifier) {
  const pending = new Set<Promise<unknown>>();
  const connection = createMiddleware<ApiEnv>(async (c, next) => {
    c.set('abortSignal', c.req.raw.signal);
    c.set('waitUntil', (work) => {
      const tracked = work.finally(() => pending.delete(tracked));
      pending.add(tracked);
    });
    await next();
  });
  const transport: Transport = { authenticate: bearerAuthentication(verifier), connection };
  return { transport, settled: () => Promise.allSettled([...pending]) };
}
