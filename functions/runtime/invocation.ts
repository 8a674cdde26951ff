import { recordDatabaseMetrics } from './database-metrics.js';
import { publishMetrics } from './metrics.js';
import { traced, tracer } from './tracing.js';

/**
 * One invocation of a function: in its own X-Ray subsegment (annotated with the cold start and
 * the service), and its metrics written when it ends, whether it succeeded or not.
 */
export async function invocation<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await traced(`## ${process.env._HANDLER ?? 'handler'}`, () => {
      tracer.annotateColdStart();
      tracer.addServiceNameAnnotation();
      return work();
    });
  } finally {
    recordDatabaseMetrics();
    publishMetrics();
  }
}

/** A handler whose every invocation goes through `invocation`. */
export function instrumented<A extends unknown[], R>(handler: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return (...args) => invocation(() => handler(...args));
}
