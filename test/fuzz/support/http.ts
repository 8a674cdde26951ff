import { request as httpRequest } from 'node:http';

/** A generated request, before the run's ids and token are put in. */
export interface FuzzRequest {
  method: string;
  /** Path and query, percent-encoded as sent; may hold placeholders. */
  target: string;
  headers: Record<string, string>;
  /** JSON text (may hold placeholders), or raw bytes. */
  body?: string | Uint8Array | undefined;
}

export interface Outcome {
  /** 0 when not even the status line came back in time. */
  status: number;
  contentType: string;
  body: string;
  /** Whether the whole answer arrived within the timeout. */
  complete: boolean;
  /** Why the connection failed, when it did. */
  error?: string;
}

/** Each request, its body read to the end, must be answered within this. */
export const REQUEST_TIMEOUT_MS = 5_000;

/**
 * Sends the request on a connection of its own (so no run inherits a socket another left
 * half-read) and reads the whole answer, a stream to its end, or what came of it in time.
 */
export function send(url: string, request: FuzzRequest): Promise<Outcome> {
  const { hostname, port } = new URL(url);
  const body = request.body === undefined ? undefined : Buffer.from(request.body);
  return new Promise((resolve) => {
    let answer: Omit<Outcome, 'body' | 'complete'> = { status: 0, contentType: '' };
    const chunks: Buffer[] = [];
    const outgoing = httpRequest({
      host: hostname,
      port,
      method: request.method,
      path: request.target,
      headers: { ...request.headers, ...(body ? { 'content-length': body.length } : {}) },
      agent: false,
    });
    const finish = (complete: boolean, error?: Error) => {
      clearTimeout(timer);
      resolve({ ...answer, body: Buffer.concat(chunks).toString('utf8'), complete, ...(error ? { error: `${error.message} (${(error as NodeJS.ErrnoException).code})` } : {}) });
    };
    const timer = setTimeout(() => {
      finish(false);
      outgoing.destroy(); // the client goes away, as a browser's fetch would on abort
    }, REQUEST_TIMEOUT_MS);
    outgoing.on('error', (error) => finish(false, error));
    outgoing.on('response', (response) => {
      answer = { status: response.statusCode!, contentType: response.headers['content-type'] ?? '' };
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', (error) => finish(false, error));
      response.on('end', () => finish(true));
    });
    outgoing.end(body);
  });
}

/**
 * What may come back: a 2xx (a stream that parses and reports no error), or a 4xx with exactly
 * `{error:{code,message}}`. A 501 `not_enabled` is the deliberate answer for a capability the
 * deployment has not configured (input.transcribe without a transcriber), not a fault.
 * Returns what is wrong, or null.
 */
export function fault(outcome: Outcome): string | null {
  const { status } = outcome;
  if (outcome.error) return `the connection failed: ${outcome.error}`;
  if (!outcome.complete) return `no complete answer within ${REQUEST_TIMEOUT_MS} ms (status ${status || 'none'})`;
  if (status >= 200 && status < 300) return outcome.contentType.startsWith('text/event-stream') ? streamFault(outcome.body) : jsonFault(outcome, false);
  if ((status >= 400 && status < 500) || status === 501) {
    const bad = jsonFault(outcome, true);
    if (bad) return bad;
    if (status === 501 && JSON.parse(outcome.body).error.code !== 'not_enabled') return '501 other than not_enabled';
    return null;
  }
  return `status ${status}`;
}

function jsonFault(outcome: Outcome, isError: boolean): string | null {
  if (!isError && outcome.body === '') return null;
  if (!outcome.contentType.startsWith('application/json')) return `content-type ${outcome.contentType || 'none'}`;
  let body: any;
  try {
    body = JSON.parse(outcome.body);
  } catch {
    return 'a body that is not JSON';
  }
  if (!isError) return null;
  const error = body?.error;
  const shaped =
    typeof error?.code === 'string' && typeof error?.message === 'string' && Object.keys(body).length === 1 && Object.keys(error).length === 2;
  return shaped ? null : 'an error body other than {error:{code,message}}';
}

function streamFault(body: string): string | null {
  for (const block of body.split('\n\n')) {
    const data = block.split('\n').filter((line) => line.startsWith('data: ')).map((line) => line.slice(6)).join('\n');
    if (!data) continue;
    let event: { type?: unknown };
    try {
      event = JSON.parse(data);
    } catch {
      return 'an event that is not JSON';
    }
    // The server's own failure, reported inside a 200 stream: a 5xx in all but status.
    if (event.type === 'error') return `an error event in the stream: ${data}`;
  }
  return null;
}
