import {
  InputGuardrailTripwireTriggered,
  OutputGuardrailTripwireTriggered,
  Runner,
  ToolInputGuardrailTripwireTriggered,
  ToolOutputGuardrailTripwireTriggered,
  type Agent,
  type AgentInputItem,
  type ModelProvider,
  type ModelSettings,
  type RunState,
  type RunStreamEvent,
  type StreamedRunResult,
} from '@openai/agents-core';
import type OpenAI from 'openai';
import type { StoredThread, ThreadItem, ThreadStreamEvent } from '../protocol/index.js';
import { OpenAIResponder } from '../responder/openai-responder.js';
import { fallbackTitle, type CancelledTurn, type Responder, type TurnInput } from '../responder/responder.js';
import { toAgentInput } from './agent-input.js';
import { pause, readPaused, resume, workflowToContinue, type PauseInput } from './approvals/approval-turn.js';
import { UnreadablePauseError } from './approvals/paused-run.js';
import type { Assistant } from './assistant-options.js';
import { AsyncQueue } from './async-queue.js';
import { AgentContext, type ContextCommand } from './context.js';
import type { ReasoningOptions } from './model-settings.js';
import { StatelessResponsesProvider } from './stateless-responses.js';
import { StreamEventMapper, type LeftOpen } from './stream-events.js';
import { TurnError } from './turn-error.js';
import type { WorkflowItem } from './workflows.js';

/** A turn's token usage, summed over every model request of the run. */
export interface TurnUsage {
  inputTokens: number;
  outputTokens: number;
  requests: number;
}

export interface AgentResponderOptions extends Assistant {
  /** OpenAI: the agents' models (unless `modelProvider` is given) and thread titles. Without it, titles are the first words. */
  client?: OpenAI | undefined;
  /** The model for thread titles, and for an agent that names none (OPENAI_MODEL). */
  model: string;
  /** Where the agents' models come from (default: the Responses API through `client`, storing nothing at OpenAI); e.g. the offline model. */
  modelProvider?: ModelProvider | undefined;
  /** What every run asks of a reasoning model, under what an agent sets itself (ASSISTANT_REASONING_*). */
  reasoning?: ReasoningOptions | undefined;
  /** Model requests a turn may make (tool calls loop back to the model); the SDK's default is 10. */
  maxTurns?: number | undefined;
  /** Called once per turn, cancelled or failed turns included, with what the model used. */
  onUsage?: ((usage: TurnUsage) => void) | undefined;
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
  private readonly runner: Runner;
  private readonly titles: OpenAIResponder | undefined;

  constructor(private readonly options: AgentResponderOptions) {
    const { client, modelProvider } = options;
    if (!client && !modelProvider) throw new Error('AgentResponder needs an OpenAI client or a model provider');
    this.runner = new Runner({
      modelProvider: modelProvider ?? new StatelessResponsesProvider(client!, options.model),
      model: options.model,
      modelSettings: runSettings(options.reasoning),
      tracingDisabled: !options.tracing,
    });
    this.titles = client && new OpenAIResponder({ client, model: options.model, instructions: '' });
  }

  /** The agent's tools, which a client may pick with `inference_options.tool_choice`. */
  tools(): readonly string[] {
    return this.options.agent.tools.map((tool) => tool.name);
  }

  allowCancel(thread: StoredThread): boolean | Promise<boolean> {
    const allow = this.options.allowCancel ?? true;
    return typeof allow === 'function' ? allow(thread) : allow;
  }

  cancelled(turn: CancelledTurn): Promise<void> {
    return this.options.onCancelled ? this.options.onCancelled(turn) : turn.keepDefault();
  }

  async *respond(turn: TurnInput, signal: AbortSignal): AsyncIterable<ThreadStreamEvent> {
    const history = await turn.history();
    // Stops the run however this stream ends: cancelled, failed, or dropped by its reader.
    const stop = new AbortController();
    const runSignal = AbortSignal.any([signal, stop.signal]);
    // One queue per run: a run that carries on after its approvals were refused gets a new one.
    let queue = new AsyncQueue<Entry>();
    const context = new AgentContext({
      thread: turn.thread,
      store: turn.store,
      requestContext: turn.ctx,
      ids: turn.ids,
      signal: runSignal,
      send: (command) => deliver(queue, command),
    });
    // The paused turn this one took over, read first: a click's turn continues its workflow. One
    // that cannot be read fails a click's turn; a new message is answered all the same.
    const taken = takenOver(turn);
    const continued = taken.paused && turn.resumed?.resolution.type === 'decided' ? workflowToContinue(taken.paused.record) : null;
    const mapper = new StreamEventMapper({
      threadId: turn.thread.id,
      ids: turn.ids,
      leftOpen: continued ? { item: continued, continues: true } : workflowLeftOpen(history, turn.item !== null),
      toolTask: this.options.toolTask,
      citations: this.options.citations,
      imageUrl: this.options.imageUrl,
      partialImages: this.options.partialImages,
      handedToClient: (callId) => {
        const call = context.clientToolCall;
        return !!call && (call.callId ?? callId) === callId;
      },
    });
    let result: StreamedRunResult<AgentContext, any> | undefined;
    try {
      if (taken.unreadable) throw taken.unreadable;
      yield* mapper.start();
      const agent = this.agentFor(turn, history);
      let input: AgentInputItem[] | RunState<AgentContext, Agent<AgentContext, any>>;
      let previous: PauseInput['previous'] = null;
      const resumption = taken.paused && (await resume(turn.resumed!, taken.paused, agent, context, mapper, turn.thread.id));
      if (resumption) yield* resumption.events;
      if (resumption?.kind === 'run') {
        input = resumption.state;
        previous = { paused: resumption.paused, calls: resumption.calls };
      } else {
        input = toAgentInput(await turn.modelInput(this.options.history));
        if (resumption) input.push({ role: 'system', content: resumption.note });
      }
      for (;;) {
        result = await this.runner.run(agent, input, {
          stream: true,
          signal: runSignal,
          // A restored run brings the context it was given back.
          ...(Array.isArray(input) ? { context } : {}),
          ...(this.options.maxTurns ? { maxTurns: this.options.maxTurns } : {}),
        });
        void pump(result, queue);
        yield* mapQueue(queue, mapper);
        if (runSignal.aborted) return;
        const interruptions = result.interruptions ?? [];
        if (interruptions.length === 0) break;
        const pausing = pause({
          result: { state: result.state, runContext: result.runContext, interruptions },
          previous,
          tasks: mapper,
          finish: () => mapper.finish(null).events,
          threadId: turn.thread.id,
          ids: turn.ids,
        });
        if (pausing.kind === 'pause') {
          turn.pause(pausing.request);
          yield* pausing.events;
          return;
        }
        // Nothing can wait: every call was denied with the reason, and the run carries on now.
        yield* pausing.events;
        input = result.state;
        queue = new AsyncQueue<Entry>();
      }
      const ending = mapper.finish(context.clientToolCall);
      if (ending.keepOpen) await keepWorkflowOpen(turn, ending.keepOpen);
      yield* ending.events;
    } catch (error) {
      if (signal.aborted) return;
      const tripwire = tripwireOf(error);
      yield* mapper.fail(tripwire !== null);
      const visible = tripwire ? { message: guardrailMessage(tripwire, this.options.guardrailMessage), allowRetry: false } : turnError(error);
      if (!visible) throw loggable(error);
      yield { type: 'error', code: 'custom', message: visible.message, allow_retry: visible.allowRetry };
    } finally {
      stop.abort();
      queue.close();
      for (const entry of queue.drain()) if (entry.from === 'tool') entry.resolve(undefined);
      if (signal.aborted) await closeAbandoned(turn, mapper.abandon());
      if (result) this.reportUsage(result);
    }
  }

  async title(firstMessage: string, signal: AbortSignal): Promise<string> {
    return this.titles ? this.titles.title(firstMessage, signal) : fallbackTitle(firstMessage);
  }

  /** The agent for this turn: on the model the user picked, made to call the tool the user picked. */
  private agentFor(turn: TurnInput, history: ThreadItem[]): Agent<AgentContext, any> {
    let agent = this.options.agent;
    // A turn that carries on after a tool's output stays on the model of the message it answers.
    const asked = turn.item ?? history.findLast((item) => item.type === 'user_message');
    const model = asked?.type === 'user_message' ? asked.inference_options.model : undefined;
    // A clone without settings of its own gets the SDK's defaults for the new model.
    if (model && model !== agent.model) agent = agent.clone({ model });
    const picked = turn.item?.inference_options.tool_choice?.id;
    return picked ? agent.clone({ modelSettings: { ...agent.modelSettings, toolChoice: picked } }) : agent;
  }

  private reportUsage(result: StreamedRunResult<AgentContext, any>) {
    const { inputTokens, outputTokens, requests } = result.runContext.usage;
    try {
      this.options.onUsage?.({ inputTokens, outputTokens, requests });
    } catch {
      // A metrics hook must not turn an answered turn into a failed one.
    }
  }
}

/**
 * The run's settings under each agent's own: reasoning effort and summary. The SDK layers them
 * over its defaults for the model and under what an agent sets; StatelessResponsesModel keeps
 * them from a model that does not reason.
 */
function runSettings(reasoning: ReasoningOptions = {}): ModelSettings | undefined {
  const summary = reasoning.summary ?? 'auto';
  const settings = { ...(reasoning.effort ? { effort: reasoning.effort } : {}), ...(summary !== 'off' ? { summary } : {}) };
  return Object.keys(settings).length ? { reasoning: settings } : undefined;
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

/**
 * The workflow a turn that ended on client tool calls left open: the one right before the
 * thread's trailing client tool calls (however many came in a row; hidden notes between them
 * do not count). A turn that answers the client's output continues it; a new message ends it.
 */
function workflowLeftOpen(history: ThreadItem[], answersMessage: boolean): LeftOpen | null {
  let index = history.length - 1 - (answersMessage ? 1 : 0);
  let calls = 0;
  for (; index >= 0; index--) {
    const item = history[index]!;
    if (item.type === 'client_tool_call') calls++;
    else if (item.type !== 'sdk_hidden_context' && item.type !== 'hidden_context_item') break;
  }
  const candidate = history[index];
  if (!calls || candidate?.type !== 'workflow') return null;
  const open = !candidate.workflow.summary || candidate.workflow.tasks.some((task) => task.status_indicator === 'loading');
  if (answersMessage && !open) return null;
  return { item: candidate, continues: !answersMessage };
}

async function keepWorkflowOpen(turn: TurnInput, { item, stored }: { item: WorkflowItem; stored: boolean }) {
  if (stored) await turn.store.saveItem(turn.thread.id, item, turn.ctx);
  else await turn.store.addThreadItem(turn.thread.id, item, turn.ctx);
}

/** A cancelled turn that continued the previous turn's workflow stores it ended: no spinner is left behind. */
async function closeAbandoned(turn: TurnInput, workflow: WorkflowItem | null) {
  if (!workflow) return;
  try {
    await turn.store.saveItem(turn.thread.id, workflow, turn.ctx);
  } catch {
    // The next turn ends it instead (it still comes before the client tool calls).
  }
}

type Tripwire = InputGuardrailTripwireTriggered | OutputGuardrailTripwireTriggered<any> | ToolInputGuardrailTripwireTriggered | ToolOutputGuardrailTripwireTriggered;

/** The guardrail tripwire behind a failure, if one is (the SDK may wrap it). */
function tripwireOf(error: unknown): Tripwire | null {
  for (const cause of causes(error)) {
    if (
      cause instanceof InputGuardrailTripwireTriggered ||
      cause instanceof OutputGuardrailTripwireTriggered ||
      cause instanceof ToolInputGuardrailTripwireTriggered ||
      cause instanceof ToolOutputGuardrailTripwireTriggered
    ) {
      return cause;
    }
  }
  return null;
}

function guardrailMessage(tripwire: Tripwire, fallback = DEFAULT_GUARDRAIL_MESSAGE): string {
  const info = (tripwire.result as { output?: { outputInfo?: unknown } }).output?.outputInfo as { message?: unknown } | undefined;
  return typeof info?.message === 'string' ? info.message : fallback;
}

/** A TurnError a tool threw, or a paused run that cannot be read: a failure whose message the user should read. */
function turnError(error: unknown): { message: string; allowRetry: boolean } | null {
  for (const cause of causes(error)) {
    if (cause instanceof TurnError) return { message: cause.message, allowRetry: cause.allowRetry };
    if (cause instanceof UnreadablePauseError) return { message: 'This request can no longer be answered; please ask again.', allowRetry: false };
  }
  return null;
}

/** The paused turn this turn took over, read; one a click cannot carry on is the click's failure, a message's turn just answers. */
function takenOver(turn: TurnInput): { paused: ReturnType<typeof readPaused> | null; unreadable: unknown } {
  if (!turn.resumed) return { paused: null, unreadable: null };
  try {
    return { paused: readPaused(turn.resumed), unreadable: null };
  } catch (error) {
    return { paused: null, unreadable: turn.resumed.resolution.type === 'decided' ? error : null };
  }
}

/** The error and what it wraps: the SDK wraps a tool's error (ToolCallError.error); plain errors may carry a cause. */
function* causes(error: unknown): Generator<unknown> {
  for (let cause = error, depth = 0; cause && depth < 5; depth++) {
    yield cause;
    cause = (cause as { error?: unknown }).error ?? (cause as { cause?: unknown }).cause;
  }
}

/**
 * The SDK's errors carry the run's state, which serializes the AgentContext — not a plain
 * record, so serializing it throws, and a logger that serializes the error fails with it. The
 * state stays on the error, out of sight of JSON.
 */
function loggable(error: unknown): unknown {
  for (const cause of causes(error)) {
    if (cause && typeof cause === 'object' && 'state' in cause) Object.defineProperty(cause, 'state', { enumerable: false });
  }
  return error;
}
