import { RunContext, RunState, type Agent, type RunToolApprovalItem } from '@openai/agents-core';
import type { ItemOfType, Task } from '../../protocol/index.js';
import { MAX_PAUSE_STATE_BYTES } from '../../responder/paused-turn.js';
import type { AgentContext } from '../context.js';
import type { ApprovalCall } from './calls.js';

type WorkflowItem = ItemOfType<'workflow'>;

// The record a paused turn leaves in the store: the Agents SDK's serialised RunState of the
// interrupted run, with what the turn showed (the confirmation widget, the workflow with the
// calls' tasks), so that any instance can carry the run on and keep the client's view in step.

/** Where a call's task is, and the task as it was before it waited. */
export interface WaitingTask {
  index: number;
  task: Task;
}

export interface PausedRun {
  /** Bumped when the shape changes: an older record is then refused, not misread. */
  v: 1;
  /** RunState#toJSON() of the interrupted run, its context left out (tools get a fresh one). */
  run: Record<string, unknown>;
  /** The confirmation widget item. */
  widget: { id: string; createdAt: string };
  /** Every call that asked, the decided ones with their outcome. */
  calls: ApprovalCall[];
  /** The workflow showing the calls' tasks, as stored, and where each waiting call's task is. */
  workflow: { item: WorkflowItem; tasks: Record<string, WaitingTask> } | null;
}

/** Encodes a paused run; null when it is larger than a pause may store. */
export function encodePausedRun(record: PausedRun): string | null {
  const encoded = JSON.stringify(record);
  // Most characters are one byte: only a long string needs counting.
  if (encoded.length * 3 > MAX_PAUSE_STATE_BYTES && Buffer.byteLength(encoded, 'utf8') > MAX_PAUSE_STATE_BYTES) return null;
  return encoded;
}

export class UnreadablePauseError extends Error {
  constructor(cause: unknown) {
    super('the paused run cannot be read (stored by another version?)', { cause });
    this.name = 'UnreadablePauseError';
  }
}

export function decodePausedRun(encoded: string): PausedRun {
  let record: PausedRun;
  try {
    record = JSON.parse(encoded) as PausedRun;
  } catch (error) {
    throw new UnreadablePauseError(error);
  }
  if (record?.v !== 1 || !Array.isArray(record.calls) || typeof record.widget?.id !== 'string') throw new UnreadablePauseError(`version ${String(record?.v)}`);
  return record;
}

/**
 * The run's state as JSON. Its context (the AgentContext, with the store and the request) is
 * no part of it: the SDK requires a plain object there, and the resuming turn brings its own.
 */
export function serializeRun(result: { state: RunState<AgentContext, Agent<AgentContext, any>>; runContext: RunContext<AgentContext> }): Record<string, unknown> {
  const context = result.runContext.context;
  (result.runContext as RunContext<unknown>).context = {};
  try {
    return result.state.toJSON() as Record<string, unknown>;
  } finally {
    result.runContext.context = context;
  }
}

/** The interrupted run again, with the resuming turn's context for its tools. */
export async function restoreRun(agent: Agent<AgentContext, any>, record: PausedRun, context: AgentContext): Promise<RunState<AgentContext, Agent<AgentContext, any>>> {
  try {
    return await RunState.fromStringWithContext<AgentContext, Agent<AgentContext, any>>(agent, JSON.stringify(record.run), new RunContext(context), {
      contextStrategy: 'merge',
    });
  } catch (error) {
    throw new UnreadablePauseError(error);
  }
}

/** The call id of an approval item (function tools; other kinds have none we can answer). */
export function callIdOf(item: RunToolApprovalItem): string | undefined {
  const raw = item.rawItem as { type?: string; callId?: string };
  return raw.type === 'function_call' ? raw.callId : undefined;
}
