import type { Context as LambdaContext } from 'aws-lambda';

/** Time kept back before a deadline to stop the model and save the partial answer. */
export const TIMEOUT_MARGIN_MS = 5_000;

interface GatewayEvent {
  requestContext?: { requestTimeEpoch?: number };
}

/**
 * Milliseconds from now until a streamed turn must stop: the margin before whichever comes first,
 * the function's timeout or the API route's integration timeout (INTEGRATION_TIMEOUT_MS). The
 * route's clock starts when API Gateway receives the request, so time spent before the handler
 * runs (a cold start, the authorizer) counts against it even though Lambda's clock has not started.
 */
export function msUntilTurnMustStop(event: unknown, context: LambdaContext, env: NodeJS.ProcessEnv = process.env, now = Date.now()): number {
  const functionDeadline = now + context.getRemainingTimeInMillis();
  const receivedAt = (event as GatewayEvent | undefined)?.requestContext?.requestTimeEpoch;
  const routeTimeout = Number(env.INTEGRATION_TIMEOUT_MS);
  const routeDeadline = typeof receivedAt === 'number' && routeTimeout > 0 ? receivedAt + routeTimeout : Infinity;
  return Math.max(0, Math.min(functionDeadline, routeDeadline) - TIMEOUT_MARGIN_MS - now);
}
