import { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * X-Ray through Powertools: off outside Lambda. Outgoing fetch requests (the model) become
 * subsegments; node's http/https module is left unpatched, because the patch opens a subsegment
 * for the Neon driver's WebSocket upgrade that never closes, and X-Ray then never receives the
 * invocation's trace at all.
 */
export const tracer = new Tracer({ captureHTTPsRequests: false });
if (tracer.isTracingEnabled()) tracer.provider.instrumentFetch();

/**
 * Runs `work` in its own subsegment, closed with the error if it fails. Subsegments nest by
 * async context, so concurrent work in one invocation does not get mixed up.
 */
export function traced<T>(name: string, work: () => Promise<T>): Promise<T> {
  if (!tracer.isTracingEnabled()) return work();
  return tracer.provider.captureAsyncFunc(name, async (subsegment) => {
    try {
      const result = await work();
      subsegment?.close();
      return result;
    } catch (error) {
      subsegment?.close(error as Error);
      throw error;
    }
  }) as Promise<T>;
}
