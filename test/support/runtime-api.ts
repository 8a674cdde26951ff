import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// A stand-in for the Lambda Runtime API (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html),
// the HTTP API through which Lambda's runtime client gets invocations and returns their outcome:
//   GET  /2018-06-01/runtime/invocation/next              → the next event, with its request id,
//                                                            deadline, function ARN and trace header
//   POST /2018-06-01/runtime/invocation/{id}/response     → a buffered answer (JSON, at most 6 MB), or
//        with `Lambda-Runtime-Function-Response-Mode: streaming`, a chunked body, ended by error
//        trailers if the handler failed after it started; `application/vnd.awslambda.http-integration-response`
//        bodies start with a JSON prelude (status, headers, cookies) and eight NUL bytes
//   POST /2018-06-01/runtime/invocation/{id}/error        → the handler failed
//   POST /2018-06-01/runtime/init/error                   → the function's init failed
// It is strict where Lambda is: an answer to an unknown or already answered invocation, or a /next
// while one is still running, is refused and recorded as a violation.

const BASE = '/2018-06-01/runtime';
const BUFFERED_LIMIT = 6 * 1024 * 1024;
const PRELUDE_TYPE = 'application/vnd.awslambda.http-integration-response';
const DELIMITER = Buffer.alloc(8);

export interface FunctionError {
  errorType: string;
  errorMessage: string;
  /** The stack as the runtime client sent it. */
  trace?: string[];
}

/** The HTTP integration prelude of a streamed answer (HttpResponseStream.from). */
export interface Prelude {
  statusCode?: number;
  headers?: Record<string, string>;
  cookies?: string[];
}

export type InvocationOutcome =
  | { kind: 'response'; contentType: string | undefined; body: string }
  | {
      kind: 'stream';
      contentType: string | undefined;
      /** The HTTP integration prelude, when the body had one. */
      prelude: Prelude | undefined;
      /** The body after the prelude, and its chunks as they arrived: all the function sent. */
      body: string;
      chunks: Buffer[];
      /** Set from the error trailers when the handler failed after the stream started. */
      error: FunctionError | undefined;
      /** With `clientGoesAwayWhen`: the body up to the moment the client went away, undefined if it never did. */
      clientReceived: string | undefined;
    }
  | { kind: 'error'; error: FunctionError };

export interface InvokeOptions {
  /** Milliseconds the invocation has (Lambda-Runtime-Deadline-Ms is now + this). Default 30 s. */
  timeoutMs?: number;
  /** The X-Ray trace header of the invocation (Lambda-Runtime-Trace-Id). */
  traceId?: string;
  /**
   * For a streamed answer: the client goes away once the body so far satisfies this. As on Lambda,
   * the function is not told: the Runtime API keeps reading what it sends, and drops it (the
   * runtime client emits nothing; see aws/aws-lambda-nodejs-runtime-interface-client#145).
   */
  clientGoesAwayWhen?: (bodySoFar: string) => boolean;
  /** For a streamed answer: told of each body chunk as it arrives (after the prelude). */
  onChunk?: (chunk: Buffer) => void;
}

export interface Invocation {
  requestId: string;
  /** Settles once the runtime client has sent the outcome in full. */
  outcome: Promise<InvocationOutcome>;
}

export interface RuntimeApi {
  /** host:port, for AWS_LAMBDA_RUNTIME_API. */
  address: string;
  /** Queues an event; the runtime client gets it on its next /next. */
  invoke(event: unknown, options?: InvokeOptions): Invocation;
  /**
   * Resolves once the runtime client waits for the next invocation: the handler of the last one
   * has returned (a streamed answer's body can end before its handler has finished its work).
   */
  idle(): Promise<void>;
  /** Resolves when the runtime client reports an init error. */
  initError: Promise<FunctionError>;
  /** How many times the runtime client has asked for the next invocation. */
  readonly nextCalls: number;
  /** Protocol breaches by the runtime client (should stay empty). */
  readonly violations: string[];
  close(): Promise<void>;
}

interface Pending {
  requestId: string;
  event: unknown;
  options: InvokeOptions;
  settle: (outcome: InvocationOutcome) => void;
  fail: (error: Error) => void;
  state: 'queued' | 'running' | 'answered';
}

export const FUNCTION_ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:chatkit-test';

export async function startRuntimeApi(): Promise<RuntimeApi> {
  const queue: Pending[] = [];
  const invocations = new Map<string, Pending>();
  let waiting: ServerResponse | undefined;
  let nextCalls = 0;
  const violations: string[] = [];
  let reportInitError: (error: FunctionError) => void = () => {};
  const initError = new Promise<FunctionError>((resolve) => (reportInitError = resolve));

  const running = () => [...invocations.values()].find((p) => p.state === 'running');
  const idleWaiters: Array<() => void> = [];
  const notifyIdle = () => {
    if (!waiting || queue.length > 0) return;
    for (const resolve of idleWaiters.splice(0)) resolve();
  };

  function deliver(): void {
    if (!waiting || queue.length === 0) return;
    const pending = queue.shift()!;
    const response = waiting;
    waiting = undefined;
    pending.state = 'running';
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'lambda-runtime-aws-request-id': pending.requestId,
      'lambda-runtime-deadline-ms': String(Date.now() + (pending.options.timeoutMs ?? 30_000)),
      'lambda-runtime-invoked-function-arn': FUNCTION_ARN,
    };
    if (pending.options.traceId) headers['lambda-runtime-trace-id'] = pending.options.traceId;
    response.writeHead(200, headers).end(JSON.stringify(pending.event));
  }

  function refuse(response: ServerResponse, status: number, errorType: string, message: string): void {
    violations.push(message);
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ errorType, errorMessage: message }));
  }

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://runtime-api');
    if (request.method === 'GET' && url.pathname === `${BASE}/invocation/next`) {
      nextCalls++;
      const busy = running();
      if (busy) return refuse(response, 400, 'InvalidStateTransition', `/next while ${busy.requestId} had no answer`);
      waiting = response;
      request.on('close', () => waiting === response && (waiting = undefined));
      deliver();
      return notifyIdle();
    }
    if (request.method === 'POST' && url.pathname === `${BASE}/init/error`) {
      return void readAll(request).then((body) => {
        reportInitError(functionError(body, request.headers['lambda-runtime-function-error-type']));
        response.writeHead(202).end('{"status":"OK"}');
      });
    }
    const match = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(url.pathname);
    if (request.method === 'POST' && match) {
      const pending = invocations.get(decodeURIComponent(match[1]!));
      if (!pending || pending.state !== 'running') return refuse(response, 400, 'InvalidRequestID', `${match[2]} for ${match[1]}, which is not running`);
      pending.state = 'answered';
      if (match[2] === 'error') return void answerError(request, response, pending);
      if (request.headers['lambda-runtime-function-response-mode'] === 'streaming') return void answerStream(request, response, pending);
      return void answerBuffered(request, response, pending);
    }
    refuse(response, 404, 'NotFound', `${request.method} ${url.pathname}`);
  });

  async function answerBuffered(request: IncomingMessage, response: ServerResponse, pending: Pending) {
    const body = await readAll(request);
    if (body.length > BUFFERED_LIMIT) {
      refuse(response, 413, 'RequestEntityTooLarge', `a buffered response of ${body.length} bytes`);
      return pending.fail(new Error('response too large'));
    }
    response.writeHead(202).end('{"status":"OK"}');
    pending.settle({ kind: 'response', contentType: request.headers['content-type'], body: body.toString('utf8') });
  }

  async function answerError(request: IncomingMessage, response: ServerResponse, pending: Pending) {
    const body = await readAll(request);
    response.writeHead(202).end('{"status":"OK"}');
    pending.settle({ kind: 'error', error: functionError(body, request.headers['lambda-runtime-function-error-type']) });
  }

  function answerStream(request: IncomingMessage, response: ServerResponse, pending: Pending) {
    const contentType = request.headers['content-type'];
    const withPrelude = contentType === PRELUDE_TYPE;
    let head = Buffer.alloc(0);
    let prelude: Prelude | undefined;
    let preludeDone = !withPrelude;
    const chunks: Buffer[] = [];
    let clientReceived: string | undefined;
    const record = (data: Buffer) => {
      if (data.length === 0) return;
      chunks.push(data);
      pending.options.onChunk?.(data);
    };
    request.on('data', (data: Buffer) => {
      if (!preludeDone) {
        head = Buffer.concat([head, data]);
        const end = head.indexOf(DELIMITER);
        if (end < 0) return;
        prelude = JSON.parse(head.subarray(0, end).toString('utf8'));
        preludeDone = true;
        record(head.subarray(end + DELIMITER.length));
      } else {
        record(data);
      }
      const soFar = () => Buffer.concat(chunks).toString('utf8');
      if (clientReceived === undefined && pending.options.clientGoesAwayWhen?.(soFar())) clientReceived = soFar();
    });
    const settle = () =>
      pending.settle({
        kind: 'stream',
        contentType,
        prelude,
        body: Buffer.concat(chunks).toString('utf8'),
        chunks,
        error: request.trailers['lambda-runtime-function-error-type']
          ? functionError(Buffer.from(request.trailers['lambda-runtime-function-error-body'] ?? '', 'base64'), request.trailers['lambda-runtime-function-error-type'])
          : undefined,
        clientReceived,
      });
    request.on('end', () => {
      if (!preludeDone) violations.push(`${pending.requestId}: a prelude content type without a prelude`);
      response.writeHead(202).end('{"status":"OK"}');
      settle();
    });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    invoke(event, options = {}) {
      let settle!: (outcome: InvocationOutcome) => void;
      let fail!: (error: Error) => void;
      const outcome = new Promise<InvocationOutcome>((resolve, reject) => ((settle = resolve), (fail = reject)));
      const pending: Pending = { requestId: randomUUID(), event, options, settle, fail, state: 'queued' };
      invocations.set(pending.requestId, pending);
      queue.push(pending);
      deliver();
      return { requestId: pending.requestId, outcome };
    },
    idle: () =>
      new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        notifyIdle();
      }),
    initError,
    get nextCalls() {
      return nextCalls;
    },
    violations,
    close: () =>
      new Promise((resolve) => {
        waiting?.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function readAll(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function functionError(body: Buffer, typeHeader: string | string[] | undefined): FunctionError {
  const parsed = JSON.parse(body.toString('utf8') || '{}') as Partial<FunctionError>;
  return { errorType: parsed.errorType ?? String(typeHeader ?? ''), errorMessage: parsed.errorMessage ?? '', trace: parsed.trace };
}
