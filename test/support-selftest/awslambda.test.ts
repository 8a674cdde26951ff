import type { Writable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { installAwslambdaShim, invokeStreaming, lambdaContext } from '../support/awslambda.js';

declare const awslambda: {
  streamifyResponse: (h: (event: any, stream: Writable, context: any) => Promise<void>) => unknown;
  HttpResponseStream: { from: (stream: Writable, metadata: unknown) => Writable };
};

beforeAll(() => installAwslambdaShim());

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('awslambda streaming shim', () => {
  it('is idempotent and marks streamified handlers', () => {
    const first = (globalThis as any).awslambda;
    installAwslambdaShim();
    expect((globalThis as any).awslambda).toBe(first);
    const handler = async () => {};
    expect(awslambda.streamifyResponse(handler)).toBe(handler);
    expect((handler as any)[Symbol.for('aws.lambda.runtime.handler.streaming')]).toBe('response');
  });

  it('records the prelude, status, headers, cookies and body chunks', async () => {
    const handler = awslambda.streamifyResponse(async (event, responseStream) => {
      const stream = awslambda.HttpResponseStream.from(responseStream, {
        statusCode: 201,
        headers: { 'content-type': 'text/event-stream' },
        cookies: ['a=1'],
      });
      stream.write(`data: ${event.n}\n\n`);
      stream.write('data: done\n\n');
      stream.end();
    });
    const result = await invokeStreaming(handler, { n: 7 });
    expect(result.prelude).toEqual({ statusCode: 201, headers: { 'content-type': 'text/event-stream' }, cookies: ['a=1'] });
    expect(result).toMatchObject({ statusCode: 201, headers: { 'content-type': 'text/event-stream' }, cookies: ['a=1'], ended: true, broken: false, clientReceived: undefined });
    expect(result.contentType).toBe('application/vnd.awslambda.http-integration-response');
    expect(result.chunks.map(String)).toEqual(['data: 7\n\n', 'data: done\n\n']);
    expect(result.body).toBe('data: 7\n\ndata: done\n\n');
  });

  it('does not tell the handler that the client went away, as Lambda does not: every write is taken', async () => {
    const seen: string[] = [];
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      const stream = awslambda.HttpResponseStream.from(responseStream, { statusCode: 200, headers: {} });
      stream.on('close', () => seen.push('close'));
      stream.on('error', () => seen.push('error'));
      for (let i = 0; i < 10; i++) {
        stream.write(`chunk ${i}\n`);
        await tick();
      }
      stream.end();
    });
    const result = await invokeStreaming(handler, {}, { clientGoesAwayWhen: (body) => body.length >= 16 });
    expect(result.clientReceived).toBe('chunk 0\nchunk 1\n');
    expect(result.body).toBe(Array.from({ length: 10 }, (_, i) => `chunk ${i}\n`).join(''));
    expect(result.ended).toBe(true);
    await tick();
    expect(seen).toEqual(['close']); // only once it ended
  });

  it('fails the stream under the handler when it breaks', async () => {
    const seen: string[] = [];
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      const stream = awslambda.HttpResponseStream.from(responseStream, { statusCode: 200, headers: {} });
      stream.on('close', () => seen.push('close'));
      stream.on('error', () => seen.push('error'));
      for (let i = 0; i < 50 && !stream.destroyed; i++) {
        stream.write(`chunk ${i}\n`);
        await tick();
      }
      if (!stream.destroyed) stream.end();
    });
    const received: string[] = [];
    const result = await invokeStreaming(handler, {}, { breakWhen: (body) => body.length >= 16, onChunk: (c) => received.push(String(c)) });
    expect(result.broken).toBe(true);
    expect(result.ended).toBe(false);
    expect(seen).toEqual(['error', 'close']);
    expect(result.chunks.length).toBeLessThan(50);
    expect(received.join('')).toBe(result.body);
  });

  it('gives a context whose remaining time counts down from the budget', async () => {
    const context = lambdaContext({ remainingTimeMs: 1_000, functionName: 'chat' });
    expect(context.functionName).toBe('chat');
    const first = context.getRemainingTimeInMillis();
    expect(first).toBeLessThanOrEqual(1_000);
    expect(first).toBeGreaterThan(0);
    await tick();
    expect(context.getRemainingTimeInMillis()).toBeLessThan(1_000);
  });
});
