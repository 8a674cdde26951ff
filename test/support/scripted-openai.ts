import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

// A scripted stand-in for the OpenAI API: a real HTTP server speaking the Responses API wire
// format (server-sent events with the full event sequence) to the real `openai` SDK.

export interface ScriptedTurn {
  /** Output text deltas (a string is split into words). */
  text?: string | string[];
  deltaDelayMs?: number;
  annotations?: Array<
    | { type: 'url_citation'; url: string; title?: string; start_index: number; end_index: number }
    | { type: 'file_citation'; file_id: string; filename?: string; index: number }
    | { type: 'container_file_citation'; container_id: string; file_id: string; filename?: string; start_index: number; end_index: number }
  >;
  functionCall?: { name: string; arguments: string; call_id?: string };
  /** More function calls after `functionCall` (parallel tool calls). */
  functionCalls?: Array<{ name: string; arguments: string; call_id?: string }>;
  /** A reasoning item before the answer, one summary part per string (each streamed word by word). */
  reasoning?: string[];
  /** The answer as a refusal content part instead of output text. */
  refusal?: string;
  /** An image_generation_call item with partial images (base64) and the final result. */
  imageGeneration?: { partials: string[]; result: string };
  /** Token usage reported by response.completed (default 10 in, 5 out). */
  usage?: { input_tokens: number; output_tokens: number };
  /** An HTTP error instead of a stream. */
  failWith?: { status: number; message: string };
  /** An `error` event after this many deltas, then the stream ends. */
  failMidStream?: { afterDeltas: number; message: string };
}

export interface RecordedRequest {
  path: string;
  body: any;
  aborted: boolean;
}

export interface ScriptedOpenAI {
  baseURL: string;
  enqueue(...turns: ScriptedTurn[]): void;
  /** The next title request's answer, optionally after a delay. */
  enqueueTitle(title: string, options?: { delayMs?: number }): void;
  enqueueTranscription(text: string): void;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export async function startScriptedOpenAI(): Promise<ScriptedOpenAI> {
  const turns: ScriptedTurn[] = [];
  const titles: Array<{ title: string; delayMs?: number }> = [];
  const transcriptions: string[] = [];
  const requests: RecordedRequest[] = [];

  const server = createServer(async (req, res) => {
    const raw = await readBody(req);
    const path = new URL(req.url ?? '/', 'http://scripted').pathname;
    const record: RecordedRequest = { path, body: parse(raw, req.headers['content-type']), aborted: false };
    requests.push(record);
    if (req.method === 'POST' && path === '/v1/responses') {
      if (record.body?.stream) return streamTurn(res, record, turns.shift() ?? { text: 'Scripted answer.' });
      const { title, delayMs } = titles.shift() ?? { title: 'Scripted title' };
      if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
      return json(res, 200, response(record.body?.model, [messageItem(newId('msg'), title, [])]));
    }
    if (req.method === 'POST' && path === '/v1/audio/transcriptions') {
      return json(res, 200, { text: transcriptions.shift() ?? 'scripted transcription' });
    }
    json(res, 404, { error: { message: `no script for ${req.method} ${path}`, type: 'invalid_request_error' } });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };

  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    enqueue: (...more) => void turns.push(...more),
    enqueueTitle: (title, options) => void titles.push({ title, ...options }),
    enqueueTranscription: (text) => void transcriptions.push(text),
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function streamTurn(res: ServerResponse, record: RecordedRequest, turn: ScriptedTurn) {
  if (turn.failWith) {
    return json(res, turn.failWith.status, { error: { message: turn.failWith.message, type: 'server_error', code: null, param: null } });
  }
  let open = true;
  res.on('close', () => {
    if (!res.writableFinished) {
      open = false;
      record.aborted = true;
    }
  });
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  let sequence = 0;
  const send = (type: string, data: Record<string, unknown>) => {
    if (open) res.write(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...data })}\n\n`);
  };
  const model = record.body?.model ?? 'gpt-test';
  const responseId = newId('resp');
  const base = response(model, [], responseId, 'in_progress');
  send('response.created', { response: base });
  send('response.in_progress', { response: base });

  const output: unknown[] = [];
  if (turn.reasoning?.length) {
    // One reasoning item carrying every summary part, the way reasoning models stream it.
    const itemId = newId('rs');
    const outputIndex = output.length;
    send('response.output_item.added', { output_index: outputIndex, item: { type: 'reasoning', id: itemId, summary: [] } });
    const parts: Array<{ type: 'summary_text'; text: string }> = [];
    for (const [summaryIndex, text] of turn.reasoning.entries()) {
      send('response.reasoning_summary_part.added', { item_id: itemId, output_index: outputIndex, summary_index: summaryIndex, part: { type: 'summary_text', text: '' } });
      for (const delta of text.match(/\S+\s*/g) ?? []) {
        if (turn.deltaDelayMs) await new Promise((r) => setTimeout(r, turn.deltaDelayMs));
        if (!open) return;
        send('response.reasoning_summary_text.delta', { item_id: itemId, output_index: outputIndex, summary_index: summaryIndex, delta });
      }
      send('response.reasoning_summary_text.done', { item_id: itemId, output_index: outputIndex, summary_index: summaryIndex, text });
      send('response.reasoning_summary_part.done', { item_id: itemId, output_index: outputIndex, summary_index: summaryIndex, part: { type: 'summary_text', text } });
      parts.push({ type: 'summary_text', text });
    }
    const item = { type: 'reasoning', id: itemId, summary: parts };
    send('response.output_item.done', { output_index: outputIndex, item });
    output.push(item);
  }
  if (turn.imageGeneration) {
    const itemId = newId('ig');
    const outputIndex = output.length;
    send('response.output_item.added', { output_index: outputIndex, item: { type: 'image_generation_call', id: itemId, status: 'in_progress', result: null } });
    send('response.image_generation_call.in_progress', { item_id: itemId, output_index: outputIndex });
    send('response.image_generation_call.generating', { item_id: itemId, output_index: outputIndex });
    for (const [partialIndex, partial] of turn.imageGeneration.partials.entries()) {
      send('response.image_generation_call.partial_image', { item_id: itemId, output_index: outputIndex, partial_image_index: partialIndex, partial_image_b64: partial });
    }
    send('response.image_generation_call.completed', { item_id: itemId, output_index: outputIndex });
    const item = { type: 'image_generation_call', id: itemId, status: 'completed', result: turn.imageGeneration.result };
    send('response.output_item.done', { output_index: outputIndex, item });
    output.push(item);
  }
  const calls = [...(turn.functionCall ? [turn.functionCall] : []), ...(turn.functionCalls ?? [])];
  const deltas = turn.text === undefined ? [] : Array.isArray(turn.text) ? turn.text : (turn.text.match(/\S+\s*/g) ?? []);
  if (turn.refusal !== undefined) {
    const itemId = newId('msg');
    const outputIndex = output.length;
    send('response.output_item.added', { output_index: outputIndex, item: messageItem(itemId, '', [], 'in_progress', false) });
    send('response.content_part.added', { item_id: itemId, output_index: outputIndex, content_index: 0, part: { type: 'refusal', refusal: '' } });
    for (const delta of turn.refusal.match(/\S+\s*/g) ?? []) {
      send('response.refusal.delta', { item_id: itemId, output_index: outputIndex, content_index: 0, delta });
    }
    send('response.refusal.done', { item_id: itemId, output_index: outputIndex, content_index: 0, refusal: turn.refusal });
    send('response.content_part.done', { item_id: itemId, output_index: outputIndex, content_index: 0, part: { type: 'refusal', refusal: turn.refusal } });
    const item = { type: 'message', id: itemId, role: 'assistant', status: 'completed', content: [{ type: 'refusal', refusal: turn.refusal }] };
    send('response.output_item.done', { output_index: outputIndex, item });
    output.push(item);
  } else if (deltas.length || (!calls.length && !turn.imageGeneration)) {
    const itemId = newId('msg');
    const outputIndex = output.length;
    send('response.output_item.added', { output_index: outputIndex, item: messageItem(itemId, '', [], 'in_progress', false) });
    send('response.content_part.added', { item_id: itemId, output_index: outputIndex, content_index: 0, part: { type: 'output_text', text: '', annotations: [], logprobs: [] } });
    let text = '';
    for (const [index, delta] of deltas.entries()) {
      if (turn.failMidStream && index === turn.failMidStream.afterDeltas) {
        send('error', { code: 'server_error', message: turn.failMidStream.message, param: null });
        return res.end();
      }
      if (turn.deltaDelayMs) await new Promise((r) => setTimeout(r, turn.deltaDelayMs));
      if (!open) return;
      text += delta;
      send('response.output_text.delta', { item_id: itemId, output_index: outputIndex, content_index: 0, delta, logprobs: [] });
    }
    for (const [annotationIndex, annotation] of (turn.annotations ?? []).entries()) {
      send('response.output_text.annotation.added', { item_id: itemId, output_index: outputIndex, content_index: 0, annotation_index: annotationIndex, annotation });
    }
    const annotations = turn.annotations ?? [];
    send('response.output_text.done', { item_id: itemId, output_index: outputIndex, content_index: 0, text, logprobs: [] });
    send('response.content_part.done', { item_id: itemId, output_index: outputIndex, content_index: 0, part: { type: 'output_text', text, annotations, logprobs: [] } });
    const item = messageItem(itemId, text, annotations);
    send('response.output_item.done', { output_index: outputIndex, item });
    output.push(item);
  }
  for (const functionCall of calls) {
    const itemId = newId('fc');
    const outputIndex = output.length;
    const call = { type: 'function_call', id: itemId, call_id: functionCall.call_id ?? newId('call'), name: functionCall.name, arguments: '', status: 'in_progress' };
    send('response.output_item.added', { output_index: outputIndex, item: call });
    send('response.function_call_arguments.delta', { item_id: itemId, output_index: outputIndex, delta: functionCall.arguments });
    send('response.function_call_arguments.done', { item_id: itemId, output_index: outputIndex, name: call.name, arguments: functionCall.arguments });
    const done = { ...call, arguments: functionCall.arguments, status: 'completed' };
    send('response.output_item.done', { output_index: outputIndex, item: done });
    output.push(done);
  }
  send('response.completed', { response: response(model, output, responseId, 'completed', turn.usage) });
  res.end();
}

function messageItem(id: string, text: string, annotations: unknown[], status = 'completed', withContent = true) {
  return {
    type: 'message',
    id,
    role: 'assistant',
    status,
    content: withContent ? [{ type: 'output_text', text, annotations, logprobs: [] }] : [],
  };
}

function response(model: string, output: unknown[], id = newId('resp'), status = 'completed', usage = { input_tokens: 10, output_tokens: 5 }) {
  return {
    id,
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    status,
    error: null,
    incomplete_details: null,
    instructions: null,
    max_output_tokens: null,
    model: model ?? 'gpt-test',
    output,
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: false,
    temperature: 1,
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    tools: [],
    top_p: 1,
    truncation: 'disabled',
    usage:
      status === 'completed'
        ? { input_tokens: usage.input_tokens, input_tokens_details: { cached_tokens: 0 }, output_tokens: usage.output_tokens, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: usage.input_tokens + usage.output_tokens }
        : null,
    user: null,
    metadata: {},
  };
}

let counter = 0;
const newId = (prefix: string) => `${prefix}_${Date.now().toString(36)}${(counter++).toString(36)}`;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

function parse(raw: string, contentType: string | undefined): any {
  if (contentType?.includes('application/json')) {
    try {
      return JSON.parse(raw);
    } catch {
      return raw;
    }
  }
  return raw;
}

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
