import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context as LambdaContext } from 'aws-lambda';
import type { Hono } from 'hono';
import { streamHandle } from 'hono/aws-lambda';
import type { Writable } from 'node:stream';
import type { StreamingContext } from './lambda-transport.js';
import { invocation } from './invocation.js';
import { ClientDisconnected, TurnTimeoutNear } from './turn-abort.js';
import { msUntilTurnMustStop } from './turn-deadline.js';

type StreamingLambda = (event: unknown, responseStream: Writable, context: LambdaContext) => Promise<void>;

/**
 * Hono's `streamHandle`, plus what a chat needs: an AbortSignal that fires when the client
 * disconnects or the turn nears the function's or the route's timeout, and an invocation that lasts until the
 * server's work (persisting what was streamed) is done, not merely until the bytes are sent (so
 * the invocation's trace and metrics cover the whole turn).
 */
export function streamingHandler(app: Hono<any>, logger?: Logger): StreamingLambda {
  // The runtime's streamifyResponse marks the function and returns it, so it can be called directly.
  const hono = streamHandle(app) as unknown as StreamingLambda;
  return awslambda.streamifyResponse((event, responseStream, context) =>
    invocation(async () => {
      const aborter = new AbortController();
      const pending: Promise<unknown>[] = [];
      const abort = (reason: Error) => aborter.signal.aborted || aborter.abort(reason);
      // The response stream closes when it has ended too (and Lambda's runtime closes it then
      // only: it does not tell a function that the client went away, see README Deploy); a
      // close before the end is the connection lost, and so is an error.
      responseStream.once('close', () => responseStream.writableFinished || abort(new ClientDisconnected()));
      responseStream.once('error', () => abort(new ClientDisconnected()));
      const timer = setTimeout(() => abort(new TurnTimeoutNear()), msUntilTurnMustStop(event, context));
      const streamingContext: StreamingContext = Object.assign(Object.create(context) as LambdaContext, {
        abortSignal: aborter.signal,
        waitUntil: (work: Promise<unknown>) => void pending.push(work),
      });
      try {
        await hono(event, responseStream, streamingContext);
        await Promise.allSettled(pending);
      } finally {
        clearTimeout(timer);
      }
    }, { event, logger }),
  );
}
