import type { APIGatewayProxyEvent, Context as LambdaContext } from 'aws-lambda';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { Transport } from '../../shared/http/api.js';
import { UnauthorizedError } from '../../shared/errors.js';
import type { ApiEnv } from '../../shared/http/env.js';

/** What `streamingHandler` adds to the Lambda context it hands to Hono. */
export interface StreamingContext extends LambdaContext {
  abortSignal: AbortSignal;
  waitUntil: (work: Promise<unknown>) => void;
}

interface LambdaBindings {
  event: APIGatewayProxyEvent;
  /** `handle()` binds it as lambdaContext, `streamHandle()` as context. */
  lambdaContext?: LambdaContext;
  context?: LambdaContext | StreamingContext;
}

const bindings = (c: Context<ApiEnv>) => c.env as unknown as LambdaBindings;

/**
 * API Gateway has already verified the token: the JWT authorizer put the user id in the
 * request context, and a request without it never reaches the function.
 */
const authorizerContext = createMiddleware<ApiEnv>(async (c, next) => {
  const userId = bindings(c).event?.requestContext?.authorizer?.userId;
  if (typeof userId !== 'string' || userId.length === 0) throw new UnauthorizedError();
  c.set('userId', userId);
  await next();
});

const never = new AbortController().signal;

const lambdaConnection = createMiddleware<ApiEnv>(async (c, next) => {
  const context = bindings(c).context;
  const streaming = context && 'abortSignal' in context ? context : undefined;
  c.set('abortSignal', streaming?.abortSignal ?? never);
  c.set('waitUntil', streaming?.waitUntil ?? (() => {}));
  await next();
});

export const lambdaTransport: Transport = {
  authenticate: authorizerContext,
  connection: lambdaConnection,
  requestId: (c) => bindings(c).event?.requestContext?.requestId ?? crypto.randomUUID(),
};
