/** An event of a stream, and whether the stream ended right after it. */
export interface Marked<T> {
  value: T;
  /** True only for a value `peek` chose whose stream ended within the wait. */
  last: boolean;
}

/**
 * Passes `source` through, and for each value `peek` chooses, looks ahead: if the source ends
 * within `waitMs` that value is marked `last`. A turn uses this to write its last item together
 * with the release of its thread (one round trip instead of two) without holding back an item
 * that more events follow: a value waits at most `waitMs`, and only when it is peeked at.
 * Values are still pulled one at a time otherwise, so a producer never runs ahead of its reader.
 */
export async function* markLast<T>(source: AsyncIterable<T>, peek: (value: T) => boolean, waitMs: number): AsyncGenerator<Marked<T>> {
  const iterator = source[Symbol.asyncIterator]();
  let ahead: Promise<IteratorResult<T>> | null = null;
  let finished = false;
  try {
    for (;;) {
      const current = await (ahead ?? iterator.next());
      ahead = null;
      if (current.done) {
        finished = true;
        return;
      }
      if (!peek(current.value)) {
        yield { value: current.value, last: false };
        continue;
      }
      const next = (ahead = iterator.next());
      // A rejected look-ahead is the next pull's to report, not this one's.
      next.catch(() => {});
      let timer: NodeJS.Timeout | undefined;
      const ended = await Promise.race([
        next.then((result) => result.done === true, () => false),
        new Promise<false>((resolve) => (timer = setTimeout(resolve, waitMs, false))),
      ]);
      clearTimeout(timer);
      if (ended) finished = true;
      yield { value: current.value, last: ended };
      if (ended) return;
    }
  } finally {
    // The reader stopped early: let the source clean up (after a pending look-ahead settles).
    if (!finished) await iterator.return?.();
  }
}
