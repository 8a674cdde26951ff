import { RunHandoffOutputItem, type RunStreamEvent } from '@openai/agents-core';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import type { IdGenerator } from '../ids.js';
import type { Task, ThreadItem, ThreadStreamEvent } from '../protocol/index.js';
import type { CitationConverters } from './annotations.js';
import type { ClientToolCallRequest, ContextCommand } from './context.js';
import { ModelOutput, type ImageUrlFor } from './model-output.js';
import { ShownItems } from './shown-items.js';
import { WorkflowTracker, type WorkflowItem } from './workflows.js';

/** A server tool call the model made, as the task shown while it runs sees it. */
export interface ToolCall {
  name: string;
  /** The model's arguments, JSON. */
  arguments: string;
  callId: string;
}

/** The task shown while a server tool runs; null shows none. */
export type ToolTaskFor = (call: ToolCall) => Task | null;

/** The workflow the previous turn left open before its client tool calls, and whether this turn continues it. */
export interface LeftOpen {
  item: WorkflowItem;
  /** True when this turn carries on after the client's output; false (a new message): it just ends. */
  continues: boolean;
}

export interface StreamEventMapperOptions {
  threadId: string;
  ids: IdGenerator;
  leftOpen?: LeftOpen | null | undefined;
  toolTask?: ToolTaskFor | undefined;
  citations?: CitationConverters | undefined;
  imageUrl?: ImageUrlFor | undefined;
  partialImages?: number | undefined;
  /** Whether a tool call's output only says it was handed to the client: its task keeps loading. */
  handedToClient?: ((callId: string) => boolean) | undefined;
}

/** What the end of a run leaves: the last events, and a workflow to store open for the next turn. */
export interface RunEnding {
  events: ThreadStreamEvent[];
  keepOpen: { item: WorkflowItem; stored: boolean } | null;
}

export const defaultToolTask: ToolTaskFor = ({ name }) => ({ type: 'custom', title: humanize(name), status_indicator: 'loading' });

/**
 * Maps an Agents SDK run, and the commands its tools send through AgentContext, to ChatKit
 * events, one input at a time, in the order they happen: the model's own output (ModelOutput),
 * a task while each server tool runs and one for each handoff (in the open workflow, see
 * WorkflowTracker), and what tools stream. Everything it shows is recorded (ShownItems), so that
 * a failed run takes back what is unfinished, and a guardrail's tripwire all of it.
 */
export class StreamEventMapper {
  private readonly workflows: WorkflowTracker;
  private readonly output: ModelOutput;
  private readonly shown = new ShownItems();
  private readonly toolTasks = new Map<string, { workflowId: string; index: number }>();
  private lastToolCallId: string | null = null;

  constructor(private readonly options: StreamEventMapperOptions) {
    const newItem = (workflow: WorkflowItem['workflow']): WorkflowItem => ({ id: options.ids('workflow'), thread_id: options.threadId, created_at: new Date().toISOString(), type: 'workflow', workflow });
    this.workflows = new WorkflowTracker(newItem, options.leftOpen?.item ?? null);
    this.output = new ModelOutput({ threadId: options.threadId, ids: options.ids, workflows: this.workflows, citations: options.citations, imageUrl: options.imageUrl, partialImages: options.partialImages });
  }

  /** The turn's first events: the workflow the previous turn left open continues (its client tasks complete), or ends. */
  start(): ThreadStreamEvent[] {
    if (!this.options.leftOpen) return [];
    return this.shown.observe(this.options.leftOpen.continues ? this.workflows.resume() : this.workflows.end());
  }

  async fromRun(event: RunStreamEvent): Promise<ThreadStreamEvent[]> {
    if (event.type === 'run_item_stream_event') return this.shown.observe(this.fromRunItem(event));
    if (event.type === 'raw_model_stream_event' && event.data.type === 'model') return this.shown.observe(await this.output.map(event.data.event as ResponseStreamEvent));
    return [];
  }

  /** A tool's command; returns its events and, for a new task, the task's index. Throws for a tool's mistake. */
  fromContext(command: ContextCommand): { events: ThreadStreamEvent[]; result?: number } {
    switch (command.type) {
      case 'event':
        return { events: this.shown.observe(this.workflows.toolEvent(command.event)) };
      case 'workflow.start':
        return { events: this.shown.observe(this.workflows.start(command.workflow, true)) };
      case 'workflow.task.add': {
        const { events, index } = this.workflows.addTask(command.task, true);
        return { events: this.shown.observe(events), result: index };
      }
      case 'workflow.task.update':
        return { events: this.shown.observe(this.workflows.updateTaskFromContext(command.task, command.index)) };
      case 'workflow.end':
        return { events: this.shown.observe(this.workflows.end(command.summary, command.expanded)) };
    }
  }

  /**
   * The run finished. With a client tool call pending, the open workflow stays open (stored by
   * the caller, continued by the next turn) and the call is the last item.
   */
  finish(clientToolCall: ClientToolCallRequest | null): RunEnding {
    if (!clientToolCall) return { events: this.shown.observe(this.workflows.end()), keepOpen: null };
    const keepOpen = this.workflows.keepOpen();
    if (keepOpen) this.shown.markStored(keepOpen.item.id);
    const call: ThreadItem = {
      id: this.options.ids('tool_call'),
      thread_id: this.options.threadId,
      created_at: new Date().toISOString(),
      type: 'client_tool_call',
      status: 'pending',
      call_id: clientToolCall.callId ?? this.lastToolCallId ?? this.options.ids('tool_call'),
      name: clientToolCall.name,
      arguments: clientToolCall.arguments,
    };
    return { events: this.shown.observe([{ type: 'thread.item.done', item: call }]), keepOpen };
  }

  /**
   * The run failed. What the user already read stays (it is stored); what was unfinished is
   * taken back — or, after a guardrail's tripwire, everything this turn showed. A workflow the
   * previous turn left open is not this turn's to take back: it ends.
   */
  fail(tripwire: boolean): ThreadStreamEvent[] {
    const events = this.shown.observe(this.workflows.drop());
    for (const id of this.shown.takeBack(tripwire)) events.push({ type: 'thread.item.removed', item_id: id });
    this.output.clear();
    return events;
  }

  /** The turn was cancelled: the workflow the previous turn left open, ended, for the caller to store (the client is gone). */
  abandon(): WorkflowItem | null {
    if (!this.workflows.resumed) return null;
    const [ended] = this.workflows.end();
    return ended?.type === 'thread.item.replaced' && ended.item.type === 'workflow' ? ended.item : null;
  }

  // ---- the tasks of calls that wait for approval (approvals/approval-turn.ts) ----

  /** The task showing a call in the open workflow. */
  toolTaskOf(callId: string): { workflowId: string; index: number; task: Task } | null {
    const running = this.toolTasks.get(callId);
    const open = this.workflows.current;
    const task = running && open?.id === running.workflowId ? open.workflow.tasks[running.index] : undefined;
    return running && task ? { ...running, task } : null;
  }

  /** Shows the call's task as `task` now. */
  setToolTask(callId: string, task: Task): ThreadStreamEvent[] {
    const shown = this.toolTaskOf(callId);
    return shown ? this.shown.observe(this.workflows.updateTask(shown.workflowId, shown.index, task)) : [];
  }

  /** Tasks of the workflow this turn continues (a paused turn's) that show its calls, by call id. */
  adoptToolTasks(workflowId: string, tasks: Record<string, number>): void {
    for (const [callId, index] of Object.entries(tasks)) this.toolTasks.set(callId, { workflowId, index });
  }

  // ---- run items: tool calls and handoffs ----

  private fromRunItem(event: Extract<RunStreamEvent, { type: 'run_item_stream_event' }>): ThreadStreamEvent[] {
    const raw = event.item.rawItem as { type?: string; callId?: string; name?: string; arguments?: string };
    switch (event.name) {
      case 'tool_called': {
        if (raw.type !== 'function_call' || !raw.callId) return [];
        this.lastToolCallId = raw.callId;
        const task = (this.options.toolTask ?? defaultToolTask)({ name: raw.name ?? '', arguments: raw.arguments ?? '', callId: raw.callId });
        if (!task) return [];
        const { events, index, workflowId } = this.workflows.addTask(task, false);
        this.toolTasks.set(raw.callId, { workflowId, index });
        return events;
      }
      case 'tool_output': {
        const running = raw.callId ? this.toolTasks.get(raw.callId) : undefined;
        if (!running || this.options.handedToClient?.(raw.callId!)) return [];
        return this.workflows.completeTask(running.workflowId, running.index);
      }
      case 'handoff_occurred': {
        const target = event.item instanceof RunHandoffOutputItem ? event.item.targetAgent.name : 'another agent';
        return this.workflows.addTask({ type: 'custom', title: `Handed off to ${target}`, status_indicator: 'complete' }, false).events;
      }
      default:
        return [];
    }
  }
}

function humanize(name: string): string {
  const words = name.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ').trim().toLowerCase();
  return words ? words[0]!.toUpperCase() + words.slice(1) : 'Tool';
}
