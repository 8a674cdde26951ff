import type { StoredThread, ThreadStreamEvent } from '../protocol/index.js';
import type { CancelledTurn, Responder, TurnInput } from './responder.js';

/**
 * A responder loaded on first use: a heavy one (the Agents SDK: over 1 MiB to compile) stays out of
 * the function's cold start and loads when a turn first needs it, one turn of the event loop later,
 * so that what the server has written by then (the turn's first events) is on its way to the
 * client before the compile holds the thread.
 *
 * It does not start as the turn's first statement is issued: measured on a cold start (npm run
 * bench), such a load ran before the new database connection had even sent its handshake, and the
 * first SSE byte waited for the whole compile; the first turn's model request now waits for it
 * instead, which it did anyway.
 */
export class DeferredResponder implements Responder {
  private loading: Promise<Responder> | undefined;

  constructor(private readonly load: () => Promise<Responder>) {}

  async *respond(input: TurnInput, signal: AbortSignal): AsyncIterable<ThreadStreamEvent> {
    yield* (await this.loaded()).respond(input, signal);
  }
  async title(firstMessage: string, signal: AbortSignal): Promise<string> {
    return (await this.loaded()).title(firstMessage, signal);
  }

  async tools(): Promise<readonly string[]> {
    return (await (await this.loaded()).tools?.()) ?? [];
  }

  async allowCancel(thread: StoredThread): Promise<boolean> {
    return (await (await this.loaded()).allowCancel?.(thread)) ?? true;
  }

  async cancelled(turn: CancelledTurn): Promise<void> {
    const responder = await this.loaded();
    return responder.cancelled ? responder.cancelled(turn) : turn.keepDefault();
  }

  private loaded(): Promise<Responder> {
    this.loading ??= new Promise((resolve) => setImmediate(resolve)).then(this.load).catch((error: unknown) => {
      this.loading = undefined; // the next turn tries again
      throw error;
    });
    return this.loading;
  }
}
