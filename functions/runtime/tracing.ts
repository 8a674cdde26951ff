import type { Tracer } from '@aws-lambda-powertools/tracer';

let tracer: Tracer | undefined;
let loading: Promise<void> | undefined;

/**
 * X-Ray through Powertools, kept off the cold start: the tracer and the X-Ray SDK (with the parts of
 * Node they load) cost more init than the rest of a REST function, and a `fetch` at init (the
 * secrets) would find no trace and log a "context missing" error. So the first invocation of an
 * execution environment runs untraced, and once it has answered the tracer loads (its own chunk)
 * for every invocation after it. The first invocation's trace holds what Lambda records itself: the
 * function's segment with its Initialization, Invocation and Overhead subsegments.
 *
 * Lambda may freeze the environment before the load is done: the next invocation then waits for it,
 * so that every invocation after the first is traced.
 */
export function startTracing(): void {
  if (loading || !process.env.AWS_EXECUTION_ENV) return; // only in Lambda, as Powertools decides
  // A timer, not a microtask: a buffered response is posted by the runtime on its next turn of
  // the event loop, before this runs, so the load never delays the answer it follows.
  loading = new Promise((resolve) => setTimeout(resolve, 0))
    .then(() => import('./tracer.js'))
    .then(
      ({ createTracer }) => void (tracer = createTracer()),
      (error: unknown) => console.warn('X-Ray tracing is off: the tracer did not load', error),
    );
}

/** Resolves once the tracer started by `startTracing` is ready (at once if none was started). */
export function tracingReady(): Promise<void> {
  return loading ?? Promise.resolve();
}

/**
 * Runs `work` in its own subsegment, closed with the error if it fails; `annotations` go on it.
 * Subsegments nest by async context, so concurrent work in one invocation does not get mixed up.
 * Untraced while the tracer is not loaded.
 */
export function traced<T>(name: string, work: () => Promise<T>, annotations: Record<string, string> = {}): Promise<T> {
  const current = tracer;
  if (!current) return work();
  return current.provider.captureAsyncFunc(name, async (subsegment) => {
    for (const [key, value] of Object.entries(annotations)) subsegment?.addAnnotation(key, value);
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

/** Annotates the current subsegment with the cold start and the service name, as Powertools does. */
export function annotateInvocation(): void {
  tracer?.annotateColdStart();
  tracer?.addServiceNameAnnotation();
}
