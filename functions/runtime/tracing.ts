import { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * X-Ray, as Powertools sets it up: off outside Lambda; on Lambda it also records every outgoing
 * HTTP(S) and fetch request (the model, JWKS, Secrets Manager) as a subsegment.
 */
export const tracer = new Tracer();

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
