import type { Logger } from '@aws-lambda-powertools/logger';
import type { ThreadStreamEvent } from '../protocol/index.js';
import { encodeSse, type ChatKitServer } from '../server/index.js';
import { createApi, type ApiOptions } from './api.js';

/** Sees a streamed turn's events on their way out (metrics) and passes them on unchanged. */
export type TurnObserver = (
  events: AsyncIterable<ThreadStreamEvent>,
  turn: { signal: AbortSignal; /** performance.now() when the request reached the handler */ startedAt: number },
) => AsyncIterable<ThreadStreamEvent>;

export interface ChatKitDeps extends ApiOptions {
  chatkit: ChatKitServer;
  observeTurn?: TurnObserver;
}

/** POST /chatkit: the ChatKit protocol, JSON or Server-Sent Events. */
export function chatkitApp({ chatkit, observeTurn, ...options }: ChatKitDeps) {
  return createApi(options).post('/chatkit', async (c) => {
    const startedAt = performance.now();
    const result = await chatkit.process(await c.req.text(), { userId: c.var.userId }, { signal: c.var.abortSignal, waitUntil: c.var.waitUntil });
    if (result.kind === 'json') return c.json(result.body as object);
    const events = observeTurn ? observeTurn(result.events, { signal: c.var.abortSignal, startedAt }) : result.events;
    const { body, done } = sseBody(events, c.var.logger);
    c.var.waitUntil(done);
    return new Response(body, {
      headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' },
    });
  });
}

/**
 * Runs the event stream to its end whatever the client does: after a disconnect the server still
 * has to persist the partial answer, so the events are drained (and dropped) rather than abandoned.
 * `done` settles when the work is over; transports keep the process alive until then.
 */
export function sseBody(events: AsyncIterable<ThreadStreamEvent>, logger: Logger) {
  const encoder = new TextEncoder();
  let sink: ReadableStreamDefaultController<Uint8Array> | undefined;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      sink = controller;
    },
    cancel() {
      sink = undefined;
    },
  });
  const send = (chunk: string) => {
    try {
      sink?.enqueue(encoder.encode(chunk));
    } catch {
      sink = undefined; // the reader is gone
    }
  };
  const done = (async () => {
    try {
      for await (const event of events) send(encodeSse(event));
    } catch (error) {
      logger.error('event stream failed', { error });
      send(encodeSse({ type: 'error', code: 'stream.error', allow_retry: true }));
    } finally {
      try {
        sink?.close();
      } catch {
        // already closed or errored by the reader
      }
    }
  })();
  return { body, done };
}
