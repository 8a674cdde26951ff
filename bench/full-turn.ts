import type { ChatKitServer } from '../shared/server/index.js';
import { encodeSse } from '../shared/server/index.js';
import type { RequestContext } from '../shared/store/store.js';

/** When each statement was sent: give `record` to openDatabase's onQuery. */
export class QueryLog {
  private sent: number[] = [];
  readonly record = () => void this.sent.push(performance.now());
  reset() {
    this.sent = [];
  }
  get count() {
    return this.sent.length;
  }
  before(at: number) {
    return this.sent.filter((t) => t < at).length;
  }
  after(at: number) {
    return this.sent.filter((t) => t >= at).length;
  }
}

/** A `fetch` for the OpenAI client that notes when the streamed model request leaves (a title request is not streamed). */
export class ModelClock {
  requestedAt: number | undefined;
  readonly fetch = (input: string | URL | Request, init?: RequestInit) => {
    if (typeof init?.body === 'string' && init.body.includes('"stream":true')) this.requestedAt ??= performance.now();
    return fetch(input, init);
  };
}

export interface TurnSample {
  firstByteMs: number;
  modelRequestMs: number;
  firstTokenMs: number;
  totalMs: number;
  statements: { beforeFirstByte: number; beforeModelRequest: number; afterFirstToken: number; total: number };
}

/**
 * One streamed turn through the server, as a transport drives it (every event SSE-encoded), with
 * the time from the request to its first SSE event, to the model request, to the first text
 * delta and to the end, and the statements sent in between.
 */
export async function timeTurn(chatkit: ChatKitServer, body: string, ctx: RequestContext, log: QueryLog, model: ModelClock): Promise<TurnSample> {
  log.reset();
  model.requestedAt = undefined;
  let firstByte: number | undefined;
  let firstToken: number | undefined;
  const started = performance.now();
  const result = await chatkit.process(body, ctx, { signal: new AbortController().signal });
  if (result.kind !== 'stream') throw new Error('a turn answers with a stream');
  for await (const event of result.events) {
    encodeSse(event);
    firstByte ??= performance.now();
    if (event.type === 'error') throw new Error(`the turn failed: ${JSON.stringify(event)}`);
    if (event.type === 'thread.item.updated' && event.update.type === 'assistant_message.content_part.text_delta') firstToken ??= performance.now();
  }
  const ended = performance.now();
  if (firstByte === undefined || firstToken === undefined || model.requestedAt === undefined) throw new Error('the turn streamed no answer');
  return {
    firstByteMs: firstByte - started,
    modelRequestMs: model.requestedAt - started,
    firstTokenMs: firstToken - started,
    totalMs: ended - started,
    statements: {
      beforeFirstByte: log.before(firstByte),
      beforeModelRequest: log.before(model.requestedAt),
      afterFirstToken: log.after(firstToken),
      total: log.count,
    },
  };
}
