import {
  Usage,
  type AgentInputItem,
  type AgentOutputItem,
  type Model,
  type ModelProvider,
  type ModelRequest,
  type ModelResponse,
  type SerializedTool,
  type StreamEvent,
} from '@openai/agents-core';
import type { ResponseFunctionToolCall, ResponseOutputMessage, ResponseStreamEvent } from 'openai/resources/responses/responses';
import { isNoteAfterMessage } from '../responder/model-input.js';

// A model that needs no key and no network, for trying the agent in `npm run dev` without
// OPENAI_API_KEY: the real agent, its real tools and the real event mapping run around it.
//
// - `/tool_name {"json":"arguments"}` calls that tool of the agent with those arguments;
// - a tool picked with `inference_options.tool_choice` is called with the message as its text arguments;
// - once the turn's tool calls have their outputs, the answer says what they returned;
// - anything else is echoed, as `(offline echo) …`.
//
// It streams as the OpenAI Responses model does: the raw Responses API events (what the agent's
// event mapping reads), text deltas, and the finished response's items.

/** However long the answer, it streams in at most this many deltas. */
const MAX_DELTAS = 64;

type FunctionToolSpec = Extract<SerializedTool, { type: 'function' }>;
/** A Responses API stream event before it is numbered. */
type Unnumbered<E = ResponseStreamEvent> = E extends unknown ? Omit<E, 'sequence_number'> : never;
type Reply = { kind: 'text'; text: string } | { kind: 'call'; name: string; arguments: string };

/** The same offline model, whatever model name an agent or a client asks for. */
export class OfflineModelProvider implements ModelProvider {
  private readonly model = new OfflineModel();

  getModel(): Model {
    return this.model;
  }
}

export class OfflineModel implements Model {
  private responses = 0;

  async getResponse(request: ModelRequest): Promise<ModelResponse> {
    let done: ModelResponse | undefined;
    for await (const event of this.getStreamedResponse(request)) {
      if (event.type === 'response_done') done = { usage: new Usage(event.response.usage), output: event.response.output, responseId: event.response.id };
    }
    return done!;
  }

  async *getStreamedResponse(request: ModelRequest): AsyncIterable<StreamEvent> {
    const n = ++this.responses;
    const responseId = `resp_offline_${n}`;
    let sequence = 0;
    const raw = (event: Unnumbered): StreamEvent => ({ type: 'model', event: { ...event, sequence_number: sequence++ } });
    const aborted = () => {
      if (request.signal?.aborted) throw request.signal.reason ?? new DOMException('The offline model was stopped', 'AbortError');
    };
    aborted();
    yield { type: 'response_started' };

    const reply = offlineReply(request);
    let output: AgentOutputItem;
    if (reply.kind === 'call') {
      const item: ResponseFunctionToolCall = { type: 'function_call', id: `fc_offline_${n}`, call_id: `call_offline_${n}`, name: reply.name, arguments: reply.arguments, status: 'completed' };
      yield raw({ type: 'response.output_item.added', output_index: 0, item: { ...item, arguments: '', status: 'in_progress' } });
      yield raw({ type: 'response.function_call_arguments.done', output_index: 0, item_id: item.id!, arguments: item.arguments });
      yield raw({ type: 'response.output_item.done', output_index: 0, item });
      output = { type: 'function_call', id: item.id, callId: item.call_id, name: item.name, arguments: item.arguments, status: 'completed' };
    } else {
      const id = `msg_offline_${n}`;
      const message = (text: string, status: ResponseOutputMessage['status']): ResponseOutputMessage => ({
        type: 'message',
        id,
        role: 'assistant',
        status,
        content: text ? [{ type: 'output_text', text, annotations: [] }] : [],
      });
      const at = { item_id: id, output_index: 0, content_index: 0 };
      yield raw({ type: 'response.output_item.added', output_index: 0, item: message('', 'in_progress') });
      yield raw({ type: 'response.content_part.added', ...at, part: { type: 'output_text', text: '', annotations: [] } });
      for (const delta of chunks(reply.text, MAX_DELTAS)) {
        aborted();
        yield { type: 'output_text_delta', delta, itemId: id };
        yield raw({ type: 'response.output_text.delta', ...at, delta, logprobs: [] });
      }
      yield raw({ type: 'response.output_text.done', ...at, text: reply.text, logprobs: [] });
      yield raw({ type: 'response.content_part.done', ...at, part: { type: 'output_text', text: reply.text, annotations: [] } });
      yield raw({ type: 'response.output_item.done', output_index: 0, item: message(reply.text, 'completed') });
      output = { type: 'message', id, role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: reply.text }] };
    }
    yield { type: 'response_done', response: { id: responseId, usage: { requests: 1, inputTokens: 0, outputTokens: 0, totalTokens: 0 }, output: [output] } };
  }
}

/** What the offline model answers to a request: a tool call, or text. */
export function offlineReply(request: Pick<ModelRequest, 'input' | 'tools' | 'modelSettings'>): Reply {
  const input: AgentInputItem[] = typeof request.input === 'string' ? [{ role: 'user', content: request.input }] : request.input;
  const tools = request.tools.filter((tool): tool is FunctionToolSpec => tool.type === 'function');
  const answered = findLastIndex(input, (item) => isUserMessage(item) && !isNoteAfterMessage(firstText(item)));
  const since = input.slice(answered + 1);

  const outputs = since.flatMap((item) => (item.type === 'function_call_result' ? [item] : []));
  if (outputs.length) return text(outputs.map((result) => `${result.name} returned ${outputText(result.output)}`).join('\n\n'));

  const message = answered >= 0 ? input[answered]! : undefined;
  const typed = message ? firstText(message).trim() : '';
  const command = /^\/([A-Za-z0-9_-]+)(?:\s+([\s\S]*))?$/.exec(typed);
  const choice = request.modelSettings.toolChoice;
  if (choice && choice !== 'auto' && choice !== 'none') {
    const tool = choice === 'required' ? tools[0] : tools.find((t) => t.name === choice);
    if (tool) return call(tool, command?.[1] === tool.name ? (command[2]?.trim() || '{}') : JSON.stringify(argumentsFromText(tool, typed)));
  }
  if (command && choice !== 'none') {
    const [, name, args = '{}'] = command;
    const tool = tools.find((t) => t.name === name);
    if (!tool) return text(`(offline) This agent has no tool named ${name}. Its tools: ${tools.map((t) => t.name).join(', ') || 'none'}.`);
    if (!isJsonObject(args.trim() || '{}')) return text(`(offline) The arguments of /${name} must be a JSON object, e.g. /${name} {}`);
    return call(tool, args.trim() || '{}');
  }
  const attached = message ? attachmentCount(message) : 0;
  return text(`(offline echo) ${typed || 'Noted.'}${attached ? ` [with ${attached} attachment${attached > 1 ? 's' : ''}]` : ''}`);
}

const text = (value: string): Reply => ({ kind: 'text', text: value });
const call = (tool: FunctionToolSpec, args: string): Reply => ({ kind: 'call', name: tool.name, arguments: args });

type UserMessage = Extract<AgentInputItem, { role: 'user' }>;

function isUserMessage(item: AgentInputItem): item is UserMessage {
  return 'role' in item && item.role === 'user';
}

/** The typed text: a user message's first text part (attachments and notes follow it). */
function firstText(item: AgentInputItem): string {
  if (!isUserMessage(item)) return '';
  if (typeof item.content === 'string') return item.content;
  const part = item.content.find((p) => p.type === 'input_text');
  return part && 'text' in part ? part.text : '';
}

function attachmentCount(item: AgentInputItem): number {
  return isUserMessage(item) && typeof item.content !== 'string' ? Math.max(0, item.content.length - 1) : 0;
}

function outputText(output: unknown): string {
  if (typeof output === 'string') return output;
  const part = output as { type?: string; text?: string };
  return part?.type === 'text' && typeof part.text === 'string' ? part.text : JSON.stringify(output);
}

/** Arguments for a tool picked without any: the message fills its required text parameters. */
function argumentsFromText(tool: FunctionToolSpec, typed: string): Record<string, unknown> {
  const schema = tool.parameters as { properties?: Record<string, { type?: string | string[] }>; required?: string[] };
  const args: Record<string, unknown> = {};
  for (const name of schema.required ?? []) {
    const types = [schema.properties?.[name]?.type ?? []].flat();
    if (types.includes('string')) args[name] = typed;
    else if (types.includes('null')) args[name] = null;
    else if (types.includes('number') || types.includes('integer')) args[name] = 0;
    else if (types.includes('boolean')) args[name] = false;
    else if (types.includes('array')) args[name] = [];
    else if (types.includes('object')) args[name] = {};
  }
  return args;
}

function isJsonObject(value: string): boolean {
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
  } catch {
    return false;
  }
}

function findLastIndex<T>(items: readonly T[], test: (item: T) => boolean): number {
  for (let i = items.length - 1; i >= 0; i--) if (test(items[i]!)) return i;
  return -1;
}

/** The text word by word, words grouped so that there are at most `most` pieces. */
function chunks(value: string, most: number): string[] {
  const words = value.match(/\S+\s*/g) ?? [];
  const size = Math.max(1, Math.ceil(words.length / most));
  return Array.from({ length: Math.ceil(words.length / size) }, (_, i) => words.slice(i * size, (i + 1) * size).join(''));
}
