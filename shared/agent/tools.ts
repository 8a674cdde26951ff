import { tool, type FunctionTool, type RunContext, type ToolToFinalOutputFunction } from '@openai/agents-core';
import type { z } from 'zod';
import type { JsonObject } from '../protocol/index.js';
import type { ApprovalPrompt } from './approvals/calls.js';
import { setApprovalPrompt, setArgumentCheck } from './approvals/prompts.js';
import type { AgentContext } from './context.js';

type ToolParameters = z.ZodObject<any, any>;
/** The longest function name the Responses API takes (the SDK turns any character but a letter or a digit into `_`). */
const TOOL_NAME_MAX = 64;
/** What the SDK knows about the call: the model's call item (with its call id) and the run's signal. */
export type ToolCallDetails = Parameters<FunctionTool['invoke']>[2];

export interface ServerToolOptions<P extends ToolParameters, R> {
  name: string;
  /** What the model reads to decide when to call it. */
  description: string;
  parameters: P;
  execute: (args: z.infer<P>, context: AgentContext, details?: ToolCallDetails) => R | Promise<R>;
  /**
   * Ask the user first: `true`, or a function of the call's arguments deciding per call. A call
   * that needs approval pauses the turn with a confirmation widget (Approve / Deny); the tool
   * runs only once approved, in the turn that the click starts, on whichever instance gets it.
   */
  needsApproval?: boolean | ((args: z.infer<P>, context: AgentContext) => boolean | Promise<boolean>) | undefined;
  /** What the confirmation widget shows for a call (default: the tool's name, then each argument). */
  approvalPrompt?: ((args: z.infer<P>) => ApprovalPrompt) | undefined;
}

/**
 * A tool that runs here, during the turn, with the turn's AgentContext. If it throws, the turn
 * ends with an error event and what it showed is taken back (throw TurnError to show the user
 * a message). A call whose arguments do not fit `parameters` is not run: the model is told why.
 * The SDK's own `tool()` works too, but hands every error to the model as text instead.
 */
export function serverTool<P extends ToolParameters, R>(options: ServerToolOptions<P, R>): FunctionTool<AgentContext, P, R> {
  const { needsApproval, approvalPrompt } = options;
  // Typed through the SDK's own bound: its conditional types do not resolve for a generic P.
  const made = tool<ToolParameters, AgentContext, R>({
    name: options.name,
    description: options.description,
    parameters: options.parameters,
    // What the tool's own code throws ends the turn (as documented above); arguments that do not
    // fit its parameters are the model's mistake: the model is told, and may call it again.
    errorFunction: (_runContext, error) => {
      if (error instanceof ToolCodeFailed) throw error.cause;
      return `The call was not run: its arguments do not fit the parameters of ${options.name} (${whatDoesNotFit(error)}). Call it again with arguments that fit.`;
    },
    execute: async (args: unknown, runContext?: RunContext<AgentContext>, details?: ToolCallDetails) => {
      try {
        return await options.execute(args as z.infer<P>, contextOf(runContext), details);
      } catch (error) {
        throw new ToolCodeFailed(error);
      }
    },
    // A call whose arguments do not fit is never put to the user. The policy (always a function,
    // `true` too) says no to it, so the SDK goes on to refuse it and the model reads which field
    // is wrong; a team's function is never handed it. Arguments that are not JSON never reach the
    // policy (the SDK asks about them regardless): a pause refuses those (setArgumentCheck below).
    ...(needsApproval
      ? {
          needsApproval: async (runContext: RunContext, args: unknown) => {
            const parsed = options.parameters.safeParse(args);
            return parsed.success && (needsApproval === true || needsApproval(parsed.data, contextOf(runContext as RunContext<AgentContext>)));
          },
        }
      : {}),
  });
  // The API refuses every request whose tools include a longer name: better to fail at start.
  if (made.name.length > TOOL_NAME_MAX) throw new Error(`the tool name "${made.name}" is ${made.name.length} characters long; the model API takes at most ${TOOL_NAME_MAX}`);
  if (approvalPrompt) setApprovalPrompt(made, approvalPrompt);
  if (needsApproval) setArgumentCheck(made, (args) => {
    const parsed = options.parameters.safeParse(args);
    return parsed.success ? null : `its arguments do not fit the parameters of ${options.name} (${parsed.error.issues.map((issue) => `${issue.path.join('.') || 'arguments'}: ${issue.message}`).join('; ').slice(0, 300)})`;
  });
  return made as unknown as FunctionTool<AgentContext, P, R>;
}

/**
 * The SDK's refusal of a call's arguments, as the model reads it: each field that does not fit
 * where the SDK keeps them (it drops them when tool data is not to be logged, its default), else
 * its own message.
 */
function whatDoesNotFit(error: unknown): string {
  const issues = (error as { originalError?: { issues?: Array<{ path?: PropertyKey[]; message?: string }> } } | undefined)?.originalError?.issues;
  const said = Array.isArray(issues) && issues.length ? issues.map((issue) => `${issue.path?.map(String).join('.') || 'arguments'}: ${issue.message}`).join('; ') : String((error as Error)?.message ?? error);
  return said.slice(0, 500);
}

/** What a server tool's own code threw, told apart from the SDK's refusal of the model's arguments. */
class ToolCodeFailed extends Error {
  constructor(override readonly cause: unknown) {
    super('the tool failed', { cause });
  }
}

export interface ClientToolOptions<P extends ToolParameters> {
  /** The name ChatKit's onClientTool receives. */
  name: string;
  description: string;
  /** The arguments the model fills in; the client receives them as `params`. */
  parameters: P;
}

/**
 * A tool the client runs (ChatKit's onClientTool): the turn ends with a pending
 * client_tool_call item, and threads.add_client_tool_output resumes the conversation with
 * the client's result. The agent needs `toolUseBehavior: stopAtClientToolCall`.
 */
export function clientTool<P extends ToolParameters>(options: ClientToolOptions<P>): FunctionTool<AgentContext, P, string> {
  return serverTool({
    ...options,
    execute: (args, context, details) => {
      context.requestClientToolCall({ name: options.name, arguments: args as JsonObject, callId: details?.toolCall?.callId });
      return 'Sent to the client; its result follows.';
    },
  });
}

/** toolUseBehavior for agents with client tools: the run stops once one is requested. */
export const stopAtClientToolCall: ToolToFinalOutputFunction = (runContext) =>
  (runContext.context as AgentContext | undefined)?.clientToolCall
    ? { isFinalOutput: true, isInterrupted: undefined, finalOutput: '' }
    : { isFinalOutput: false, isInterrupted: undefined };

function contextOf(runContext: { context: AgentContext } | undefined): AgentContext {
  if (!runContext?.context) throw new Error('this tool runs only inside an AgentResponder turn (no AgentContext)');
  return runContext.context;
}
