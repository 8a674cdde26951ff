import type { Logger } from '@aws-lambda-powertools/logger';

/** What every route's handlers may read from the Hono context. */
export interface ApiVariables {
  /** Set by the transport's authentication: the API Gateway authorizer's context, or a verified bearer token in dev. */
  userId: string;
  requestId: string;
  logger: Logger;
  /** Fires when the client goes away or the function is about to time out. */
  abortSignal: AbortSignal;
  /** Keeps the invocation (or the dev process) alive until the promise settles. */
  waitUntil: (work: Promise<unknown>) => void;
}

export interface ApiEnv {
  Variables: ApiVariables;
  // Lambda adapters bind the API Gateway event and Lambda context here; the dev server binds node's.
  Bindings: Record<string, unknown>;
}
