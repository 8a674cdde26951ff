/**
 * Runs `load` once and shares its promise, like `??=`, except that a failure is not kept: the
 * next call tries again. A transient error at a cold start (Secrets Manager throttling, a
 * network blip) must not leave the instance failing every request until Lambda recycles it.
 */
export function cachedUntilFailure<T>(load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= load().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}
