import type { StoredThread, ThreadStreamEvent } from '../protocol/index.js';
import type { CancelledTurn, Responder, TurnInput } from './responder.js';

/**
 * A responder loaded on first use: a heavy one (the Agents SDK) stays out of the function's
 * cold start and loads while the first turn's statement is on its way to the database.
 */
export class DeferredResponder implements Responder {
  private loading: Promise<Responder> | undefined;

  constructor(private readonly load: () => Promise<Responder>) {}

  prepare(): void {
    void this.loaded().catch(() => {}); // a failed load is reported by the turn that needs it
  }

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
    this.loading ??= this.load().catch((error: unknown) => {
      this.loading = undefined; // the next turn tries again
      throw error;
    });
    return this.loading;
  }
}
