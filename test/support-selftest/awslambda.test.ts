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
    expect(result).toMatchObject({ statusCode: 201, headers: { 'content-type': 'text/event-stream' }, cookies: ['a=1'], ended: true, disconnected: false });
    expect(result.contentType).toBe('application/vnd.awslambda.http-integration-response');
    expect(result.chunks.map(String)).toEqual(['data: 7\n\n', 'data: done\n\n']);
    expect(result.body).toBe('data: 7\n\ndata: done\n\n');
  });

  it('propagates a client disconnect to the handler', async () => {
    const seen: string[] = [];
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      const stream = awslambda.HttpResponseStream.from(responseStream, { statusCode: 200, headers: {} });
      stream.on('close', () => seen.push('close'));
      for (let i = 0; i < 50 && !stream.destroyed; i++) {
        stream.write(`chunk ${i}\n`);
        await tick();
      }
      if (!stream.destroyed) stream.end();
    });
    const received: string[] = [];
    const result = await invokeStreaming(handler, {}, { disconnectAfterBytes: 16, onChunk: (c) => received.push(String(c)) });
    expect(result.disconnected).toBe(true);
    expect(result.ended).toBe(false);
    expect(seen).toEqual(['close']);
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
