import type { Context as LambdaContext } from 'aws-lambda';
import type { Hono } from 'hono';
import { streamHandle } from 'hono/aws-lambda';
import type { Writable } from 'node:stream';
import { ServerStopping } from '../../shared/errors.js';
import type { StreamingContext } from './lambda-transport.js';

/** Time kept back before the function's timeout to stop the model and save the partial answer. */
export const TIMEOUT_MARGIN_MS = 5_000;

type StreamingLambda = (event: unknown, responseStream: Writable, context: LambdaContext) => Promise<void>;

/**
 * Hono's `streamHandle`, plus what a chat needs: an AbortSignal that fires when the client
 * disconnects or the function nears its timeout, and an invocation that lasts until the
 * server's work (persisting what was streamed) is done, not merely until the bytes are sent.
 */
export function streamingHandler(app: Hono<any>): StreamingLambda {
  // The runtime's streamifyResponse marks the function and returns it, so it can be called directly.
  const hono = streamHandle(app) as unknown as StreamingLambda;
  return awslambda.streamifyResponse(async (event, responseStream, context) => {
    const aborter = new AbortController();
    const pending: Promise<unknown>[] = [];
    const abort = (reason: Error) => aborter.signal.aborted || aborter.abort(reason);
    responseStream.once('close', () => abort(new Error('client disconnected')));
    responseStream.once('error', () => abort(new Error('client disconnected')));
    // The client is still there: the server stops the turn and tells it so.
    const stopping = () => abort(new ServerStopping('the function is about to time out'));
    const timer = setTimeout(stopping, Math.max(0, context.getRemainingTimeInMillis() - TIMEOUT_MARGIN_MS));
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
  });
}
