import {
  InputGuardrailTripwireTriggered,
  OutputGuardrailTripwireTriggered,
  Runner,
  ToolInputGuardrailTripwireTriggered,
  ToolOutputGuardrailTripwireTriggered,
  type Agent,
  type ModelProvider,
  type RunStreamEvent,
  type StreamedRunResult,
} from '@openai/agents-core';
import { OpenAIProvider } from '@openai/agents-openai';
import type OpenAI from 'openai';
import type { ThreadItem, ThreadStreamEvent } from '../protocol/index.js';
import { OpenAIResponder } from '../responder/openai-responder.js';
import { fallbackTitle, type Responder, type TurnInput } from '../responder/responder.js';
import { toAgentInput } from './agent-input.js';
import { AsyncQueue } from './async-queue.js';
import { AgentContext, type ContextCommand } from './context.js';
import { StreamEventMapper, type ImageUrlFor, type ToolTaskFor, type WorkflowItem } from './stream-events.js';
import { TurnError } from './turn-error.js';

/** A turn's token usage, summed over every model request of the run. */
export interface TurnUsage {
  inputTokens: number;
  outputTokens: number;
  requests: number;
}

export interface AgentResponderOptions {
  /** OpenAI: the agent's model (unless `modelProvider` is given) and thread titles. Without it, titles are the first words. */
  client?: OpenAI | undefined;
  /** Where the agent's models come from (default: the Responses API through `client`); e.g. the offline model. */
  modelProvider?: ModelProvider | undefined;
  agent: Agent<AgentContext, any>;
  /** The model for thread titles (the agents name their own). */
  model: string;
  /** Model requests a turn may make (tool calls loop back to the model); the SDK's default is 10. */
  maxTurns?: number | undefined;
  /** The task shown while a server tool runs (default: the tool's name, humanized). */
  toolTask?: ToolTaskFor | undefined;
  /** Where generated images are served from (default: data URLs, stored in the item). */
  imageUrl?: ImageUrlFor | undefined;
  partialImages?: number | undefined;
  /** Called once per turn, cancelled or failed turns included, with what the model used. */
  onUsage?: ((usage: TurnUsage) => void) | undefined;
  /** Shown when a guardrail stops a turn and its outputInfo carries no `message`. */
  guardrailMessage?: string | undefined;
  /** Export traces through the Agents SDK's trace processors (off by default: logs and onUsage are the telemetry here). */
  tracing?: boolean | undefined;
}

export const DEFAULT_GUARDRAIL_MESSAGE = 'Sorry, I can’t help with that request.';

type Entry =
  | { from: 'run'; event: RunStreamEvent }
  | { from: 'tool'; command: ContextCommand; resolve: (result: number | undefined) => void; reject: (error: unknown) => void }
  | { from: 'failure'; error: unknown };

/**
 * Answers with an Agents SDK agent: each turn runs the agent, streamed, on the thread's
 * history, and maps the run (and what its tools stream through AgentContext) to ChatKit
 * events. Cancelling the turn's signal stops the run and its model request.
 */
export class AgentResponder implements Responder {
  private readonly provider: ModelProvider;
  private readonly runner: Runner;
  private readonly titles: OpenAIResponder | undefined;

  constructor(private readonly options: AgentResponderOptions) {
    const { client, modelProvider } = options;
    if (!client && !modelProvider) throw new Error('AgentResponder needs an OpenAI client or a model provider');
    this.provider = modelProvider ?? new OpenAIProvider({ openAIClient: client!, useResponses: true });
    this.runner = this.newRunner();
    this.titles = client && new OpenAIResponder({ client, model: options.model, instructions: '' });
  }

  /** The agent's tools, which a client may pick with `inference_options.tool_choice`. */
  tools(): readonly string[] {
    return this.options.agent.tools.map((tool) => tool.name);
  }

  /** The agent for this turn: the one configured, made to call the tool the user picked. */
  private agentFor(turn: TurnInput): Agent<AgentContext, any> {
    const picked = turn.item?.inference_options.tool_choice?.id;
    const { agent } = this.options;
    return picked ? agent.clone({ modelSettings: { ...agent.modelSettings, toolChoice: picked } }) : agent;
  }

  async *respond(turn: TurnInput, signal: AbortSignal): AsyncIterable<ThreadStreamEvent> {
    const history = await turn.history();
    // Stops the run however this stream ends: cancelled, failed, or dropped by its reader.
    const stop = new AbortController();
    const runSignal = AbortSignal.any([signal, stop.signal]);
    const queue = new AsyncQueue<Entry>();
    const context = new AgentContext({
      thread: turn.thread,
      store: turn.store,
      requestContext: turn.ctx,
      ids: turn.ids,
      signal: runSignal,
      send: (command) => deliver(queue, command),
    });
    const mapper = new StreamEventMapper({
      threadId: turn.thread.id,
      ids: turn.ids,
      resumedWorkflow: workflowLeftOpen(history),
      toolTask: this.options.toolTask,
      imageUrl: this.options.imageUrl,
      partialImages: this.options.partialImages,
      handedToClient: (callId) => {
        const call = context.clientToolCall;
        return !!call && (call.callId ?? callId) === callId;
      },
    });
    let result: StreamedRunResult<AgentContext, any> | undefined;
    try {
      yield* mapper.resume();
      const model = turn.item?.inference_options.model;
      result = await (model ? this.newRunner(model) : this.runner).run(this.agentFor(turn), toAgentInput(await turn.modelInput()), {
        stream: true,
        signal: runSignal,
        context,
        ...(this.options.maxTurns ? { maxTurns: this.options.maxTurns } : {}),
      });
      void pump(result, queue);
      yield* mapQueue(queue, mapper);
      if (runSignal.aborted) return;
      const ending = mapper.finish(context.clientToolCall);
      if (ending.keepOpen) await keepWorkflowOpen(turn, ending.keepOpen);
      yield* ending.events;
    } catch (error) {
      if (signal.aborted) return;
      yield* mapper.discard();
      const visible = visibleFailure(error, this.options.guardrailMessage ?? DEFAULT_GUARDRAIL_MESSAGE);
      if (!visible) throw error;
      yield { type: 'error', code: 'custom', message: visible.message, allow_retry: visible.allowRetry };
    } finally {
      stop.abort();
      queue.close();
      for (const entry of queue.drain()) if (entry.from === 'tool') entry.resolve(undefined);
      if (result) this.reportUsage(result);
    }
  }

  async title(firstMessage: string, signal: AbortSignal): Promise<string> {
    return this.titles ? this.titles.title(firstMessage, signal) : fallbackTitle(firstMessage);
  }

  private reportUsage(result: StreamedRunResult<AgentContext, any>) {
    const { inputTokens, outputTokens, requests } = result.runContext.usage;
    try {
      this.options.onUsage?.({ inputTokens, outputTokens, requests });
    } catch {
      // A metrics hook must not turn an answered turn into a failed one.
    }
  }

  private newRunner(model?: string): Runner {
    return new Runner({ modelProvider: this.provider, tracingDisabled: !this.options.tracing, ...(model ? { model } : {}) });
  }
}

/** Moves the run's events into the queue; the queue closes when the run ends. */
async function pump(result: AsyncIterable<RunStreamEvent>, queue: AsyncQueue<Entry>): Promise<void> {
  try {
    for await (const event of result) queue.push({ from: 'run', event });
  } catch (error) {
    queue.push({ from: 'failure', error });
  } finally {
    queue.close();
  }
}

/** The run's events and the tools' commands, in queue order, as ChatKit events. */
async function* mapQueue(queue: AsyncQueue<Entry>, mapper: StreamEventMapper): AsyncGenerator<ThreadStreamEvent> {
  for await (const entry of queue) {
    if (entry.from === 'failure') throw entry.error;
    if (entry.from === 'run') {
      yield* await mapper.fromRun(entry.event);
      continue;
    }
    let applied: ReturnType<StreamEventMapper['fromContext']>;
    try {
      applied = mapper.fromContext(entry.command);
    } catch (error) {
      entry.reject(error); // a tool's mistake (e.g. updating a task of no workflow) is the tool's error
      continue;
    }
    yield* applied.events;
    entry.resolve(applied.result);
  }
}

/**
 * Puts a tool's command in the turn's stream. The wait for the next macrotask lets the pump
 * move every event the run has already produced into the queue first, so that what a tool
 * streams comes after the events that led to the tool's call.
 */
async function deliver(queue: AsyncQueue<Entry>, command: ContextCommand): Promise<number | undefined> {
  await new Promise((resolve) => setImmediate(resolve));
  if (queue.isClosed) return undefined;
  return new Promise((resolve, reject) => queue.push({ from: 'tool', command, resolve, reject }));
}

/** The workflow a client tool call left open, when the thread ends with [workflow, client_tool_call]. */
function workflowLeftOpen(history: ThreadItem[]): WorkflowItem | null {
  const [previous, last] = history.slice(-2);
  return last?.type === 'client_tool_call' && previous?.type === 'workflow' ? previous : null;
}

async function keepWorkflowOpen(turn: TurnInput, { item, stored }: { item: WorkflowItem; stored: boolean }) {
  if (stored) await turn.store.saveItem(turn.thread.id, item, turn.ctx);
  else await turn.store.addThreadItem(turn.thread.id, item, turn.ctx);
}

/** A failure whose message the user should read; null for the rest (generic error, logged). */
function visibleFailure(error: unknown, guardrailMessage: string): { message: string; allowRetry: boolean } | null {
  for (let cause = error, depth = 0; cause && depth < 5; depth++) {
    if (cause instanceof TurnError) return { message: cause.message, allowRetry: cause.allowRetry };
    if (
      cause instanceof InputGuardrailTripwireTriggered ||
      cause instanceof OutputGuardrailTripwireTriggered ||
      cause instanceof ToolInputGuardrailTripwireTriggered ||
      cause instanceof ToolOutputGuardrailTripwireTriggered
    ) {
      const info = (cause.result as { output?: { outputInfo?: unknown } }).output?.outputInfo as { message?: unknown } | undefined;
      return { message: typeof info?.message === 'string' ? info.message : guardrailMessage, allowRetry: false };
    }
    // The SDK wraps a tool's error (ToolCallError.error); plain errors may carry a cause.
    cause = (cause as { error?: unknown; cause?: unknown }).error ?? (cause as { cause?: unknown }).cause;
  }
  return null;
}
