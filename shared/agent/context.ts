import type { IdGenerator, IdKind } from '../ids.js';
import type { JsonObject, StoredThread, Task, ThreadStreamEvent, Workflow } from '../protocol/index.js';
import type { RequestContext, Store } from '../store/store.js';
import { widgetEvents, type WidgetSource } from './widgets.js';
import type { WorkflowSummary } from './workflows.js';

export type { WorkflowSummary };

/** What a tool asks the turn's stream to do; the stream applies commands in the order they come. */
export type ContextCommand =
  | { type: 'event'; event: ThreadStreamEvent }
  | { type: 'workflow.start'; workflow: Workflow }
  | { type: 'workflow.task.add'; task: Task }
  | { type: 'workflow.task.update'; task: Task; index: number }
  | { type: 'workflow.end'; summary?: WorkflowSummary | undefined; expanded?: boolean | undefined };

/** Delivers a command; resolves once it is in the stream (with the task index for `workflow.task.add`). */
export type CommandSink = (command: ContextCommand) => Promise<number | undefined>;

/** A call the client runs (ChatKit's onClientTool); the turn ends waiting for its output. */
export interface ClientToolCallRequest {
  name: string;
  arguments: JsonObject;
  /** The model's call id, when the tool knows it (clientTool() does). */
  callId?: string | undefined;
}

export interface AgentContextInit {
  thread: StoredThread;
  store: Store;
  requestContext: RequestContext;
  ids: IdGenerator;
  signal: AbortSignal;
  send: CommandSink;
}

/**
 * What a tool gets as `runContext.context` during a turn: the thread, the store and who is
 * asking, and helpers that put widgets, workflows, progress and client effects into the
 * answer's stream, in order with the model's own output.
 */
export class AgentContext {
  readonly thread: StoredThread;
  readonly store: Store;
  readonly requestContext: RequestContext;
  /** Aborts when the user cancels the turn: pass it to anything slow. */
  readonly signal: AbortSignal;
  /** Set by requestClientToolCall; the turn ends with it as a pending client_tool_call item. */
  clientToolCall: ClientToolCallRequest | null = null;
  private readonly ids: IdGenerator;
  private readonly send: CommandSink;

  constructor(init: AgentContextInit) {
    this.thread = init.thread;
    this.store = init.store;
    this.requestContext = init.requestContext;
    this.ids = init.ids;
    this.signal = init.signal;
    this.send = init.send;
  }

  get userId(): string {
    return this.requestContext.userId;
  }

  generateId(kind: IdKind): string {
    return this.ids(kind);
  }

  /** Any ChatKit event, as is. */
  async stream(event: ThreadStreamEvent): Promise<void> {
    await this.send({ type: 'event', event });
  }

  /** A widget: one tree, or an async iterable of its successive states (text streams as deltas). */
  async streamWidget(widget: WidgetSource, options: { copyText?: string } = {}): Promise<void> {
    for await (const event of widgetEvents(this.thread.id, widget, this.ids('message'), options.copyText)) {
      if (this.signal.aborted) return;
      await this.stream(event);
    }
  }

  /** Opens a workflow (the previous one ends); a custom one shows once it has a task. */
  async startWorkflow(workflow: Workflow): Promise<void> {
    await this.send({ type: 'workflow.start', workflow: structuredClone(workflow) });
  }

  /** Adds a task to the open workflow, opening a custom one if none is; returns its index. */
  async addWorkflowTask(task: Task): Promise<number> {
    return (await this.send({ type: 'workflow.task.add', task: structuredClone(task) })) ?? -1;
  }

  async updateWorkflowTask(task: Task, index: number): Promise<void> {
    await this.send({ type: 'workflow.task.update', task: structuredClone(task), index });
  }

  /** Closes the open workflow; without a summary it shows how long it took. */
  async endWorkflow(options: { summary?: WorkflowSummary; expanded?: boolean } = {}): Promise<void> {
    await this.send({ type: 'workflow.end', summary: options.summary, expanded: options.expanded });
  }

  /** A passing status line ("Searching…"), never stored. */
  async progress(text: string, icon?: string): Promise<void> {
    await this.stream({ type: 'progress_update', text, ...(icon ? { icon } : {}) });
  }

  /** A fire-and-forget instruction to the client app (ChatKit's onEffect), never stored. */
  async clientEffect(name: string, data: JsonObject = {}): Promise<void> {
    await this.stream({ type: 'client_effect', name, data });
  }

  /**
   * Asks the client to run a tool. The agent must stop here (toolUseBehavior:
   * stopAtClientToolCall); the client's output resumes the conversation in a new turn.
   */
  requestClientToolCall(call: ClientToolCallRequest): void {
    this.clientToolCall = { ...call, arguments: structuredClone(call.arguments) };
  }
}
