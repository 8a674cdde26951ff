import type { Logger } from '@aws-lambda-powertools/logger';
import { recordDatabaseMetrics } from './database-metrics.js';
import { publishMetrics } from './metrics.js';
import { annotateInvocation, startTracing, traced, tracingReady } from './tracing.js';

interface ApiGatewayEvent {
  requestContext?: { requestId?: string };
}

/**
 * One invocation of a function: in its own X-Ray subsegment (annotated with the cold start, the
 * service and, for API requests, the request id) from the second invocation of an environment on
 * (functions/runtime/tracing.ts), its log lines tagged with that request id (the X-Request-Id the
 * caller sees), and its metrics written when it ends, whether it succeeded or not.
 */
export async function invocation<T>(work: () => Promise<T>, request: { event?: unknown; logger?: Logger } = {}): Promise<T> {
  const requestId = (request.event as ApiGatewayEvent | undefined)?.requestContext?.requestId;
  if (requestId) request.logger?.appendKeys({ requestId });
  await tracingReady();
  try {
    return await traced(
      `## ${process.env._HANDLER ?? 'handler'}`,
      () => {
        annotateInvocation();
        return work();
      },
      requestId ? { requestId } : {},
    );
  } finally {
    if (requestId) request.logger?.removeKeys(['requestId']);
    recordDatabaseMetrics();
    publishMetrics();
    startTracing();
  }
}

/** A handler whose every invocation goes through `invocation`; the logger gets the request id. */
export function instrumented<A extends unknown[], R>(handler: (...args: A) => Promise<R>, logger?: Logger): (...args: A) => Promise<R> {
  return (...args) => invocation(() => handler(...args), { event: args[0], logger });
}
