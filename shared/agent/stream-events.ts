import { RunHandoffOutputItem, type RunStreamEvent } from '@openai/agents-core';
import type { ResponseOutputMessage, ResponseStreamEvent } from 'openai/resources/responses/responses';
import type { IdGenerator } from '../ids.js';
import type { AssistantMessageItem, ItemOfType, OutputText, Task, ThreadItem, ThreadStreamEvent, Workflow } from '../protocol/index.js';
import { citationToAnnotation } from './annotations.js';
import type { ClientToolCallRequest, ContextCommand, WorkflowSummary } from './context.js';

export type WorkflowItem = ItemOfType<'workflow'>;
type GeneratedImageItem = ItemOfType<'generated_image'>;

/** A server tool call the model made, as the task shown while it runs sees it. */
export interface ToolCall {
  name: string;
  /** The model's arguments, JSON. */
  arguments: string;
  callId: string;
}

/** The task shown while a server tool runs; null shows none. */
export type ToolTaskFor = (call: ToolCall) => Task | null;

/** Where a generated image is shown from: a data URL by default; upload it and return its URL to keep rows small. */
export type ImageUrlFor = (image: { id: string; base64: string; partialIndex?: number }) => string | Promise<string>;

export interface StreamEventMapperOptions {
  threadId: string;
  ids: IdGenerator;
  /** The workflow a client tool call left open in the previous turn, continued by this one. */
  resumedWorkflow?: WorkflowItem | null | undefined;
  toolTask?: ToolTaskFor | undefined;
  imageUrl?: ImageUrlFor | undefined;
  /** How many partial images an image generation sends, to report progress; unknown: progress 0. */
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
export const dataImageUrl: ImageUrlFor = ({ base64 }) => `data:image/png;base64,${base64}`;

/**
 * Maps an Agents SDK run, and the commands its tools send through AgentContext, to ChatKit
 * events, one input at a time, in the order they happen:
 *
 * - assistant messages: added, content parts with text deltas, citations, done (refusals are
 *   shown as the message's text)
 * - reasoning: a "reasoning" workflow whose thought tasks stream the summary
 * - server tool calls: a task (loading, then complete) in the open workflow
 * - handoffs: a completed task naming the agent that takes over
 * - image generation: a generated_image item updated with each partial image
 *
 * A workflow ends (done) when something visible follows it: a message, an image, a widget.
 * Everything the run showed is remembered, so a failed run can take it all back (`discard`).
 */
export class StreamEventMapper {
  private workflow: WorkflowItem | null = null;
  /** The client has the workflow (it was added). */
  private workflowShown = false;
  /** The workflow is already a row (left open by the previous turn): it ends with `replaced`. */
  private workflowStored = false;
  private readonly messages = new Map<string, AssistantMessageItem>();
  private readonly images = new Map<string, GeneratedImageItem>();
  /** Streaming thought tasks by reasoning item and summary index. */
  private readonly thoughts = new Map<string, number>();
  private readonly toolTasks = new Map<string, { workflowId: string; index: number }>();
  private lastToolCallId: string | null = null;
  /** Items the client was shown but that are not stored yet, and items stored by this run. */
  private readonly open = new Map<string, ThreadItem>();
  private readonly stored = new Set<string>();

  constructor(private readonly options: StreamEventMapperOptions) {
    if (options.resumedWorkflow) {
      this.workflow = structuredClone(options.resumedWorkflow);
      this.workflowShown = true;
      this.workflowStored = true;
    }
  }

  /** The resumed workflow's tasks that waited on the client are done now. */
  resume(): ThreadStreamEvent[] {
    const workflow = this.workflow;
    if (!workflow || !this.workflowStored) return [];
    return workflow.workflow.tasks.flatMap((task, index): ThreadStreamEvent[] => {
      if (task.status_indicator !== 'loading') return [];
      const complete: Task = { ...task, status_indicator: 'complete' };
      workflow.workflow.tasks[index] = complete;
      return [taskUpdated(workflow.id, index, complete)];
    });
  }

  async fromRun(event: RunStreamEvent): Promise<ThreadStreamEvent[]> {
    if (event.type === 'run_item_stream_event') return this.fromRunItem(event);
    if (event.type === 'raw_model_stream_event' && event.data.type === 'model') return this.fromModel(event.data.event as ResponseStreamEvent);
    return [];
  }

  /** A tool's command; returns its events and, for a new task, the task's index. */
  fromContext(command: ContextCommand): { events: ThreadStreamEvent[]; result?: number } {
    switch (command.type) {
      case 'event':
        return { events: this.toolEvent(command.event) };
      case 'workflow.start': {
        const events = this.endWorkflow();
        this.workflow = this.newWorkflow(command.workflow);
        this.workflowShown = command.workflow.type === 'reasoning' || command.workflow.tasks.length > 0;
        if (this.workflowShown) events.push(this.added(this.workflow));
        return { events };
      }
      case 'workflow.task.add': {
        const { events, index } = this.addTask(command.task);
        return { events, result: index };
      }
      case 'workflow.task.update': {
        const workflow = this.workflow;
        if (!workflow || !workflow.workflow.tasks[command.index]) throw new Error(`no open workflow task ${command.index} to update`);
        workflow.workflow.tasks[command.index] = command.task;
        return { events: [taskUpdated(workflow.id, command.index, command.task)] };
      }
      case 'workflow.end':
        return { events: this.endWorkflow(command.summary, command.expanded) };
    }
  }

  /**
   * The run finished. With a client tool call pending, the open workflow stays open (stored
   * by the caller, continued by the next turn) and the call is the last item.
   */
  finish(clientToolCall: ClientToolCallRequest | null): RunEnding {
    if (!clientToolCall) return { events: this.endWorkflow(), keepOpen: null };
    const keepOpen = this.workflow && this.workflowShown ? { item: structuredClone(this.workflow), stored: this.workflowStored } : null;
    if (keepOpen) this.markStored(keepOpen.item.id);
    this.workflow = null;
    const call: ThreadItem = {
      id: this.options.ids('tool_call'),
      thread_id: this.options.threadId,
      created_at: now(),
      type: 'client_tool_call',
      status: 'pending',
      call_id: clientToolCall.callId ?? this.lastToolCallId ?? this.options.ids('tool_call'),
      name: clientToolCall.name,
      arguments: clientToolCall.arguments,
    };
    return { events: [this.done(call)], keepOpen };
  }

  /** The run failed: takes back everything it showed, stored or still open. */
  discard(): ThreadStreamEvent[] {
    const events: ThreadStreamEvent[] = [];
    for (const id of [...this.open.keys(), ...this.stored]) events.push({ type: 'thread.item.removed', item_id: id });
    this.open.clear();
    this.stored.clear();
    this.messages.clear();
    this.images.clear();
    if (!this.workflowStored) this.workflow = null;
    return events;
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
        const { events, index, workflowId } = this.addTask(task);
        this.toolTasks.set(raw.callId, { workflowId, index });
        return events;
      }
      case 'tool_output': {
        if (!raw.callId || this.options.handedToClient?.(raw.callId)) return [];
        const running = this.toolTasks.get(raw.callId);
        const workflow = this.workflow;
        const task = running && workflow?.id === running.workflowId ? workflow.workflow.tasks[running.index] : undefined;
        if (!workflow || !running || !task || task.status_indicator !== 'loading') return [];
        const complete: Task = { ...task, status_indicator: 'complete' };
        workflow.workflow.tasks[running.index] = complete;
        return [taskUpdated(workflow.id, running.index, complete)];
      }
      case 'handoff_occurred': {
        const target = event.item instanceof RunHandoffOutputItem ? event.item.targetAgent.name : 'another agent';
        return this.addTask({ type: 'custom', title: `Handed off to ${target}`, status_indicator: 'complete' }).events;
      }
      default:
        return [];
    }
  }

  // ---- raw Responses API events ----

  private async fromModel(event: ResponseStreamEvent): Promise<ThreadStreamEvent[]> {
    switch (event.type) {
      case 'response.output_item.added': {
        const item = event.item;
        if (item.type === 'reasoning') {
          if (this.workflow) return [];
          this.workflow = this.newWorkflow({ type: 'reasoning', tasks: [] });
          this.workflowShown = true;
          return [this.added(this.workflow)];
        }
        if (item.type === 'message') {
          const events = this.endWorkflow();
          const message: AssistantMessageItem = { id: this.options.ids('message'), thread_id: this.options.threadId, created_at: now(), type: 'assistant_message', content: item.content.map(outputText) };
          this.messages.set(item.id, message);
          events.push(this.added(message));
          return events;
        }
        if (item.type === 'image_generation_call') {
          const events = this.endWorkflow();
          const image: GeneratedImageItem = { id: this.options.ids('message'), thread_id: this.options.threadId, created_at: now(), type: 'generated_image' };
          this.images.set(item.id, image);
          events.push(this.added(image));
          return events;
        }
        return [];
      }
      case 'response.content_part.added': {
        const message = this.messages.get(event.item_id);
        if (!message || (event.part.type !== 'output_text' && event.part.type !== 'refusal')) return [];
        const content = outputText(event.part);
        message.content[event.content_index] = content;
        return [messageUpdated(message.id, { type: 'assistant_message.content_part.added', content_index: event.content_index, content: structuredClone(content) })];
      }
      case 'response.output_text.delta':
      case 'response.refusal.delta': {
        const message = this.messages.get(event.item_id);
        const part = message?.content[event.content_index];
        if (!message || !part) return [];
        part.text += event.delta;
        return [messageUpdated(message.id, { type: 'assistant_message.content_part.text_delta', content_index: event.content_index, delta: event.delta })];
      }
      case 'response.output_text.annotation.added': {
        const message = this.messages.get(event.item_id);
        const part = message?.content[event.content_index];
        const annotation = citationToAnnotation(event.annotation);
        // Citations ChatKit cannot show are dropped, so the index counts only those it can.
        if (!message || !part || !annotation) return [];
        part.annotations.push(annotation);
        return [
          messageUpdated(message.id, {
            type: 'assistant_message.content_part.annotation_added',
            content_index: event.content_index,
            annotation_index: part.annotations.length - 1,
            annotation,
          }),
        ];
      }
      case 'response.output_text.done':
      case 'response.refusal.done': {
        const message = this.messages.get(event.item_id);
        const part = message?.content[event.content_index];
        if (!message || !part) return [];
        part.text = event.type === 'response.output_text.done' ? event.text : event.refusal;
        return [messageUpdated(message.id, { type: 'assistant_message.content_part.done', content_index: event.content_index, content: structuredClone(part) })];
      }
      case 'response.output_item.done': {
        const item = event.item;
        if (item.type === 'message') {
          const message = this.messages.get(item.id);
          if (!message) return [];
          this.messages.delete(item.id);
          message.content = item.content.map(outputText);
          return [this.done(message)];
        }
        if (item.type === 'image_generation_call') {
          const image = this.images.get(item.id);
          if (!image || !item.result) return [];
          this.images.delete(item.id);
          image.image = { id: item.id, url: await (this.options.imageUrl ?? dataImageUrl)({ id: item.id, base64: item.result }) };
          return [this.done(image)];
        }
        return [];
      }
      case 'response.image_generation_call.partial_image': {
        const image = this.images.get(event.item_id);
        if (!image) return [];
        const url = await (this.options.imageUrl ?? dataImageUrl)({ id: event.item_id, base64: event.partial_image_b64, partialIndex: event.partial_image_index });
        image.image = { id: event.item_id, url };
        const expected = this.options.partialImages;
        const progress = expected && expected > 0 ? Math.min(1, event.partial_image_index / expected) : 0;
        return [{ type: 'thread.item.updated', item_id: image.id, update: { type: 'generated_image.updated', image: { ...image.image }, progress } }];
      }
      case 'response.reasoning_summary_text.delta': {
        const workflow = this.workflow;
        if (!workflow) return [];
        const key = `${event.item_id}:${event.summary_index}`;
        const index = this.thoughts.get(key);
        if (index === undefined) {
          const added = this.addTask({ type: 'thought', content: event.delta });
          this.thoughts.set(key, added.index);
          return added.events;
        }
        const task = workflow.workflow.tasks[index];
        if (task?.type !== 'thought') return [];
        task.content += event.delta;
        return [taskUpdated(workflow.id, index, task)];
      }
      case 'response.reasoning_summary_text.done': {
        const workflow = this.workflow;
        if (!workflow) return [];
        const key = `${event.item_id}:${event.summary_index}`;
        const index = this.thoughts.get(key);
        this.thoughts.delete(key);
        const task = index === undefined ? undefined : workflow.workflow.tasks[index];
        if (index === undefined || task?.type !== 'thought') return this.addTask({ type: 'thought', content: event.text }).events;
        if (task.content === event.text) return [];
        task.content = event.text;
        return [taskUpdated(workflow.id, index, task)];
      }
      default:
        return [];
    }
  }

  // ---- workflows ----

  private newWorkflow(workflow: Workflow): WorkflowItem {
    this.workflowStored = false;
    return { id: this.options.ids('workflow'), thread_id: this.options.threadId, created_at: now(), type: 'workflow', workflow };
  }

  /** Adds a task to the open workflow, opening a custom one when none is. */
  private addTask(task: Task): { events: ThreadStreamEvent[]; index: number; workflowId: string } {
    if (!this.workflow) {
      this.workflow = this.newWorkflow({ type: 'custom', tasks: [] });
      this.workflowShown = false;
    }
    const workflow = this.workflow;
    workflow.workflow.tasks.push(task);
    const index = workflow.workflow.tasks.length - 1;
    if (this.workflowShown) return { events: [{ type: 'thread.item.updated', item_id: workflow.id, update: { type: 'workflow.task.added', task_index: index, task: structuredClone(task) } }], index, workflowId: workflow.id };
    this.workflowShown = true;
    return { events: [this.added(workflow)], index, workflowId: workflow.id };
  }

  /** Closes the open workflow: collapsed, with how long it took unless it has a summary; tasks still loading are complete. */
  private endWorkflow(summary?: WorkflowSummary, expanded = false): ThreadStreamEvent[] {
    const item = this.workflow;
    if (!item) return [];
    this.workflow = null;
    this.thoughts.clear();
    if (!this.workflowShown) return [];
    const workflow = item.workflow;
    workflow.summary = summary ?? workflow.summary ?? { duration: Math.max(0, Math.round((Date.now() - Date.parse(item.created_at)) / 1000)) };
    workflow.expanded = expanded;
    workflow.tasks = workflow.tasks.map((task) => (task.status_indicator === 'loading' ? { ...task, status_indicator: 'complete' } : task));
    if (this.workflowStored) return [{ type: 'thread.item.replaced', item: structuredClone(item) }];
    return [this.done(item)];
  }

  // ---- events about items shown by this run ----

  private toolEvent(event: ThreadStreamEvent): ThreadStreamEvent[] {
    const events: ThreadStreamEvent[] = [];
    if (event.type === 'thread.item.added' || event.type === 'thread.item.done') {
      const item = event.item;
      if (this.workflow && this.workflow.id !== item.id && !QUIET_TYPES.has(item.type)) events.push(...this.endWorkflow());
      if (event.type === 'thread.item.added' && item.type === 'workflow') {
        this.workflow = structuredClone(item);
        this.workflowShown = true;
        this.workflowStored = false;
      }
      if (event.type === 'thread.item.added') this.open.set(item.id, structuredClone(item));
      else this.markStored(item.id);
      if (event.type === 'thread.item.done' && item.id === this.workflow?.id) this.workflow = null;
    } else if (event.type === 'thread.item.updated' && event.item_id === this.workflow?.id) {
      // A tool changing the open workflow by hand: keep the copy that ends it in step.
      const update = event.update;
      if (update.type === 'workflow.task.added' || update.type === 'workflow.task.updated') this.workflow.workflow.tasks[update.task_index] = structuredClone(update.task);
    } else if (event.type === 'thread.item.removed') {
      this.open.delete(event.item_id);
      this.stored.delete(event.item_id);
    }
    events.push(event);
    return events;
  }

  private added(item: ThreadItem): ThreadStreamEvent {
    this.open.set(item.id, item);
    return { type: 'thread.item.added', item: structuredClone(item) };
  }

  private done(item: ThreadItem): ThreadStreamEvent {
    this.markStored(item.id);
    return { type: 'thread.item.done', item: structuredClone(item) };
  }

  private markStored(id: string) {
    this.open.delete(id);
    this.stored.add(id);
  }
}

/** Items that may appear while a workflow runs without ending it. */
const QUIET_TYPES = new Set<ThreadItem['type']>(['workflow', 'client_tool_call', 'hidden_context_item', 'sdk_hidden_context']);

function outputText(part: ResponseOutputMessage['content'][number]): OutputText {
  if (part.type === 'refusal') return { type: 'output_text', text: part.refusal, annotations: [] };
  return { type: 'output_text', text: part.text, annotations: (part.annotations ?? []).flatMap((a) => citationToAnnotation(a) ?? []) };
}

function messageUpdated(itemId: string, update: Extract<ThreadStreamEvent, { type: 'thread.item.updated' }>['update']): ThreadStreamEvent {
  return { type: 'thread.item.updated', item_id: itemId, update };
}

function taskUpdated(workflowId: string, index: number, task: Task): ThreadStreamEvent {
  return { type: 'thread.item.updated', item_id: workflowId, update: { type: 'workflow.task.updated', task_index: index, task: structuredClone(task) } };
}

function now(): string {
  return new Date().toISOString();
}

function humanize(name: string): string {
  const words = name.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ').trim().toLowerCase();
  return words ? words[0]!.toUpperCase() + words.slice(1) : 'Tool';
}
