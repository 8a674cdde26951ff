import type { Context } from 'aws-lambda';
import { Writable } from 'node:stream';

// A stand-in for the `awslambda` global of the Lambda Node.js runtime, as it behaves there:
// streamifyResponse marks the handler and returns the same function; HttpResponseStream.from
// writes the JSON metadata prelude and eight NUL bytes before the body on the same stream.

const DELIMITER = Buffer.alloc(8);
const PRELUDE_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';
const STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');

export function installAwslambdaShim(): void {
  (globalThis as any).awslambda ??= {
    streamifyResponse(handler: any) {
      handler[STREAMING] = 'response';
      return handler;
    },
    HttpResponseStream: {
      from(stream: Writable, metadata: unknown) {
        (stream as Writable & { setContentType?: (type: string) => void }).setContentType?.(PRELUDE_CONTENT_TYPE);
        stream.write(Buffer.concat([Buffer.from(JSON.stringify(metadata)), DELIMITER]));
        return stream;
      },
    },
  };
}

export function lambdaContext(options: { remainingTimeMs?: number; functionName?: string } = {}): Context {
  const deadline = Date.now() + (options.remainingTimeMs ?? 30_000);
  const functionName = options.functionName ?? 'chatkit-test';
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: crypto.randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2026/11/24/[$LATEST]test',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

export interface StreamedInvocation {
  statusCode: number;
  headers: Record<string, string>;
  cookies: string[];
  /** The metadata prelude exactly as parsed by a reader (undefined if the handler never called HttpResponseStream.from). */
  prelude: unknown;
  /** The content type the handler set on the response stream (HttpResponseStream.from sets the prelude type). */
  contentType: string | undefined;
  /** Body chunks as the handler wrote them (after the prelude), all of them: a client that left does not stop the writes. */
  chunks: Buffer[];
  body: string;
  /** With `clientGoesAwayWhen`: the body up to the moment the client went away, undefined if it never did. */
  clientReceived: string | undefined;
  ended: boolean;
  /** With `breakWhen`: the stream failed under the handler. */
  broken: boolean;
}

/**
 * Invokes a streaming handler as the runtime does and records what it wrote.
 * `clientGoesAwayWhen`: the client leaves once the body so far satisfies it, and, as on Lambda
 * (aws/aws-lambda-nodejs-runtime-interface-client#145), the handler is not told: its stream takes
 * every later write and never closes early. `breakWhen`: the response stream itself fails (the
 * runtime's connection to Lambda breaks): it errors and closes under the handler.
 */
export async function invokeStreaming(
  handler: unknown,
  event: unknown,
  options: {
    remainingTimeMs?: number;
    clientGoesAwayWhen?: (bodySoFar: string) => boolean;
    breakWhen?: (bodySoFar: string) => boolean;
    onChunk?: (chunk: Buffer) => void;
  } = {},
): Promise<StreamedInvocation> {
  let raw = Buffer.alloc(0);
  let prelude: { statusCode?: number; headers?: Record<string, string>; cookies?: string[] } | undefined;
  const chunks: Buffer[] = [];
  let contentType: string | undefined;
  const result = { ended: false, broken: false, clientReceived: undefined as string | undefined };
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      const data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
      if (!prelude) {
        raw = Buffer.concat([raw, data]);
        const end = raw.indexOf(DELIMITER);
        if (end < 0) return callback();
        prelude = JSON.parse(raw.subarray(0, end).toString('utf8'));
        const rest = raw.subarray(end + DELIMITER.length);
        if (rest.length) record(rest);
      } else {
        record(data);
      }
      callback();
      const soFar = () => Buffer.concat(chunks).toString('utf8');
      if (result.clientReceived === undefined && options.clientGoesAwayWhen?.(soFar())) result.clientReceived = soFar();
      if (!result.broken && options.breakWhen?.(soFar())) {
        result.broken = true;
        stream.destroy(new Error('the response stream broke'));
      }
    },
    final(callback) {
      result.ended = true;
      callback();
    },
  });
  // The runtime's response stream has this; HttpResponseStream.from uses it to announce the prelude.
  Object.assign(stream, { setContentType: (type: string) => void (contentType = type) });
  stream.on('error', () => {}); // the handler hears of a broken stream through its own listeners
  function record(data: Buffer) {
    if (data.length === 0) return;
    chunks.push(data);
    options.onChunk?.(data);
  }
  await (handler as (e: unknown, s: Writable, c: Context) => Promise<void>)(event, stream, lambdaContext({ remainingTimeMs: options.remainingTimeMs }));
  return {
    statusCode: prelude?.statusCode ?? 200,
    headers: prelude?.headers ?? {},
    cookies: prelude?.cookies ?? [],
    prelude,
    contentType,
    chunks,
    body: Buffer.concat(chunks).toString('utf8'),
    ...result,
  };
}
