import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

// A scripted stand-in for the OpenAI API: a real HTTP server speaking the Responses API wire
// format (server-sent events with the full event sequence) to the real `openai` SDK.
//
// It is as strict as the real API where the agent relies on it (see `refusal` below):
// - a model reasons (the o-series, GPT-5 and newer, except the chat aliases) or it does not;
//   one that does not refuses `include: ["reasoning.encrypted_content"]` and reasoning settings;
// - a reasoning model opens every response with a reasoning item unless `reasoning.effort` is
//   `none`; the item carries `encrypted_content` only when `include` asks for it, and a summary
//   (the script's `reasoning` texts) only when `reasoning.summary` is set;
// - a reasoning model thinks out of the output budget: a non-streamed answer under a small
//   `max_output_tokens` is all reasoning, `incomplete`, with no text;
// - a reasoning item sent back as input must carry encrypted content this server issued: by id
//   alone, under `store: false`, it is the real 404 ("Items are not persisted…");
// - each reasoning model family takes only some `reasoning.effort` values (EFFORTS below, from
//   OpenAI's model pages, not from our code): another is the real 400 "Unsupported value";
// - messages carry the content part types their role takes (an assistant's are output_text or
//   refusal), calls and outputs their required fields, function tools names the API accepts
//   (`shapeRefusal`: the real 400s);
// - a function call output needs its call in the same input, and a call its output (the real 400s);
// - the input must fit the model's context window (`INPUT_LIMITS`, or `limitInput` in a test),
//   counted by an estimate (`estimateInputTokens`): past it, the real 400
//   `context_length_exceeded`, or, as the real API sometimes does once streaming, the same error
//   as an `error` event after `response.created`;
// - the input's images and files are read before anything is answered: an http(s) URL is
//   downloaded (a non-2xx answer, a failure or a timeout is the real 400 "Error while downloading
//   <url>."), a data URL must decode.

export interface ScriptedTurn {
  /** Output text deltas (a string is split into words). */
  text?: string | string[];
  /** More content parts of the same message after `text`, at content_index 1, 2, … */
  moreText?: string[];
  deltaDelayMs?: number;
  annotations?: Array<
    | { type: 'url_citation'; url: string; title?: string; start_index: number; end_index: number }
    | { type: 'file_citation'; file_id: string; filename?: string; index: number }
    | { type: 'container_file_citation'; container_id: string; file_id: string; filename?: string; start_index: number; end_index: number }
  >;
  functionCall?: { name: string; arguments: string; call_id?: string };
  /** More function calls after `functionCall` (parallel tool calls). */
  functionCalls?: Array<{ name: string; arguments: string; call_id?: string }>;
  /**
   * The reasoning summary, one part per string (each streamed word by word), shown only when the
   * request sets `reasoning.summary`. Scripting it for a model that does not reason, or under
   * effort `none`, is a mistake in the test: the server answers 500 saying so.
   */
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
  /** The URLs of the input's images and files this server downloaded, with the status each answered (0: no answer in time, or none). */
  downloads?: Array<{ url: string; status: number }>;
}

export interface ScriptedOpenAI {
  baseURL: string;
  enqueue(...turns: ScriptedTurn[]): void;
  /** The next title request's answer, optionally after a delay. */
  enqueueTitle(title: string, options?: { delayMs?: number }): void;
  enqueueTranscription(text: string): void;
  /**
   * Every model's input limit, in (estimated) tokens, until `reset`: a test's tiny context window.
   * `as: 'event'` refuses a streamed request over it with an `error` event after `response.created`
   * instead of the HTTP 400.
   */
  limitInput(tokens: number, options?: { as?: 'http' | 'event' }): void;
  /** Drops whatever is still queued (and a `limitInput`): a failed test's leftovers do not answer the next test. */
  reset(): void;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export async function startScriptedOpenAI(options: { /** How long the download of one input URL may take (default DOWNLOAD_TIMEOUT_MS). */ downloadTimeoutMs?: number } = {}): Promise<ScriptedOpenAI> {
  const downloadTimeoutMs = options.downloadTimeoutMs ?? DOWNLOAD_TIMEOUT_MS;
  const turns: ScriptedTurn[] = [];
  const titles: Array<{ title: string; delayMs?: number }> = [];
  const transcriptions: string[] = [];
  const requests: RecordedRequest[] = [];
  /** Encrypted reasoning this server handed out, by token: what it accepts back as input. */
  const issued = new Set<string>();
  let limit: { tokens: number; as: 'http' | 'event' } | null = null;

  const server = createServer(async (req, res) => {
    const raw = await readBody(req);
    const path = new URL(req.url ?? '/', 'http://scripted').pathname;
    const record: RecordedRequest = { path, body: parse(raw, req.headers['content-type']), aborted: false };
    requests.push(record);
    if (req.method === 'POST' && path === '/v1/responses') {
      const refused = refusal(record.body, issued) ?? (await unreadableInput(record, downloadTimeoutMs));
      if (refused) return json(res, refused.status, { error: refused.error });
      const model = String(record.body?.model ?? 'gpt-test');
      if (estimateInputTokens(record.body) > (limit?.tokens ?? inputLimit(model))) {
        if (record.body?.stream && limit?.as === 'event') return contextErrorEvent(res, model);
        return json(res, 400, { error: CONTEXT_LENGTH_EXCEEDED });
      }
      if (record.body?.stream) return streamTurn(res, record, turns.shift() ?? { text: 'Scripted answer.' }, issued);
      const { title, delayMs } = titles.shift() ?? { title: 'Scripted title' };
      if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
      if (!thinks(model, record.body)) return json(res, 200, response(model, [messageItem(newId('msg'), title, [])]));
      // A reasoning model thinks first, out of the same output budget: a small one is all thinking.
      const reasoning = { type: 'reasoning', id: newId('rs'), summary: [] };
      const budget = record.body?.max_output_tokens;
      if (typeof budget === 'number' && budget <= REASONING_TOKENS) {
        return json(res, 200, { ...response(model, [reasoning], newId('resp'), 'incomplete'), incomplete_details: { reason: 'max_output_tokens' } });
      }
      return json(res, 200, response(model, [reasoning, messageItem(newId('msg'), title, [])]));
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
    limitInput: (tokens, options = {}) => void (limit = { tokens, as: options.as ?? 'http' }),
    reset: () => {
      limit = null;
      turns.length = 0;
      titles.length = 0;
      transcriptions.length = 0;
    },
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Models that reason, as the Agents SDK and the API group them. */
export function reasons(model: string): boolean {
  if (/-chat-latest$/.test(model)) return false;
  if (/^o\d/.test(model)) return true;
  const version = /^gpt-(\d+)/.exec(model);
  return version !== null && Number(version[1]) >= 5;
}

/** The output tokens a reasoning model spends thinking before it writes, here (real ones: from about a hundred to thousands). */
const REASONING_TOKENS = 200;

/** Whether the request's model reasons at the request's effort. */
function thinks(model: string, body: any): boolean {
  return reasons(model) && (body?.reasoning?.effort ?? defaultEffort(model)) !== 'none';
}

/** The effort a reasoning model uses when the request names none: GPT-5.1 and newer default to `none`. */
function defaultEffort(model: string): string {
  return /^gpt-(5\.[1-9]|[6-9])/.test(model) ? 'none' : 'medium';
}

/** The `reasoning.effort` values a model family takes; a family not listed is not checked. */
const EFFORTS: Array<[RegExp, readonly string[]]> = [
  [/^gpt-5\.[2-9]/, ['none', 'low', 'medium', 'high', 'xhigh']],
  [/^gpt-5\.1/, ['none', 'low', 'medium', 'high']],
  [/^gpt-5(-|$)/, ['minimal', 'low', 'medium', 'high']],
  [/^o\d/, ['low', 'medium', 'high']],
];

const quoted = (values: readonly string[]) => `${values.slice(0, -1).map((v) => `'${v}'`).join(', ')}, and '${values.at(-1)}'`;

interface ApiError {
  status: number;
  error: { message: string; type: string; param: string | null; code: string | null };
}

const invalid = (status: number, message: string, param: string | null, code: string | null = null): ApiError => ({
  status,
  error: { message, type: 'invalid_request_error', param, code },
});

/**
 * Models' input limits, in tokens: the context window less the most the model may write, as
 * OpenAI's model pages give them (GPT-5.6: 1,050,000 and 128,000; GPT-5 to 5.5: 400,000 and
 * 128,000; GPT-4.1: 1,047,576 and 32,768; GPT-4o: 128,000 and 16,384; o-series: 200,000 and
 * 100,000). Any other model (`gpt-test`): GPT-5.6's, the SDK's default model.
 */
const INPUT_LIMITS: Array<[RegExp, number]> = [
  [/^gpt-5\.6/, 1_050_000 - 128_000],
  [/^gpt-5/, 400_000 - 128_000],
  [/^gpt-4\.1/, 1_047_576 - 32_768],
  [/^gpt-4o/, 128_000 - 16_384],
  [/^o\d/, 200_000 - 100_000],
];
const DEFAULT_INPUT_LIMIT = 1_050_000 - 128_000;

function inputLimit(model: string): number {
  return INPUT_LIMITS.find(([pattern]) => pattern.test(model))?.[1] ?? DEFAULT_INPUT_LIMIT;
}

/** An image or file the input carries (inline or by URL): what a real one costs in tokens varies with its size and pages; this is a middling figure. */
const FILE_TOKENS = 1_000;

/**
 * The request's input in tokens, estimated as a characters/4 rule of thumb (English prose;
 * the real tokenizer differs): every string of `instructions`, `input` and `tools`, except that
 * an image or file part counts FILE_TOKENS whatever its encoding.
 */
export function estimateInputTokens(body: any): number {
  let chars = 0;
  let files = 0;
  const walk = (value: unknown, key?: string): void => {
    if (typeof value === 'string') {
      if (key === 'image_url' || key === 'file_data' || key === 'file_url' || key === 'file_id') files++;
      else chars += value.length;
    } else if (Array.isArray(value)) {
      for (const item of value) walk(item);
    } else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) walk(v, k);
    }
  };
  walk(body?.instructions);
  walk(body?.input);
  walk(body?.tools);
  return Math.ceil(chars / 4) + files * FILE_TOKENS;
}

/** The real API's error for an input over the context window. */
const CONTEXT_LENGTH_EXCEEDED = {
  message: 'Your input exceeds the context window of this model. Please adjust your input and try again.',
  type: 'invalid_request_error',
  param: 'input',
  code: 'context_length_exceeded',
};

/** The same refusal once the stream has begun: `response.created`, then an `error` event, and the stream ends. */
function contextErrorEvent(res: ServerResponse, model: string) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  res.write(`event: response.created\ndata: ${JSON.stringify({ type: 'response.created', sequence_number: 0, response: response(model, [], newId('resp'), 'in_progress') })}\n\n`);
  res.write(`event: error\ndata: ${JSON.stringify({ type: 'error', sequence_number: 1, error: CONTEXT_LENGTH_EXCEEDED })}\n\n`);
  res.end();
}

/** What the real API refuses before answering, with its status and error body. */
function refusal(body: any, issued: Set<string>): ApiError | null {
  const malformed = shapeRefusal(body);
  if (malformed) return malformed;
  const model = String(body?.model ?? '');
  const include: unknown[] = Array.isArray(body?.include) ? body.include : [];
  if (!reasons(model)) {
    if (include.includes('reasoning.encrypted_content')) return invalid(400, 'Encrypted content is not supported with this model.', 'include');
    for (const setting of ['effort', 'summary'] as const) {
      if (body?.reasoning?.[setting] != null) return invalid(400, `Unsupported parameter: 'reasoning.${setting}' is not supported with this model.`, `reasoning.${setting}`, 'unsupported_parameter');
    }
  }
  const effort = body?.reasoning?.effort;
  const takes = reasons(model) && effort != null && !/codex/.test(model) ? EFFORTS.find(([family]) => family.test(model))?.[1] : undefined;
  if (takes && !takes.includes(effort)) {
    return invalid(400, `Unsupported value: '${effort}' is not supported with the '${model}' model. Supported values are: ${quoted(takes)}.`, 'reasoning.effort', 'unsupported_value');
  }
  const input: any[] = Array.isArray(body?.input) ? body.input : [];
  const calls = new Set(input.filter((item) => item?.type === 'function_call').map((item) => item.call_id));
  const outputs = new Set(input.filter((item) => item?.type === 'function_call_output').map((item) => item.call_id));
  for (const id of outputs) if (!calls.has(id)) return invalid(400, `No tool call found for function call output with call_id ${id}.`, 'input');
  for (const id of calls) if (!outputs.has(id)) return invalid(400, `No tool output found for function call ${id}.`, 'input');
  for (const item of input) {
    if (item?.type !== 'reasoning') continue;
    if (typeof item.encrypted_content === 'string') {
      if (!issued.has(item.encrypted_content)) return invalid(400, `The encrypted content for item ${item.id} could not be verified.`, null, 'invalid_encrypted_content');
      continue;
    }
    // Nothing is ever persisted here, so an id alone names nothing, whatever `store` says.
    return invalid(
      404,
      `Item with id '${item.id}' not found. Items are not persisted when \`store\` is set to false. Try again with \`store\` set to true, or remove this item from your input.`,
      'input',
    );
  }
  return null;
}

/** Content part types the real API takes in a message, by role: an assistant's words are output. */
const PART_TYPES: Record<string, readonly string[]> = {
  user: ['input_text', 'input_image', 'input_file', 'input_audio'],
  system: ['input_text', 'input_image', 'input_file', 'input_audio'],
  developer: ['input_text', 'input_image', 'input_file', 'input_audio'],
  assistant: ['output_text', 'refusal'],
};
const FUNCTION_NAME = /^[a-zA-Z0-9_-]+$/;
const FUNCTION_NAME_MAX = 64;
const supported = (values: readonly string[]) => values.map((v) => `'${v}'`).join(', ');

/**
 * The request shapes the real API validates before anything else, for the items our agent
 * sends (messages, function calls and their outputs, reasoning) and its function tools: the
 * same 400s with the same `param` paths. Item types we never send are passed as they are.
 */
function shapeRefusal(body: any): ApiError | null {
  const tools: any[] = Array.isArray(body?.tools) ? body.tools : [];
  for (const [i, tool] of tools.entries()) {
    if (tool?.type !== 'function') continue;
    const param = `tools[${i}].name`;
    if (typeof tool.name !== 'string') return invalid(400, `Missing required parameter: '${param}'.`, param, 'missing_required_parameter');
    if (tool.name.length > FUNCTION_NAME_MAX) return invalid(400, `Invalid '${param}': string too long. Expected a string with maximum length ${FUNCTION_NAME_MAX}, but got a string with length ${tool.name.length} instead.`, param, 'string_above_max_length');
    if (!FUNCTION_NAME.test(tool.name)) return invalid(400, `Invalid '${param}': string does not match pattern. Expected a string that matches the pattern '${FUNCTION_NAME.source}'.`, param, 'invalid_value');
  }
  if (!Array.isArray(body?.input)) return null;
  for (const [i, item] of (body.input as any[]).entries()) {
    const at = `input[${i}]`;
    const missing = (field: string) => invalid(400, `Missing required parameter: '${at}.${field}'.`, `${at}.${field}`, 'missing_required_parameter');
    const notString = (field: string) => invalid(400, `Invalid type for '${at}.${field}': expected a string, but got ${jsonType(item[field])} instead.`, `${at}.${field}`, 'invalid_type');
    switch (item?.type ?? 'message') {
      case 'message': {
        const allowed = PART_TYPES[item?.role];
        if (!allowed) return invalid(400, `Invalid value: '${item?.role}'. Supported values are: ${supported(Object.keys(PART_TYPES))}.`, `${at}.role`, 'invalid_value');
        if (typeof item.content === 'string') break;
        if (!Array.isArray(item.content)) return missing('content');
        for (const [j, part] of item.content.entries()) {
          if (!allowed.includes(part?.type)) return invalid(400, `Invalid value: '${part?.type}'. Supported values are: ${supported(allowed)}.`, `${at}.content[${j}]`, 'invalid_value');
          if ((part.type === 'input_text' || part.type === 'output_text') && typeof part.text !== 'string') return invalid(400, `Missing required parameter: '${at}.content[${j}].text'.`, `${at}.content[${j}].text`, 'missing_required_parameter');
        }
        break;
      }
      case 'function_call':
        for (const field of ['call_id', 'name', 'arguments']) {
          if (item[field] === undefined) return missing(field);
          if (typeof item[field] !== 'string') return notString(field);
        }
        break;
      case 'function_call_output':
        if (item.call_id === undefined) return missing('call_id');
        if (item.output === undefined) return missing('output');
        if (typeof item.output !== 'string' && !Array.isArray(item.output)) return invalid(400, `Invalid type for '${at}.output': expected one of a string or array of input content, but got ${jsonType(item.output)} instead.`, `${at}.output`, 'invalid_type');
        break;
      case 'reasoning':
        if (!Array.isArray(item.summary)) return missing('summary');
        break;
    }
  }
  return null;
}

const jsonType = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `a ${typeof value}`);

/** How long the download of one input URL may take here (the real API's limit is not published; a few seconds is what tests can wait). */
export const DOWNLOAD_TIMEOUT_MS = 5_000;

/**
 * What the real API does with the input's image and file parts before it answers: it downloads
 * each http(s) URL and refuses the whole request when one fails (non-2xx, unreachable, timeout),
 * and decodes each data URL. Downloads run together; the first failing part, in input order, is the answer.
 */
async function unreadableInput(record: RecordedRequest, timeoutMs: number): Promise<ApiError | null> {
  const checks = mediaParts(record.body?.input).map(({ param, part }) => readable(param, part, record, timeoutMs));
  for (const failure of await Promise.all(checks)) if (failure) return failure;
  return null;
}

/** Every input_image and input_file part of the input, with where it is (`input[0].content[1]`). */
function mediaParts(input: unknown): Array<{ param: string; part: any }> {
  if (!Array.isArray(input)) return [];
  const found: Array<{ param: string; part: any }> = [];
  input.forEach((item: any, i) => {
    for (const field of ['content', 'output'] as const) {
      if (!Array.isArray(item?.[field])) continue;
      item[field].forEach((part: any, j: number) => {
        if (part?.type === 'input_image' || part?.type === 'input_file') found.push({ param: `input[${i}].${field}[${j}]`, part });
      });
    }
  });
  return found;
}

async function readable(param: string, part: any, record: RecordedRequest, timeoutMs: number): Promise<ApiError | null> {
  const image = part.type === 'input_image';
  const url: unknown = image ? part.image_url : part.file_url;
  if (typeof url === 'string' && /^https?:\/\//i.test(url)) {
    const downloaded = { url, status: 0 }; // recorded in input order
    (record.downloads ??= []).push(downloaded);
    downloaded.status = await download(url, timeoutMs);
    return downloaded.status >= 200 && downloaded.status < 300 ? null : invalid(400, `Error while downloading ${url}.`, 'url', 'invalid_value');
  }
  if (image && typeof url === 'string') return undecodable(`${param}.image_url`, url, 'image/');
  if (!image && typeof part.file_data === 'string') return undecodable(`${param}.file_data`, part.file_data, '');
  return null;
}

/** The status of a GET of `url`, its body read; 0 when nothing answered in time. */
async function download(url: string, timeoutMs: number): Promise<number> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
  }
}

/** A data URL that does not decode to bytes of the expected type (the messages follow the real API's; "empty base64-encoded bytes" is the one seen in the field). */
function undecodable(param: string, value: string, typePrefix: string): ApiError | null {
  const refuse = (got: string) =>
    invalid(400, `Invalid '${param}'. Expected a base64-encoded data URL${typePrefix ? ' with an image MIME type' : ''} (e.g. 'data:${typePrefix ? 'image/png' : 'application/pdf'};base64,aW1nIGJ5dGVzIGhlcmU='), but got ${got}.`, param, 'invalid_value');
  const match = /^data:([^;,]*)((?:;[^;,]*)*),(.*)$/s.exec(value);
  if (!match) return refuse("a value without the 'data:' prefix");
  const [, type, params, data] = match as unknown as [string, string, string, string];
  if (!params.split(';').includes('base64')) return refuse('a data URL that is not base64-encoded');
  if (typePrefix && !type.startsWith(typePrefix)) return refuse(`unsupported MIME type '${type}'`);
  if (data.length === 0) return refuse('empty base64-encoded bytes');
  if (data.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(data)) return refuse('invalid base64-encoded bytes');
  return null;
}

async function streamTurn(res: ServerResponse, record: RecordedRequest, turn: ScriptedTurn, issued: Set<string>) {
  if (turn.failWith) {
    return json(res, turn.failWith.status, { error: { message: turn.failWith.message, type: 'server_error', code: null, param: null } });
  }
  const model = String(record.body?.model ?? 'gpt-test');
  const effort = reasons(model) ? (record.body?.reasoning?.effort ?? defaultEffort(model)) : null;
  const thinks = effort !== null && effort !== 'none';
  if (turn.reasoning?.length && !thinks) {
    const why = effort === null ? `${model} does not reason` : `the request's reasoning.effort is "none"`;
    return json(res, 500, { error: { message: `script error: the scripted turn has a reasoning summary but ${why}`, type: 'server_error', param: null, code: null } });
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
  const responseId = newId('resp');
  const base = response(model, [], responseId, 'in_progress');
  send('response.created', { response: base });
  send('response.in_progress', { response: base });

  const output: unknown[] = [];
  if (thinks) {
    // One reasoning item, first, carrying every summary part, the way reasoning models stream it.
    const itemId = newId('rs');
    const outputIndex = output.length;
    const summarized = record.body?.reasoning?.summary != null;
    const texts = summarized ? (turn.reasoning ?? ['Thinking it through.']) : [];
    send('response.output_item.added', { output_index: outputIndex, item: { type: 'reasoning', id: itemId, summary: [] } });
    const parts: Array<{ type: 'summary_text'; text: string }> = [];
    for (const [summaryIndex, text] of texts.entries()) {
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
    const include: unknown[] = Array.isArray(record.body?.include) ? record.body.include : [];
    const encrypted = include.includes('reasoning.encrypted_content') ? `enc_${randomUUID()}` : undefined;
    if (encrypted) issued.add(encrypted);
    const item = { type: 'reasoning', id: itemId, summary: parts, ...(encrypted ? { encrypted_content: encrypted } : {}) };
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
    const content: unknown[] = [];
    const partDeltas = [deltas, ...(turn.moreText ?? []).map((more) => more.match(/\S+\s*/g) ?? [])];
    for (const [contentIndex, part] of partDeltas.entries()) {
      send('response.content_part.added', { item_id: itemId, output_index: outputIndex, content_index: contentIndex, part: { type: 'output_text', text: '', annotations: [], logprobs: [] } });
      let text = '';
      for (const [index, delta] of part.entries()) {
        if (contentIndex === 0 && turn.failMidStream && index === turn.failMidStream.afterDeltas) {
          send('error', { code: 'server_error', message: turn.failMidStream.message, param: null });
          return res.end();
        }
        if (turn.deltaDelayMs) await new Promise((r) => setTimeout(r, turn.deltaDelayMs));
        if (!open) return;
        text += delta;
        send('response.output_text.delta', { item_id: itemId, output_index: outputIndex, content_index: contentIndex, delta, logprobs: [] });
      }
      const annotations = contentIndex === 0 ? (turn.annotations ?? []) : [];
      for (const [annotationIndex, annotation] of annotations.entries()) {
        send('response.output_text.annotation.added', { item_id: itemId, output_index: outputIndex, content_index: contentIndex, annotation_index: annotationIndex, annotation });
      }
      send('response.output_text.done', { item_id: itemId, output_index: outputIndex, content_index: contentIndex, text, logprobs: [] });
      const done = { type: 'output_text', text, annotations, logprobs: [] };
      send('response.content_part.done', { item_id: itemId, output_index: outputIndex, content_index: contentIndex, part: done });
      content.push(done);
    }
    const item = { ...messageItem(itemId, '', []), content };
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
