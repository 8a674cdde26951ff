import type { Agent, FunctionTool, RunContext, RunState, RunToolApprovalItem } from '@openai/agents-core';
import type { IdGenerator } from '../../ids.js';
import type { ItemOfType, Task, ThreadStreamEvent } from '../../protocol/index.js';
import { MAX_PENDING_CALLS, MAX_PAUSE_STATE_BYTES, type PauseRequest, type ResumedPause } from '../../responder/paused-turn.js';
import type { AgentContext } from '../context.js';
import { isPending, refusalForModel, type ApprovalCall, type CallOutcome } from './calls.js';
import { applyOutcomes, resolveCalls } from './decisions.js';
import { callIdOf, decodePausedRun, encodePausedRun, restoreRun, serializeRun, type PausedRun, type WaitingTask } from './paused-run.js';
import { approvalPromptFor, argumentsProblem } from './prompts.js';
import { approvalWidgetItem } from './widget.js';

type WorkflowItem = ItemOfType<'workflow'>;

// A turn's approvals, from the run's interruptions to the pause, and from the user's answer to
// the run carried on: what the responder asks of the SDK, shows the client and stores.

type Run = RunState<AgentContext, Agent<AgentContext, any>>;

/** What approvals need from the turn's event mapper: the tasks that show tool calls. */
export interface ToolTasks {
  /** The task showing a call in this turn, with its workflow; null when none shows it. */
  toolTaskOf(callId: string): { workflowId: string; index: number; task: Task } | null;
  /** Shows the call's task as `task` now. */
  setToolTask(callId: string, task: Task): ThreadStreamEvent[];
  /** Tasks of a workflow this turn continues (the paused turn's) that show calls, by call id. */
  adoptToolTasks(workflowId: string, tasks: Record<string, number>): void;
}

export const WAITING_FOR_APPROVAL = 'Waiting for approval';

/** The task of a call that waits: not loading (nothing runs), never complete. */
export function waitingTask(task: Task): Task {
  return task.type === 'custom' ? { ...task, status_indicator: 'none', content: WAITING_FOR_APPROVAL } : { ...task, status_indicator: 'none' };
}

/** The task of a call that was not run, saying why. */
function notRunTask(task: Task, outcome: CallOutcome): Task {
  const why = outcome.type === 'denied' ? 'Denied' : outcome.type === 'expired' ? 'Not run: the request expired' : 'Not run';
  return task.type === 'custom' ? { ...task, status_indicator: 'none', content: why } : { ...task, status_indicator: 'none' };
}

const REFUSED_TOO_MANY = `at most ${MAX_PENDING_CALLS} actions can wait for approval at once`;
const REFUSED_TOO_LARGE = 'the conversation is too large to hold while waiting';
const REFUSED_KIND = 'this kind of tool cannot ask for approval here';
/** Room in a pause's record for what it holds besides the run (widget, workflow). */
const RECORD_SLACK_BYTES = 128 * 1024;

/** How a turn that took over a paused turn starts. */
export type Resumption =
  /** The user decided: the run carries on from its state, with the outcomes applied. */
  | { kind: 'run'; events: ThreadStreamEvent[]; state: Run; paused: PausedRun; calls: ApprovalCall[] }
  /** A new message or an expiry: the pending calls were not run; the turn answers afresh, the model told why. */
  | { kind: 'fresh'; events: ThreadStreamEvent[]; note: string };

/** Reads the paused run; the turn shows the answer before anything else. */
export function readPaused(resumed: ResumedPause): { record: PausedRun; calls: ApprovalCall[] } {
  const record = decodePausedRun(resumed.paused.state);
  return { record, calls: resolveCalls(record.calls, resumed.resolution) };
}

/** The workflow to continue when the run carries on: the paused turn's, with its calls' tasks. */
export function workflowToContinue(record: PausedRun): WorkflowItem | null {
  return record.workflow?.item ?? null;
}

/**
 * Starts the turn that took over a paused turn: the widget shows each decision (by whom, when),
 * each decided call's task says what happens to it, and the run is restored with the outcomes
 * (or, when nothing was decided by a click, the model is told what did not run).
 */
export async function resume(
  resumed: ResumedPause,
  { record, calls }: { record: PausedRun; calls: ApprovalCall[] },
  agent: Agent<AgentContext, any>,
  context: AgentContext,
  tasks: ToolTasks,
  threadId: string,
): Promise<Resumption> {
  const events: ThreadStreamEvent[] = [{ type: 'thread.item.replaced', item: approvalWidgetItem(record.widget.id, threadId, record.widget.createdAt, calls) }];
  const decidedNow = calls.filter((call) => call.outcome && record.calls.some((before) => before.callId === call.callId && isPending(before)));
  if (resumed.resolution.type !== 'decided') {
    const workflow = record.workflow && notRunWorkflow(record.workflow, decidedNow);
    if (workflow) events.push({ type: 'thread.item.replaced', item: workflow });
    return { kind: 'fresh', events, note: noteForModel(decidedNow) };
  }
  if (record.workflow) {
    tasks.adoptToolTasks(record.workflow.item.id, Object.fromEntries(Object.entries(record.workflow.tasks).map(([callId, waiting]) => [callId, waiting.index])));
    for (const call of decidedNow) {
      const waiting = record.workflow.tasks[call.callId];
      if (!waiting) continue;
      events.push(...tasks.setToolTask(call.callId, call.outcome!.type === 'approved' ? waiting.task : notRunTask(waiting.task, call.outcome!)));
    }
  }
  const state = await restoreRun(agent, record, context);
  applyOutcomes(state, calls);
  return { kind: 'run', events, state, paused: record, calls };
}

/** What the model is told about calls it asked for that never ran (a new message came, or the wait ran out). */
function noteForModel(calls: readonly ApprovalCall[]): string {
  const lines = calls.map((call) => `- ${call.name}(${call.arguments}): ${refusalForModel(call.outcome!)}`);
  return `Earlier you asked to run actions that need the user's approval. They were not run:\n${lines.join('\n')}`;
}

function notRunWorkflow(workflow: NonNullable<PausedRun['workflow']>, calls: readonly ApprovalCall[]): WorkflowItem | null {
  const item = structuredClone(workflow.item);
  let changed = false;
  for (const call of calls) {
    const waiting = workflow.tasks[call.callId];
    if (!waiting || !item.workflow.tasks[waiting.index]) continue;
    item.workflow.tasks[waiting.index] = notRunTask(waiting.task, call.outcome!);
    changed = true;
  }
  return changed ? item : null;
}

/** How a run that stopped on interruptions ends the turn. */
export type Pausing =
  /** It waits: the pause to store, and the events that show it (call `finish` first for the workflow). */
  | { kind: 'pause'; request: PauseRequest; events: ThreadStreamEvent[] }
  /** It cannot wait (too large): every call was denied with the reason; the run carries on at once. */
  | { kind: 'carry-on'; events: ThreadStreamEvent[] };

export interface PauseInput {
  result: { state: Run; runContext: RunContext<AgentContext>; interruptions: RunToolApprovalItem[] };
  /** The paused run this turn carried on, when it did (its widget and decided calls continue). */
  previous: { paused: PausedRun; calls: ApprovalCall[] } | null;
  tasks: ToolTasks;
  /** Ends the turn's open workflow (the mapper's finish): called only when the turn does pause. */
  finish: () => ThreadStreamEvent[];
  threadId: string;
  ids: IdGenerator;
}

/**
 * The run stopped on tool calls that need approval. Calls beyond the bound, and kinds this
 * server cannot show, are denied at once (the model is told); if the run's state is too large to
 * keep, every call is. The rest wait: their tasks say so, and the confirmation widget shows them
 * — the same widget again when they are what is left of the paused turn this turn carried on.
 */
export function pause({ result, previous, tasks, finish, threadId, ids }: PauseInput): Pausing {
  const { state } = result;
  const events: ThreadStreamEvent[] = [];
  const continuing = previous !== null && result.interruptions.every((item) => previous.calls.some((call) => call.callId === callIdOf(item)));
  const known = new Map((continuing ? previous!.calls : []).map((call) => [call.callId, call]));
  const refuse = (item: RunToolApprovalItem, call: ApprovalCall | null, reason: string) => {
    const outcome: CallOutcome = { type: 'refused', reason };
    state.reject(item, { message: refusalForModel(outcome) });
    if (!call) return;
    call.outcome = outcome;
    const shown = tasks.toolTaskOf(call.callId);
    if (shown) events.push(...tasks.setToolTask(call.callId, notRunTask(shown.task, outcome)));
  };
  const waiting: Array<{ item: RunToolApprovalItem; call: ApprovalCall }> = [];
  for (const item of result.interruptions) {
    const callId = callIdOf(item);
    if (!callId) {
      refuse(item, null, REFUSED_KIND);
      continue;
    }
    const call = known.get(callId) ?? newCall(item, callId);
    known.set(callId, call);
    const problem = argumentsProblem(toolOf(item), call.arguments);
    if (problem) refuse(item, call, `${problem}; call it again with arguments that fit`);
    else if (waiting.length < MAX_PENDING_CALLS) waiting.push({ item, call });
    else refuse(item, call, REFUSED_TOO_MANY);
  }
  const calls = [...known.values()];
  if (waiting.length === 0) return { kind: 'carry-on', events };

  const run = serializeRun(result);
  if (Buffer.byteLength(JSON.stringify(run), 'utf8') > MAX_PAUSE_STATE_BYTES - RECORD_SLACK_BYTES) {
    for (const { item, call } of waiting) refuse(item, call, REFUSED_TOO_LARGE);
    return { kind: 'carry-on', events: continuing ? [...events, { type: 'thread.item.replaced', item: approvalWidgetItem(previous!.paused.widget.id, threadId, previous!.paused.widget.createdAt, calls) }] : events };
  }

  // Where each waiting call's task is, as it was before it waited (what an approval shows again).
  const before = new Map(waiting.flatMap(({ call }) => {
    const shown = tasks.toolTaskOf(call.callId);
    const earlier = continuing ? previous!.paused.workflow?.tasks[call.callId] : undefined;
    return shown ? [[call.callId, { shown, original: earlier?.task ?? shown.task }] as const] : [];
  }));
  for (const [callId, { shown }] of before) if (shown.task.status_indicator !== 'none') events.push(...tasks.setToolTask(callId, waitingTask(shown.task)));
  const finished = finish();
  events.push(...finished);

  // The workflow that shows the waiting tasks, as the turn stores it (it ends now).
  const workflowId = [...before.values()][0]?.shown.workflowId;
  const workflowItem = finished.flatMap((event) =>
    (event.type === 'thread.item.done' || event.type === 'thread.item.replaced') && event.item.type === 'workflow' && event.item.id === workflowId ? [event.item] : [],
  )[0] ?? null;
  const widget = continuing ? previous!.paused.widget : { id: ids('message'), createdAt: new Date().toISOString() };
  const record: PausedRun = {
    v: 1,
    run,
    widget,
    calls,
    workflow: workflowItem
      ? {
          item: workflowItem,
          tasks: Object.fromEntries(
            [...before].filter(([, { shown }]) => shown.workflowId === workflowItem.id).map(([callId, { shown, original }]): [string, WaitingTask] => [callId, { index: shown.index, task: original }]),
          ),
        }
      : null,
  };
  const encoded = encodePausedRun(record);
  if (encoded === null) throw new Error('the paused run is larger than a pause may hold'); // its parts besides the run are bounded well below the slack
  // A new widget ends the turn (its last item); a continued one was shown again as the turn began.
  if (!continuing) events.push({ type: 'thread.item.done', item: approvalWidgetItem(widget.id, threadId, widget.createdAt, calls) });
  return { kind: 'pause', request: { itemId: widget.id, pending: waiting.map(({ call }) => call.callId), state: encoded }, events };
}

function newCall(item: RunToolApprovalItem, callId: string): ApprovalCall {
  const name = item.name ?? 'tool';
  const args = item.arguments ?? '{}';
  return { callId, name, arguments: args, prompt: approvalPromptFor(toolOf(item), name, args) };
}

function toolOf(item: RunToolApprovalItem): FunctionTool<any, any, any> | undefined {
  return item.agent.tools.find((candidate): candidate is FunctionTool<any, any, any> => candidate.type === 'function' && candidate.name === item.name);
}
