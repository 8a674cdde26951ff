import type { ItemOfType, Task, ThreadItem, ThreadStreamEvent, Workflow } from '../protocol/index.js';

export type WorkflowItem = ItemOfType<'workflow'>;
export type WorkflowSummary = NonNullable<Workflow['summary']>;

/** A workflow item as the reference always sends it: `expanded` stated, false unless said. */
export function withExpanded(item: WorkflowItem): WorkflowItem {
  return item.workflow.expanded === undefined ? { ...item, workflow: { ...item.workflow, expanded: false } } : item;
}

/** Items that may appear while a workflow runs without ending it. */
const QUIET_TYPES = new Set<ThreadItem['type']>(['client_tool_call', 'hidden_context_item', 'sdk_hidden_context']);

interface OpenWorkflow {
  item: WorkflowItem;
  /** The client has it (it was added). */
  shown: boolean;
  /** It is a row already: the previous turn left it open (before a client tool call). */
  resumed: boolean;
}

/**
 * The turn's workflows, as the reference runs them: at most one is open; it ends (done, or
 * replaced when the previous turn left it open) when something visible follows, when another
 * starts, or when the run ends — except before a client tool call, which keeps it open for the
 * next turn. A custom workflow shows once it has a task; every workflow says `expanded`.
 * A tool may still update a task of a workflow that something visible ended: the row is replaced.
 */
export class WorkflowTracker {
  private open: OpenWorkflow | null = null;
  /** Workflows ended in this turn, by id, as stored. */
  private readonly ended = new Map<string, WorkflowItem>();
  /** The workflow a tool last started or added a task to through its context. */
  private contextWorkflowId: string | null = null;

  constructor(
    private readonly newItem: (workflow: Workflow) => WorkflowItem,
    leftOpen: WorkflowItem | null,
  ) {
    if (leftOpen) this.open = { item: withExpanded(structuredClone(leftOpen)), shown: true, resumed: true };
  }

  /** The open workflow, shown or not yet. */
  get current(): WorkflowItem | null {
    return this.open?.item ?? null;
  }

  /** Whether the open workflow is the one the previous turn left open. */
  get resumed(): boolean {
    return this.open?.resumed === true;
  }

  /** The resumed workflow continues: its tasks that waited on the client are complete now. */
  resume(): ThreadStreamEvent[] {
    const open = this.open;
    if (!open?.resumed) return [];
    return open.item.workflow.tasks.flatMap((task, index): ThreadStreamEvent[] => {
      if (task.status_indicator !== 'loading') return [];
      const complete: Task = { ...task, status_indicator: 'complete' };
      open.item.workflow.tasks[index] = complete;
      return [taskUpdated(open.item.id, index, complete)];
    });
  }

  /** Opens a workflow (the open one ends first); a custom one shows once it has a task. */
  start(workflow: Workflow, byContext: boolean): ThreadStreamEvent[] {
    const events = this.end();
    const item = withExpanded(this.newItem(structuredClone(workflow)));
    const shown = workflow.type === 'reasoning' || workflow.tasks.length > 0;
    this.open = { item, shown, resumed: false };
    if (byContext) this.contextWorkflowId = item.id;
    if (shown) events.push(added(item));
    return events;
  }

  /** Adds a task to the open workflow, opening a custom one when none is. */
  addTask(task: Task, byContext: boolean): { events: ThreadStreamEvent[]; index: number; workflowId: string } {
    this.open ??= { item: withExpanded(this.newItem({ type: 'custom', tasks: [] })), shown: false, resumed: false };
    const open = this.open;
    open.item.workflow.tasks.push(structuredClone(task));
    const index = open.item.workflow.tasks.length - 1;
    if (byContext) this.contextWorkflowId = open.item.id;
    const workflowId = open.item.id;
    if (open.shown) return { events: [{ type: 'thread.item.updated', item_id: workflowId, update: { type: 'workflow.task.added', task_index: index, task: structuredClone(task) } }], index, workflowId };
    open.shown = true;
    return { events: [added(open.item)], index, workflowId };
  }

  /**
   * A tool's update of a task of its workflow: the one it last started or added a task to, else
   * the open one, else the one this turn ended last. Once something visible ended that workflow,
   * its row is replaced whole.
   */
  updateTaskFromContext(task: Task, index: number): ThreadStreamEvent[] {
    const mine = this.contextWorkflowId;
    const target = mine && (mine === this.open?.item.id || this.ended.has(mine)) ? mine : (this.open?.item.id ?? [...this.ended.keys()].at(-1) ?? null);
    return this.updateTask(target, index, task);
  }

  /** Replaces a task of the open workflow, or of one ended in this turn. */
  updateTask(workflowId: string | null, index: number, task: Task): ThreadStreamEvent[] {
    const open = this.open;
    if (open && open.item.id === workflowId && open.item.workflow.tasks[index]) {
      open.item.workflow.tasks[index] = structuredClone(task);
      return open.shown ? [taskUpdated(open.item.id, index, task)] : [];
    }
    const ended = workflowId === null ? undefined : this.ended.get(workflowId);
    if (ended?.workflow.tasks[index]) {
      ended.workflow.tasks[index] = structuredClone(task);
      return [{ type: 'thread.item.replaced', item: structuredClone(ended) }];
    }
    throw new Error(`no workflow task ${index} to update`);
  }

  /** A task of the open workflow is done (its tool returned), unless it is not loading or its workflow ended. */
  completeTask(workflowId: string, index: number): ThreadStreamEvent[] {
    const open = this.open;
    const task = open?.item.id === workflowId ? open.item.workflow.tasks[index] : undefined;
    if (!open || !task || task.status_indicator !== 'loading') return [];
    const complete: Task = { ...task, status_indicator: 'complete' };
    open.item.workflow.tasks[index] = complete;
    return [taskUpdated(workflowId, index, complete)];
  }

  /** Ends the open workflow: collapsed unless said, with how long it took unless it has a summary, no task still loading. */
  end(summary?: WorkflowSummary, expanded = false): ThreadStreamEvent[] {
    const open = this.open;
    if (!open) return [];
    this.open = null;
    if (!open.shown) return [];
    const { item } = open;
    const workflow = item.workflow;
    workflow.summary = summary ?? workflow.summary ?? { duration: Math.max(0, Math.round((Date.now() - Date.parse(item.created_at)) / 1000)) };
    workflow.expanded = expanded;
    workflow.tasks = workflow.tasks.map((task) => (task.status_indicator === 'loading' ? { ...task, status_indicator: 'complete' } : task));
    this.ended.set(item.id, item);
    return [{ type: open.resumed ? 'thread.item.replaced' : 'thread.item.done', item: structuredClone(item) }];
  }

  /** The run stops before a client tool call: the open workflow stays open for the next turn, to be stored as it is. */
  keepOpen(): { item: WorkflowItem; stored: boolean } | null {
    const open = this.open;
    this.open = null;
    return open?.shown ? { item: structuredClone(open.item), stored: open.resumed } : null;
  }

  /** Forgets the open workflow of this turn (it is taken back with the rest); the previous turn's ends instead. */
  drop(): ThreadStreamEvent[] {
    if (this.open?.resumed) return this.end();
    this.open = null;
    return [];
  }

  /**
   * What a tool streams through `ctx.stream`, as the reference treats it: a visible item ends the
   * open workflow first; a workflow it adds becomes the open one; updates keep our copy in step.
   * Returns the events to send, the tool's own last (its workflow items with `expanded` stated).
   */
  toolEvent(event: ThreadStreamEvent): ThreadStreamEvent[] {
    const events: ThreadStreamEvent[] = [];
    if (event.type === 'thread.item.added' || event.type === 'thread.item.done' || event.type === 'thread.item.replaced') {
      const item = event.item.type === 'workflow' ? withExpanded(event.item) : event.item;
      if (event.type !== 'thread.item.replaced' && this.open && this.open.item.id !== item.id && !QUIET_TYPES.has(item.type)) events.push(...this.end());
      if (item.type === 'workflow') {
        if (event.type === 'thread.item.added') {
          this.open = { item: structuredClone(item), shown: true, resumed: false };
          this.contextWorkflowId = item.id;
        } else if (this.open?.item.id === item.id && event.type === 'thread.item.done') {
          this.open = null;
          this.ended.set(item.id, structuredClone(item));
        } else if (this.open?.item.id === item.id) {
          this.open.item = structuredClone(item);
        } else {
          this.ended.set(item.id, structuredClone(item));
        }
      }
      events.push({ ...event, item } as ThreadStreamEvent);
      return events;
    }
    if (event.type === 'thread.item.updated' && event.item_id === this.open?.item.id) {
      const update = event.update;
      if (update.type === 'workflow.task.added' || update.type === 'workflow.task.updated') this.open.item.workflow.tasks[update.task_index] = structuredClone(update.task);
    }
    events.push(event);
    return events;
  }
}

function added(item: WorkflowItem): ThreadStreamEvent {
  return { type: 'thread.item.added', item: structuredClone(item) };
}

function taskUpdated(workflowId: string, index: number, task: Task): ThreadStreamEvent {
  return { type: 'thread.item.updated', item_id: workflowId, update: { type: 'workflow.task.updated', task_index: index, task: structuredClone(task) } };
}
