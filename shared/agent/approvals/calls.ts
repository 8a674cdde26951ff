import type { JsonObject } from '../../protocol/index.js';

/** How a call that asked for approval ended on the user's side. */
export type CallOutcome =
  | { type: 'approved'; by: string; at: string }
  | { type: 'denied'; by: string; at: string }
  /** The user wrote a new message instead of answering. */
  | { type: 'superseded'; at: string }
  | { type: 'expired'; at: string }
  /** Decided by the server at once: more calls than a pause may hold, or a state too large to keep. */
  | { type: 'refused'; reason: string };

/** What the user is asked to approve, as the confirmation widget shows it. */
export interface ApprovalPrompt {
  /** What will be done, e.g. "Send an e-mail". */
  title: string;
  /** Widget components describing it (default: each argument as a line of plain text). */
  details?: JsonObject[] | undefined;
}

/** One tool call waiting for (or past) the user's approval. */
export interface ApprovalCall {
  /** The model's call id: what the widget's buttons name. */
  callId: string;
  /** The tool's name. */
  name: string;
  /** The model's arguments (JSON), as the run stored them: what an approval runs. */
  arguments: string;
  prompt: ApprovalPrompt;
  /** Undecided while absent. */
  outcome?: CallOutcome | undefined;
}

export const isPending = (call: ApprovalCall) => call.outcome === undefined;

/** What the model is told about a call that did not run. */
export function refusalForModel(outcome: CallOutcome): string {
  switch (outcome.type) {
    case 'denied':
      return 'The user denied this action: it was not run. Do not retry it unless the user asks.';
    case 'superseded':
      return 'The user did not approve this action and sent a new message instead: it was not run.';
    case 'expired':
      return 'The request for approval expired without an answer: the action was not run.';
    case 'refused':
      return `This action needs the user's approval and could not wait for it (${outcome.reason}): it was not run.`;
    case 'approved':
      throw new Error('an approved call runs');
  }
}
