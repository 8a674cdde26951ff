import type { Agent, RunState } from '@openai/agents-core';
import type { PauseResolution } from '../../responder/paused-turn.js';
import type { AgentContext } from '../context.js';
import { isPending, refusalForModel, type ApprovalCall, type CallOutcome } from './calls.js';
import { callIdOf } from './paused-run.js';

/** The calls with what the user did: the decided ones get their outcome; the rest still wait. */
export function resolveCalls(calls: readonly ApprovalCall[], resolution: PauseResolution): ApprovalCall[] {
  const outcomeOf = (call: ApprovalCall): CallOutcome | undefined => {
    if (!isPending(call)) return call.outcome;
    switch (resolution.type) {
      case 'decided': {
        const decision = resolution.decisions.find((d) => d.callId === call.callId);
        if (!decision) return undefined;
        return { type: decision.approved ? 'approved' : 'denied', by: resolution.by, at: resolution.at };
      }
      case 'superseded':
      case 'expired':
        return { type: resolution.type, at: resolution.at };
    }
  };
  return calls.map((call) => ({ ...call, outcome: outcomeOf(call) }));
}

/**
 * Gives the interrupted run the calls' outcomes: approved calls run when it carries on, the
 * others' outputs tell the model why they did not. Calls still undecided interrupt it again.
 */
export function applyOutcomes(state: RunState<AgentContext, Agent<AgentContext, any>>, calls: readonly ApprovalCall[]): void {
  for (const item of state.getInterruptions()) {
    const outcome = calls.find((call) => call.callId === callIdOf(item))?.outcome;
    if (!outcome) continue;
    if (outcome.type === 'approved') state.approve(item);
    else state.reject(item, { message: refusalForModel(outcome) });
  }
}
