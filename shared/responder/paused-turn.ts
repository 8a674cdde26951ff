import { BadRequestError } from '../errors.js';
import type { Action } from '../protocol/index.js';
import type { PausedTurn } from '../store/store.js';

// The contract between the server and a responder whose turns can stop to wait for their user
// (tool calls that need approval): which widget actions answer a paused turn, what a responder
// asks to store when it pauses, and what the turn that takes a paused turn over receives.
// Free of the Agents SDK, so that the server routes an answer without loading it.

/** Approves one pending call (`payload.call_id`), or every one when the payload names none. */
export const APPROVE_ACTION = 'approval.approve';
/** Denies one pending call (`payload.call_id`), or every one when the payload names none. */
export const DENY_ACTION = 'approval.deny';

/** The most calls one pause may hold waiting; a responder decides the rest at once. */
export const MAX_PENDING_CALLS = 10;
/** The largest state a pause may store (UTF-8 bytes); a responder that would need more does not pause. */
export const MAX_PAUSE_STATE_BYTES = 1024 * 1024;
/** How long a pause waits for its answer unless configured (24 h). */
export const DEFAULT_PAUSE_SECONDS = 24 * 60 * 60;

/** A click on a confirmation widget's button: only ids; what it decides is what the server stored. */
export interface ApprovalClick {
  approved: boolean;
  /** The call it answers; absent: every call still pending. */
  callId?: string | undefined;
}

/** The click an action stands for, or null for any other action (the app's own). */
export function approvalClick(action: Action): ApprovalClick | null {
  if (action.type !== APPROVE_ACTION && action.type !== DENY_ACTION) return null;
  const payload = action.payload ?? {};
  const callId = typeof payload === 'object' && payload !== null && !Array.isArray(payload) ? (payload as { call_id?: unknown }).call_id : undefined;
  if (callId !== undefined && (typeof callId !== 'string' || callId.length === 0 || callId.length > 255)) {
    throw new BadRequestError(`${action.type}: payload.call_id: expected the id of a pending call`, 'invalid_params');
  }
  return { approved: action.type === APPROVE_ACTION, callId };
}

/** What a responder asks the server to store as its turn ends waiting for an answer. */
export interface PauseRequest {
  /** The item whose buttons answer it: shown (done) by this turn, usually as its last item. */
  itemId: string;
  /** The calls waiting, by id: at least one, at most MAX_PENDING_CALLS. */
  pending: string[];
  /** Everything the responder needs to carry on, on any instance: at most MAX_PAUSE_STATE_BYTES. */
  state: string;
}

/** How the user's side ended a paused turn. */
export type PauseResolution =
  /** The user clicked: these calls are approved or denied (the rest still wait). */
  | { type: 'decided'; decisions: Array<{ callId: string; approved: boolean }>; by: string; at: string }
  /** The user wrote a new message instead: every pending call is denied, and the model told. */
  | { type: 'superseded'; at: string }
  /** The wait ran out before anything came: every pending call is denied, and the model told. */
  | { type: 'expired'; at: string };

/** A paused turn that the current turn took over, with how it was resolved. */
export interface ResumedPause {
  paused: PausedTurn;
  resolution: PauseResolution;
}

/** Refuses a pause the store must not hold; the bounds are the server's, whatever the responder. */
export function checkPause(request: PauseRequest): void {
  if (request.pending.length === 0 || request.pending.length > MAX_PENDING_CALLS) {
    throw new Error(`a pause holds 1 to ${MAX_PENDING_CALLS} pending calls, not ${request.pending.length}`);
  }
  const bytes = Buffer.byteLength(request.state, 'utf8');
  if (bytes > MAX_PAUSE_STATE_BYTES) throw new Error(`a paused state holds at most ${MAX_PAUSE_STATE_BYTES} bytes, not ${bytes}`);
}
